// The generated client's streaming sideeffects against a real hypercorn serving
// tests/e2e/progress_apps.py. Driven by tests/codegen/test_progress_client_e2e.py,
// which sets BELAY_BASE_URL.
import { before, test } from "node:test";
import assert from "node:assert/strict";

import {
  configure,
  createServerState,
  ImportController,
  ImportRefused,
  type ImportState,
  type Progress,
  type SideeffectStream,
} from "./generated/index.js";

const BASE_URL = process.env["BELAY_BASE_URL"] ?? "";
const LIMIT = { timeout: 15_000 };

before(() => {
  assert.ok(BASE_URL.startsWith("http://127.0.0.1:"), "BELAY_BASE_URL must be set");
  configure({ baseUrl: BASE_URL });
});

async function dones<S>(stream: SideeffectStream<Progress, S>): Promise<number[]> {
  const seen: number[] = [];
  for await (const progress of stream) seen.push(progress.done);
  return seen;
}

/** Poll the server's report for `room` until `check` holds (bounded: 400 x 25 ms). */
async function eventually(room: string, check: (events: string[]) => boolean): Promise<string[]> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const { passthrough } = await ImportController.report({ room });
    if (check(passthrough.events)) return passthrough.events;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`the server never reached the expected state for ${room}`);
}

test("test_progress_client_items_then_the_state", LIMIT, async () => {
  const stream = await ImportController.import_rows(
    { room: "p1", count: 3 },
    { page: "/rooms/p1", headers: { "X-Viewer": "ada" } },
  );
  assert.deepEqual(await dones(stream), [1, 2, 3]);
  const result = await stream.result;
  const state: ImportState = result.sideeffect;
  assert.deepEqual(state, { room: "p1", imported: 3, viewer: "ada" });
  assert.equal(result.passthrough, null);
});

test("test_progress_client_result_alone_reads_the_whole_stream", LIMIT, async () => {
  const stream = await ImportController.import_rows({ room: "p2", count: 4 }, { page: "/rooms/p2" });
  assert.equal((await stream.result).sideeffect.imported, 4);
  assert.deepEqual(await dones(stream), [1, 2, 3, 4]); // read ahead, still all there
});

test("test_progress_client_reload_state_is_a_pick", LIMIT, async () => {
  const stream = await ImportController.import_counted({ room: "p3", count: 2 }, { page: "/rooms/p3" });
  const { sideeffect } = await stream.result;
  const imported: number = sideeffect.imported;
  // @ts-expect-error only the reload fields are typed (and sent)
  void sideeffect.room;
  assert.deepEqual(sideeffect, { imported: 2 });
  assert.equal(imported, 2);
});

test("test_progress_client_error_before_the_first_item_throws_at_the_await", LIMIT, async () => {
  await assert.rejects(
    ImportController.import_rows({ room: "p4", count: 3, fail_at: 1 }, { page: "/rooms/p4" }),
    (error: unknown) => error instanceof ImportRefused && error.status === 409 && error.body.at === 1,
  );
});

test("test_progress_client_error_after_items_state_first_then_typed_error", LIMIT, async () => {
  const stream = await ImportController.import_rows(
    { room: "p5", count: 5, fail_at: 3 },
    { page: "/rooms/p5" },
  );
  const seen: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const progress of stream) seen.push(progress.done);
    })(),
    (error: unknown) => error instanceof ImportRefused && error.body.at === 3,
  );
  assert.deepEqual(seen, [1, 2]);
  // the partial import is in the state, which arrived before the error
  assert.equal((await stream.result).sideeffect.imported, 2);
});

test("test_progress_client_server_state_merges_the_state_when_it_arrives", LIMIT, async () => {
  const server = createServerState(ImportController, { page: "/rooms/p6" });
  await server.load();
  assert.equal(server.state.imported, 0);
  const changes: number[] = [];
  server.subscribe((state) => changes.push(state.imported));
  const stream = await server.import_counted({ room: "p6", count: 3 });
  const result = await stream.result;
  // merged before `result` resolved for us: reload fields replaced, the rest kept
  assert.deepEqual(server.state, { room: "p6", imported: 3, viewer: "anonymous" });
  assert.deepEqual(result.sideeffect, { imported: 3 });
  assert.deepEqual(changes, [3]);
});

test("test_progress_client_break_on_cancel_action_stops_it_on_the_server", LIMIT, async () => {
  const stream = await ImportController.held_cancel({ room: "p7", count: 3 }, { page: "/rooms/p7" });
  for await (const progress of stream) {
    assert.equal(progress.done, 1);
    break;
  }
  await assert.rejects(stream.result); // the connection closed before any state
  const events = await eventually("p7", (e) => e.includes("cleanup"));
  assert.deepEqual(events, ["generator closed", "cleanup"]);
  await ImportController.release({ room: "p7" });
  const { passthrough } = await ImportController.report({ room: "p7" });
  assert.equal(passthrough.imported, 1);
});

test("test_progress_client_break_on_finish_action_lets_it_run_to_the_end", LIMIT, async () => {
  const stream = await ImportController.held({ room: "p8", count: 3 }, { page: "/rooms/p8" });
  for await (const progress of stream) {
    assert.equal(progress.done, 1);
    break;
  }
  await assert.rejects(stream.result);
  await ImportController.release({ room: "p8" });
  const events = await eventually("p8", (e) => e.includes("cleanup"));
  assert.deepEqual(events, ["generator finished", "generator closed", "cleanup"]);
  const state = await ImportController.render({ page: "/rooms/p8" });
  assert.equal(state.imported, 3);
});
