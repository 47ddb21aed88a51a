// A tracked stream survives a server restart: driven by test_client_e2e.py, which
// stops the server mid-stream and starts a new one on the same port.
import { test } from "node:test";
import assert from "node:assert/strict";

import { configure, ShopController } from "./generated/index.js";

test("test_client_tracked_stream_resumes_across_a_server_restart", { timeout: 30_000 }, async () => {
  configure({
    baseUrl: process.env["BELAY_BASE_URL"] ?? "",
    reconnect: { retries: 40, delayMs: 20, maxDelayMs: 200 },
  });
  const seen: number[] = [];
  for await (const tick of await ShopController.resumable({ limit: 12, slow: true })) seen.push(tick.n);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
});
