// Type-level checks of the generated client (compiled with tsc --strict, never run).
// The first block is DESIGN.md's example, verbatim in spirit.
import {
  BelayValidationError,
  Color,
  configure,
  CounterController,
  createClient,
  createServerState,
  NotAllowed,
  RoomFull,
  ShopController,
  type ApiClient,
  type BaseShop,
  type ConnectionStatus,
  type CounterState,
  type Owner,
  type Tick,
} from "./generated/index.js";

export async function designExample(signal: AbortSignal): Promise<void> {
  configure({ baseUrl: "http://127.0.0.1:8000" });
  const state: CounterState = await CounterController.render({ page: "/rooms/lobby" });
  const res = await CounterController.increment({ room: "lobby", requestBody: { count: 5 } });
  res.sideeffect.count satisfies number;
  const stream = await CounterController.ticks({ limit: 3 }, { signal });
  for await (const tick of stream) console.log(tick.n);
  try {
    await CounterController.peek({ room: "x" });
  } catch (e) {
    if (e instanceof RoomFull) e.body.detail satisfies string;
  }
  const server = createServerState(CounterController, { page: "/rooms/lobby" });
  await server.load();
  await server.increment({ room: "lobby", requestBody: { count: 1 } });
  server.state.count satisfies number;
  console.log(state);
}

export async function typeChecks(): Promise<void> {
  const bumped = await CounterController.bump({ room: "lobby" });
  bumped.sideeffect.count satisfies number;
  // @ts-expect-error reload=(CounterState.count,) leaves only `count` in the sideeffect
  bumped.sideeffect.room;
  // @ts-expect-error requestBody is required when the action takes a body
  await CounterController.increment({ room: "lobby" });
  // @ts-expect-error unknown query parameter
  await CounterController.bump({ room: "lobby", nope: 1 });

  const titled = await ShopController.set_title({ shop: "a", title: "b" });
  titled.passthrough satisfies number;
  titled.sideeffect.title satisfies string;

  const found = await ShopController.lookup({ ids: [1], color: Color.DARK_BLUE, limit: null });
  found.passthrough.items[0]?.zipCode satisfies string | undefined;
  try {
    await ShopController.lookup({ ids: [0] });
  } catch (e) {
    if (e instanceof NotAllowed) e.body.reason satisfies string | null;
    if (e instanceof RoomFull) e.body.capacity satisfies number;
    if (e instanceof BelayValidationError) e.body.detail[0]?.loc satisfies (string | number)[] | undefined;
  }

  const shop: BaseShop<unknown> = ShopController; // controller inheritance is kept
  (await shop.ping()).passthrough satisfies string;

  const owner = {} as Owner;
  if (owner.pet.kind === "cat") owner.pet.meows satisfies number;
  else owner.pet.barks satisfies boolean; // narrowed on the discriminator

  const server = createServerState(ShopController, { page: "/shop/a" });
  server.subscribe((s) => s.title satisfies string)();
  const t: Tick = { n: 1 };
  console.log(t);
}

export async function clientAdditions(): Promise<void> {
  const api: ApiClient = createClient({
    baseUrl: "http://127.0.0.1:8001",
    headers: async () => ({ Authorization: "Bearer x" }),
    reconnect: { retries: 2 },
  });
  (await api.CounterController.peek({ room: "x" })).passthrough.count satisfies number;
  const statuses: ConnectionStatus[] = [];
  const stream = await api.ShopController.resumable(
    { limit: 3 },
    { onStatus: (s) => statuses.push(s), onReset: (position: string) => console.log(position) },
  );
  for await (const tick of stream) tick.n satisfies number;

  // Enums are erasable: a value object and a union type of the same name.
  const color: Color = Color.DARK_BLUE;
  color satisfies "red" | "navy";
  // @ts-expect-error: a string outside the union is not a Color
  const wrong: Color = "blue";
  console.log(wrong, Object.keys(Color));

  const live = createServerState(api.CounterController, { page: "/rooms/a", live: true });
  live.status satisfies ConnectionStatus;
  live.onChange(() => live.error)();
  live.close();
}
