// createClient, resets, ids across reconnects, auth on reconnect and `/live`,
// against a real hypercorn whose scripted answers (tests/codegen/scripted.py)
// frame what the channel and live-state servers send.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  BelayNetworkError,
  configure,
  CounterController,
  createClient,
  createServerState,
  NotAllowed,
  ShopController,
  type ConnectionStatus,
  type Tick,
} from "./generated/index.js";

const BASE_URL = process.env["BELAY_BASE_URL"] ?? "";
const LIMIT = { timeout: 15_000 };
const FAST = { retries: 3, delayMs: 10, maxDelayMs: 50 };

async function until(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 400 && !check(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.ok(check(), "condition not reached");
}

test("test_scripted_create_client_binds_its_own_configuration", LIMIT, async () => {
  configure({ baseUrl: "http://127.0.0.1:1", reconnect: FAST });
  try {
    const api = createClient({ baseUrl: BASE_URL });
    const { passthrough } = await api.CounterController.peek({ room: "own" }, { page: "/rooms/own" });
    assert.equal(passthrough.room, "own");
    // The top-level exports still use the default client, configured elsewhere.
    await assert.rejects(CounterController.peek({ room: "own" }), BelayNetworkError);
    const unreachable = createClient({ baseUrl: "http://127.0.0.1:1" });
    await assert.rejects(unreachable.CounterController.peek({ room: "x" }), BelayNetworkError);
  } finally {
    configure({ baseUrl: BASE_URL });
  }
});

test("test_scripted_reset_calls_on_reset_and_repeats_are_dropped", LIMIT, async () => {
  let headerCalls = 0;
  const api = createClient({
    baseUrl: BASE_URL,
    reconnect: FAST,
    headers: () => ({ "X-Test-Script": "reset", "X-Call": String(++headerCalls) }),
  });
  const statuses: ConnectionStatus[] = [];
  const resets: string[] = [];
  const stream = await api.ShopController.forever(
    {},
    { onStatus: (s) => statuses.push(s), onReset: (p) => resets.push(p) },
  );
  const seen: number[] = [];
  for await (const tick of stream) seen.push(tick.n);
  assert.deepEqual(seen, [1, 2, 3, 4]); // the repeated e1-2 is not yielded twice
  assert.deepEqual(resets, ["e2-0"]);
  assert.deepEqual(statuses, ["open", "reconnecting", "open", "closed"]);
  assert.equal(headerCalls, 2); // once per connection
});

test("test_scripted_forbidden_reconnect_ends_with_typed_error_without_retrying", LIMIT, async () => {
  const tokens: string[] = [];
  const api = createClient({
    baseUrl: BASE_URL,
    reconnect: FAST,
    headers: async () => {
      const token = `token-${tokens.length + 1}`;
      tokens.push(token);
      return { "X-Test-Script": "expired", Authorization: token };
    },
  });
  const statuses: ConnectionStatus[] = [];
  const stream = await api.ShopController.forever({}, { onStatus: (s) => statuses.push(s) });
  const seen: Tick[] = [];
  const error = await (async () => {
    for await (const tick of stream) seen.push(tick);
  })().catch((e: unknown) => e);
  assert.ok(error instanceof NotAllowed, String(error));
  assert.equal(error.body.reason, "token expired");
  assert.deepEqual(seen, [{ n: 1 }]);
  assert.deepEqual(tokens, ["token-1", "token-2"]); // a fresh token for the reconnect, one retry only
  assert.deepEqual(statuses, ["open", "reconnecting", "closed"]);
});

test("test_scripted_live_server_state_merges_partials_and_starts_over_on_reconnect", LIMIT, async () => {
  const api = createClient({ baseUrl: BASE_URL, reconnect: FAST });
  const server = createServerState(api.CounterController, { page: "/rooms/lobby", live: true });
  const statuses: ConnectionStatus[] = [];
  server.onChange(() => {
    if (statuses.at(-1) !== server.status) statuses.push(server.status);
  });
  const first = await server.load();
  assert.deepEqual(first, { count: 1, room: "lobby" });
  await until(() => server.loaded && server.state.count === 6);
  assert.deepEqual(server.state, { count: 6, room: "lobby" }); // full state 5 replaced, then merged
  assert.equal(server.status, "open");
  assert.ok(statuses.includes("reconnecting"), statuses.join(","));
  server.close();
  assert.equal(server.status, "closed");
  assert.equal(server.error, undefined);
});

test("test_scripted_server_state_reloads_on_a_stream_reset", LIMIT, async () => {
  const api = createClient({ baseUrl: BASE_URL, reconnect: FAST, headers: { "X-Test-Script": "reset" } });
  const server = createServerState(api.ShopController, { page: "/shop/reset" });
  let loads = 0;
  server.subscribe(() => loads++);
  const stream = await server.forever({});
  for await (const _ of stream) assert.equal(server.status, "open");
  await until(() => loads === 1); // the reset reloaded the page state
  assert.equal(server.state.shop, "reset");
  assert.equal(server.status, "closed");
});

test("test_scripted_default_exports_follow_configure", LIMIT, async () => {
  configure({ baseUrl: BASE_URL });
  const { passthrough } = await ShopController.ping();
  assert.equal(typeof passthrough, "string");
});
