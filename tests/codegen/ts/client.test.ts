// The generated client against a real hypercorn serving tests/codegen/fixture_app.py.
// Driven by tests/codegen/test_client_e2e.py, which sets BELAY_BASE_URL.
import { before, test } from "node:test";
import assert from "node:assert/strict";

import {
  BelayHTTPError,
  BelayNetworkError,
  BelayValidationError,
  Color,
  configure,
  CounterController,
  createServerState,
  NotAllowed,
  Priority,
  RoomFull,
  ShopController,
  type Catalog,
  type Tick,
} from "./generated/index.js";

const BASE_URL = process.env["BELAY_BASE_URL"] ?? "";
const LIMIT = { timeout: 15_000 };

before(() => {
  assert.ok(BASE_URL.startsWith("http://127.0.0.1:"), "BELAY_BASE_URL must be set");
  configure({ baseUrl: BASE_URL, reconnect: { retries: 3, delayMs: 10, maxDelayMs: 50 } });
});

async function collect(stream: AsyncGenerator<Tick>): Promise<number[]> {
  const seen: number[] = [];
  for await (const tick of stream) seen.push(tick.n);
  return seen;
}

/** Poll the server's stream log until `check` holds (bounded: 200 x 25 ms). */
async function eventually(check: (closed: string[], resumed: (string | null)[]) => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const { passthrough } = await ShopController.stream_log();
    if (check(passthrough.closed, passthrough.resumed_from)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail("the server never reached the expected stream state");
}

async function closedCount(name: string): Promise<number> {
  const { passthrough } = await ShopController.stream_log();
  return passthrough.closed.filter((n) => n === name).length;
}

test("test_client_render_reads_page_params_from_page_option", LIMIT, async () => {
  const state = await ShopController.render({ page: "/shop/north?q=socks" });
  assert.deepEqual(state, { shop: "north", items: [], title: "untitled", query: "socks" });
});

test("test_client_sideeffect_returns_full_state_and_passthrough", LIMIT, async () => {
  const res = await CounterController.increment(
    { room: "a", requestBody: { count: 5 } },
    { page: "/rooms/a" },
  );
  assert.deepEqual(res, { sideeffect: { count: 5, room: "a" }, passthrough: null });
  const inherited = await ShopController.add_item(
    { shop: "s1", requestBody: { name: "pen" } },
    { page: "/shop/s1" },
  );
  assert.deepEqual(inherited.sideeffect.items, [{ name: "pen", quantity: 1 }]);
});

test("test_client_reload_filter_sends_only_the_picked_fields", LIMIT, async () => {
  const bumped = await CounterController.bump({ room: "b" }, { page: "/rooms/b" });
  assert.deepEqual(bumped.sideeffect, { count: 1 });
  const titled = await ShopController.set_title({ shop: "t", title: "hello" }, { page: "/shop/t" });
  assert.deepEqual(titled, { sideeffect: { title: "hello" }, passthrough: 5 });
});

test("test_client_passthrough_query_lists_enums_null_and_aliases", LIMIT, async () => {
  assert.deepEqual(await ShopController.ping(), { passthrough: "pong" });
  const found = await ShopController.lookup({ ids: [4, 5, 6], color: Color.DARK_BLUE, limit: null });
  assert.equal(found.passthrough.total, 3);
  assert.deepEqual(found.passthrough.items[1], { street: "navy 5", zipCode: "5" });
});

test("test_client_body_round_trips_every_mapped_type", LIMIT, async () => {
  // Typed as the generated Catalog (no casts): the TS types accept it, and the
  // server sends back exactly the same JSON, so types and wire data agree.
  const sample: Catalog = {
    scalars: {
      text: "t",
      whole: 3,
      ratio: 0.5,
      price: "1.50",
      flag: true,
      nothing: null,
      at: "2024-01-02T03:04:05Z",
      day: "2024-01-02",
      clock: "03:04:05",
      ident: "12345678-1234-5678-1234-567812345678",
    },
    collections: {
      tags: ["a", "b"],
      pair: [1, "x"],
      many: [1, 2, 3],
      unique: [7],
      frozen: ["f"],
      scores: { a: 1.5 },
      nested: { home: [{ street: "s", zipCode: "z" }] },
    },
    optionals: { maybe: null, defaulted: 4, maybe_defaulted: "m", made: [1] },
    literals: { mode: "fast", level: 2, yes: true, red: Color.RED, either: { street: "x", zipCode: "1" } },
    owner: { pet: { kind: "dog", barks: true }, color: Color.DARK_BLUE, priority: Priority.HIGH },
    tree: { name: "root", children: [{ name: "leaf", children: [] }] },
    pet: { name: "rex", owner: "ann", label: "ignored on input" },
  };
  const { passthrough } = await ShopController.catalog({ requestBody: sample });
  assert.deepEqual(passthrough, { ...sample, pet: { name: "rex", owner: "ann", label: "rex (ann)" } });
});

test("test_client_api_exceptions_become_their_typed_classes", LIMIT, async () => {
  await assert.rejects(ShopController.lookup({ ids: [0] }), (error: unknown) => {
    assert.ok(error instanceof RoomFull);
    assert.equal(error.status, 409);
    assert.deepEqual(error.body, { detail: "room is full", capacity: 3 });
    return true;
  });
  await assert.rejects(ShopController.lookup({ ids: [-1] }), (error: unknown) => {
    assert.ok(error instanceof NotAllowed);
    assert.equal(error.body.reason, "negative");
    return true;
  });
  await assert.rejects(CounterController.peek({ room: "full" }), RoomFull);
});

test("test_client_unexpected_500_is_a_plain_http_error", LIMIT, async () => {
  await assert.rejects(ShopController.lookup({ ids: [-2] }), (error: unknown) => {
    assert.ok(error instanceof BelayHTTPError);
    assert.ok(!(error instanceof RoomFull) && !(error instanceof NotAllowed));
    assert.equal(error.status, 500);
    assert.deepEqual(error.body, { detail: "Internal Server Error" });
    return true;
  });
});

test("test_client_validation_error_is_typed", LIMIT, async () => {
  const bad = { ids: ["x"] } as unknown as { ids: number[] };
  await assert.rejects(ShopController.lookup(bad), (error: unknown) => {
    assert.ok(error instanceof BelayValidationError);
    assert.equal(error.status, 422);
    assert.ok(error.body.detail.some((issue) => issue.loc.includes("ids")));
    return true;
  });
});

test("test_client_unreachable_server_is_a_network_error", LIMIT, async () => {
  configure({ baseUrl: "http://127.0.0.1:1" });
  try {
    await assert.rejects(ShopController.ping(), BelayNetworkError);
  } finally {
    configure({ baseUrl: BASE_URL });
  }
});

test("test_client_stream_for_await_reads_items_until_end", LIMIT, async () => {
  assert.deepEqual(await collect(await ShopController.ticks({ limit: 4 })), [0, 1, 2, 3]);
  assert.deepEqual(await collect(await CounterController.ticks({ limit: 0 })), []);
});

test("test_client_stream_http_error_throws_at_the_await", LIMIT, async () => {
  const missing = {} as { limit: number };
  await assert.rejects(ShopController.ticks(missing), BelayValidationError);
});

test("test_client_stream_error_before_the_first_item_throws_typed_error_at_the_await", LIMIT, async () => {
  await assert.rejects(ShopController.ticks({ limit: 5, fail_at: 0 }), (error: unknown) => {
    assert.ok(error instanceof RoomFull);
    assert.equal(error.body.capacity, 0);
    return true;
  });
});

test("test_client_stream_error_event_throws_typed_error_inside_the_loop", LIMIT, async () => {
  const stream = await ShopController.ticks({ limit: 5, fail_at: 2 });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const tick of stream) seen.push(tick.n);
    })(),
    (error: unknown) => {
      assert.ok(error instanceof RoomFull);
      assert.equal(error.body.capacity, 2);
      return true;
    },
  );
  assert.deepEqual(seen, [0, 1]);
});

