// Belay's SSE framing read by a third-party parser (npm `eventsource-parser`),
// from a real hypercorn. Driven by tests/codegen/test_thirdparty_sse.py.
import { test } from "node:test";
import assert from "node:assert/strict";

import { createParser, type EventSourceMessage } from "eventsource-parser";

import { SSEParser } from "./runtime/sse.js";

const BASE_URL = process.env["BELAY_BASE_URL"] ?? "";
const PREFIX = "/internal/api/StreamController";
const LIMIT = { timeout: 15_000 };

async function body(action: string, query: string): Promise<string> {
  const response = await fetch(`${BASE_URL}${PREFIX}/${action}?${query}`, {
    method: "POST",
    headers: { Accept: "text/event-stream" },
  });
  assert.equal(response.status, 200);
  return response.text();
}

function thirdParty(text: string): { events: EventSourceMessage[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onComment: (c) => comments.push(c) });
  parser.feed(text);
  return { events, comments };
}

/**
 * What clients that dispatch on every blank line see (fetch-event-source,
 * httpx-sse): one event per blank-line-terminated block; a block without a
 * data line is an empty event to them.
 */
function blocksWithoutData(text: string): string[] {
  return text
    .split("\n\n")
    .slice(0, -1)
    .filter((block) => !block.split("\n").some((line) => line.startsWith("data:")));
}

test("test_thirdparty_parser_reads_items_ids_and_end_as_ours_does", LIMIT, async () => {
  const text = await body("resumable", "limit=3");
  const { events } = thirdParty(text);
  const ours = new SSEParser().push(text);
  assert.deepEqual(
    events.map((e) => [e.event ?? "message", e.data, e.id ?? ""]),
    ours.map((e) => [e.type, e.data, e.id ?? ""]),
  );
  assert.deepEqual(
    events.map((e) => e.id),
    ["0", "1", "2", undefined],
  );
  assert.equal(events.at(-1)?.event, "end");
});

test("test_thirdparty_parser_reads_the_error_event", LIMIT, async () => {
  const { events } = thirdParty(await body("fail_mid", "kind=api"));
  const last = events.at(-1);
  assert.equal(last?.event, "error");
  assert.deepEqual(JSON.parse(last?.data ?? "null"), {
    status: 409,
    type: "RoomFull",
    body: { detail: "room is full", capacity: 3 },
  });
});

test("test_thirdparty_pings_are_comments_and_never_an_empty_event", LIMIT, async () => {
  const text = await body("pauses", "pause=0.12&count=2");
  const { events, comments } = thirdParty(text);
  assert.ok(comments.filter((c) => c.trim() === "ping").length >= 2, JSON.stringify(text));
  assert.deepEqual(
    events.map((e) => e.event ?? "message"),
    ["message", "message", "end"],
  );
  assert.deepEqual(blocksWithoutData(text), []);
});

test("test_thirdparty_id_line_comes_after_the_data_it_names", LIMIT, async () => {
  // A client that adopts an id as soon as it reads the line must not resume
  // past an event whose data it never got: the id is the frame's last line.
  const text = await body("resumable", "limit=2");
  for (const block of text.split("\n\n").filter((b) => b.includes("id:"))) {
    assert.match(block, /\nid: [^\n]*$/);
  }
});
