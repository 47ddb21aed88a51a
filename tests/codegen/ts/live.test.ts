// createServerState(..., { live: true }) against a real hypercorn serving tests/e2e/live_apps.py.
// Driven by tests/codegen/test_live_client.py, which sets BELAY_BASE_URL.
import { test } from "node:test";
import assert from "node:assert/strict";

import { createClient, createServerState, type Board, type BoardControllerLiveFrame } from "./generated/index.js";

const BASE_URL = process.env["BELAY_BASE_URL"] ?? "";
const LIMIT = { timeout: 30_000 };
const PAGE = "/rooms/ts";

function clientFor(viewer: string): ReturnType<typeof createClient> {
  return createClient({
    baseUrl: BASE_URL,
    headers: { "x-viewer": viewer },
    reconnect: { retries: 20, delayMs: 10, maxDelayMs: 100 },
  });
}

/** What `until` needs of a store. */
interface Watched {
  onChange(listener: () => void): () => void;
}

/** Resolve once `check` holds for the store (checked on every change; bounded by a timer). */
function until(store: Watched, check: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`never reached: ${what}`));
    }, 20_000);
    const attempt = (): void => {
      let ok = false;
      try {
        ok = check();
      } catch {
        ok = false; // no state yet
      }
      if (ok) {
        clearTimeout(timer);
        stop();
        resolve();
      }
    };
    const stop = store.onChange(attempt);
    attempt();
  });
}

test("test_live_state_follows_other_clients_broadcasts_and_drops", LIMIT, async () => {
  assert.ok(BASE_URL.startsWith("http://127.0.0.1:"), "BELAY_BASE_URL must be set");
  const alice = clientFor("alice");
  const bob = clientFor("bob");
  const a = createServerState(alice.BoardController, { page: PAGE, live: true });
  const b = createServerState(bob.BoardController, { page: PAGE, live: true });
  const statuses: string[] = [];
  a.onChange(() => {
    if (statuses[statuses.length - 1] !== a.status) statuses.push(a.status);
  });
  try {
    const first: Board = await a.load();
    await b.load();
    assert.equal(first.viewer, "alice");
    assert.equal(b.state.viewer, "bob");
    assert.equal(a.status, "open");

    // Another client's sideeffect reaches this one's state, rendered for this viewer.
    await bob.BoardController.add({ room: "ts", requestBody: { text: "from bob" } }, { page: PAGE });
    await until(a, () => a.state.notes.includes("from bob"), "alice sees bob's note");
    assert.equal(a.state.secret, "secret-of-alice");

    // broadcast() from a background task on the server reaches both.
    await alice.BoardController.later({ room: "ts", count: 5 });
    await until(a, () => a.state.count === 5, "alice sees the background count");
    await until(b, () => b.state.count === 5, "bob sees the background count");

    // A change nobody broadcasts, then a dropped connection: the resumed stream
    // starts with the full state, so the quiet change arrives too.
    await bob.BoardController.quiet({ room: "ts" }, { page: PAGE });
    assert.equal(a.state.count, 5);
    await alice.BoardController.drop({});
    await until(a, () => a.state.count === 105, "alice's resumed stream brings the full state");
    await until(a, () => a.status === "open", "alice is open again");
    assert.ok(statuses.includes("reconnecting"), `statuses: ${statuses.join(",")}`);
    assert.equal(a.state.viewer, "alice");
    assert.deepEqual(a.state.notes, ["from bob"]);
  } finally {
    a.close();
    b.close();
  }
});

test("test_live_frame_type_is_the_state_or_a_pick_of_reload_fields", () => {
  // Compile-time checks: a bump frame carries only `count`; a full frame is the state.
  const partial: BoardControllerLiveFrame = { count: 1 };
  const full: BoardControllerLiveFrame = {
    room: "r", count: 1, notes: [], viewer: "v", secret: "s",
  };
  assert.equal(partial.count, full.count);
});