test("test_client_stream_break_cancels_on_the_server", LIMIT, async () => {
  const before = await closedCount("forever");
  const seen: number[] = [];
  for await (const tick of await ShopController.forever()) {
    seen.push(tick.n);
    if (seen.length === 3) break;
  }
  assert.deepEqual(seen, [0, 1, 2]);
  await eventually((closed) => closed.filter((n) => n === "forever").length === before + 1);
});

test("test_client_stream_abort_signal_stops_the_loop_and_the_server", LIMIT, async () => {
  const before = await closedCount("forever");
  const controller = new AbortController();
  const stream = await ShopController.forever({}, { signal: controller.signal });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const tick of stream) {
        seen.push(tick.n);
        if (seen.length === 2) controller.abort();
      }
    })(),
    (error: unknown) => error instanceof Error && error.name === "AbortError",
  );
  assert.deepEqual(seen, [0, 1]);
  await eventually((closed) => closed.filter((n) => n === "forever").length === before + 1);
});

test("test_client_unstarted_stream_return_still_closes_the_connection", LIMIT, async () => {
  const before = await closedCount("forever");
  const stream = await ShopController.forever();
  await stream.return(undefined);
  await eventually((closed) => closed.filter((n) => n === "forever").length === before + 1);
});

test("test_client_tracked_stream_resumes_with_last_event_id_after_a_cut", LIMIT, async () => {
  const stream = await ShopController.resumable({ limit: 6 }, { headers: { "X-Test-Cut-After": "3" } });
  assert.deepEqual(await collect(stream), [0, 1, 2, 3, 4, 5]);
  await eventually((_, resumed) => resumed.length >= 2 && resumed.at(-1) === "2" && resumed.at(-2) === null);
});

test("test_client_untracked_stream_cut_throws_network_error", LIMIT, async () => {
  const stream = await ShopController.forever({}, { headers: { "X-Test-Cut-After": "2" } });
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const tick of stream) seen.push(tick.n);
    })(),
    BelayNetworkError,
  );
  assert.deepEqual(seen, [0, 1]);
});

test("test_client_server_state_loads_merges_and_notifies", LIMIT, async () => {
  const server = createServerState(CounterController, { page: "/rooms/store" });
  assert.equal(server.loaded, false);
  assert.throws(() => server.state);
  const seen: number[] = [];
  const unsubscribe = server.subscribe((state) => seen.push(state.count));
  assert.deepEqual(await server.load(), { count: 0, room: "store" });
  await server.increment({ room: "store", requestBody: { count: 2 } });
  assert.deepEqual(server.state, { count: 2, room: "store" });
  await server.bump({ room: "store" });
  assert.deepEqual(server.state, { count: 3, room: "store" });
  const peeked = await server.peek({ room: "store" });
  assert.equal(peeked.passthrough.count, 3);
  unsubscribe();
  await server.bump({ room: "store" });
  assert.deepEqual(seen, [0, 2, 3]);
  assert.equal(server.state.count, 4);
});

test("test_client_configure_headers_function_is_called_per_request", LIMIT, async () => {
  let calls = 0;
  configure({
    headers: () => {
      calls++;
      return { "X-Trace": String(calls) };
    },
  });
  try {
    await ShopController.ping();
    await ShopController.ping();
    assert.equal(calls, 2);
  } finally {
    configure({ headers: {} });
  }
});

test("test_client_server_state_stale_load_does_not_undo_a_later_sideeffect", LIMIT, async () => {
  const server = createServerState(CounterController, { page: "/rooms/race" });
  await server.load();
  let rendered!: () => void;
  let release!: () => void;
  const renderedOnServer = new Promise<void>((resolve) => (rendered = resolve));
  const held = new Promise<void>((resolve) => (release = resolve));
  // The render answer (count 0) is held back in transit until the increment is applied.
  configure({
    fetch: async (input, init) => {
      const response = await globalThis.fetch(input, init);
      if (init.method === "GET") {
        rendered();
        await held;
      }
      return response;
    },
  });
  try {
    const stale = server.load();
    await renderedOnServer;
    await server.increment({ room: "race", requestBody: { count: 5 } });
    assert.equal(server.state.count, 5);
    release();
    await stale;
    assert.equal(server.state.count, 5);
  } finally {
    release();
    configure({ fetch: (input, init) => globalThis.fetch(input, init) });
  }
});

test("test_client_finished_streams_leave_no_listener_on_the_callers_signal", LIMIT, async () => {
  const { EventEmitter } = await import("node:events");
  const page = new AbortController(); // e.g. one signal for a page's lifetime
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await collect(await ShopController.ticks({ limit: 2 }, { signal: page.signal })), [0, 1]);
    const stream = await ShopController.forever({}, { signal: page.signal });
    for await (const tick of stream) if (tick.n === 1) break;
  }
  assert.equal(EventEmitter.getEventListeners(page.signal, "abort").length, 0);
});
