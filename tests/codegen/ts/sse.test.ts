// Unit tests of the runtime's SSE parser (codegen/runtime/sse.ts), run by node:test.
import { test } from "node:test";
import assert from "node:assert/strict";

import { lastEventIdHeader, readEvents, SSEParser, type SSEEvent } from "./runtime/sse.js";

function parseAll(...chunks: string[]): SSEEvent[] {
  const parser = new SSEParser();
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const SAMPLE =
  ": ping\r\n" +
  "id: 1\r\ndata: {\"n\": 0}\r\n\r\n" +
  "event: tick\ndata: first\ndata:second\n\n" +
  "data: cr only\rid: 7\r\r" +
  "retry: 1500\n: comment\ndata\n\n" +
  "data: ünïcødé ✓\n\n" +
  "event: end\ndata: {}\n\n";

test("test_sse_parser_sample_events", () => {
  assert.deepEqual(parseAll(SAMPLE), [
    { type: "message", data: '{"n": 0}', lastEventId: "1", id: "1" },
    { type: "tick", data: "first\nsecond", lastEventId: "1", id: undefined },
    { type: "message", data: "cr only", lastEventId: "7", id: "7" },
    { type: "message", data: "", lastEventId: "7", id: undefined },
    { type: "message", data: "ünïcødé ✓", lastEventId: "7", id: undefined },
    { type: "end", data: "{}", lastEventId: "7", id: undefined },
  ]);
});

test("test_sse_parser_every_two_way_split_gives_the_same_events", () => {
  const whole = parseAll(SAMPLE);
  for (let i = 0; i <= SAMPLE.length; i++) {
    assert.deepEqual(parseAll(SAMPLE.slice(0, i), SAMPLE.slice(i)), whole, `split at ${i}`);
  }
});

test("test_sse_parser_one_character_chunks_and_random_splits", () => {
  const whole = parseAll(SAMPLE);
  assert.deepEqual(parseAll(...SAMPLE.split("")), whole);
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let round = 0; round < 200; round++) {
    const chunks: string[] = [];
    let at = 0;
    while (at < SAMPLE.length) {
      const size = 1 + Math.floor(random() * 12);
      chunks.push(SAMPLE.slice(at, at + size), "");
      at += size;
    }
    assert.deepEqual(parseAll(...chunks), whole, `round ${round}`);
  }
});

test("test_sse_parser_crlf_split_between_cr_and_lf_is_one_line_end", () => {
  assert.deepEqual(parseAll("data: a\r", "\n", "\r", "\ndata: b\r\n\r\n"), [
    { type: "message", data: "a", lastEventId: "", id: undefined },
    { type: "message", data: "b", lastEventId: "", id: undefined },
  ]);
});

test("test_sse_parser_field_rules", () => {
  const parser = new SSEParser();
  const events = parser.push(
    "data:  two spaces\n\n" + // only one leading space is stripped
      "id: a\u0000b\ndata: x\n\n" + // an id with NUL is ignored
      "retry: 12x\nretry: 250\n" + // a non-numeric retry is ignored
      "event: lonely\n\n" + // no data: nothing dispatched, type reset
      "data: y\n\n" +
      "unknown: field\ndata: z\n\n" +
      "id\ndata: w\n\n", // `id` without a colon clears the id
  );
  assert.deepEqual(
    events.map((e) => [e.type, e.data, e.lastEventId]),
    [
      ["message", " two spaces", ""],
      ["message", "x", ""],
      ["message", "y", ""],
      ["message", "z", ""],
      ["message", "w", ""],
    ],
  );
  assert.equal(parser.retry, 250);
});

test("test_sse_parser_id_persists_until_changed_and_comments_are_counted", () => {
  const parser = new SSEParser();
  const events = parser.push("id: 5\ndata: a\n\n: ping\n\n:\ndata: b\n\nid: 6\n\n");
  assert.deepEqual(
    events.map((e) => e.lastEventId),
    ["5", "5"],
  );
  assert.equal(parser.lastEventId, "6");
  assert.equal(parser.comments, 2);
});

function bodyOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

test("test_read_events_decodes_utf8_split_inside_a_character_and_drops_incomplete_tail", async () => {
  const bytes = new TextEncoder().encode("data: ✓é\n\ndata: unfinished");
  const chunks = Array.from(bytes, (byte) => Uint8Array.of(byte));
  const seen: SSEEvent[] = [];
  for await (const event of readEvents(bodyOf(chunks))) seen.push(event);
  assert.deepEqual(seen, [{ type: "message", data: "✓é", lastEventId: "", id: undefined }]);
});

test("test_read_events_break_cancels_the_body", async () => {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("data: 1\n\ndata: 2\n\n"));
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const event of readEvents(body)) {
    assert.equal(event.data, "1");
    break;
  }
  assert.equal(cancelled, true);
});

test("test_sse_parser_reset_drops_partial_event_but_keeps_last_id", () => {
  const parser = new SSEParser();
  assert.deepEqual(parser.push("retry: 100\nid: 2\ndata: 2\n\nid: 3\ndata: {\"n\":"), [
    { type: "message", data: "2", lastEventId: "2", id: "2" },
  ]);
  parser.reset(); // the connection dropped mid-event; a new one starts after id 2
  assert.deepEqual(parser.push("id: 3\ndata: 3\n\n"), [{ type: "message", data: "3", lastEventId: "3", id: "3" }]);
  assert.equal(parser.retry, 100);
  parser.push("id: 9\r");
  parser.reset();
  assert.deepEqual(parser.push("\ndata: after\n\n"), [{ type: "message", data: "after", lastEventId: "3", id: undefined }]);
});

test("test_sse_last_event_id_header_carries_utf8_bytes", () => {
  assert.equal(lastEventIdHeader("41"), "41");
  assert.equal(lastEventIdHeader("\u00e9-1"), "\u00c3\u00a9-1");
  // A value fetch() accepts (a byte string) whose bytes are the id's UTF-8.
  const header = new Headers({ "Last-Event-ID": lastEventIdHeader("\u8def-7") });
  assert.deepEqual(
    [...(header.get("Last-Event-ID") ?? "")].map((c) => c.charCodeAt(0)),
    [...new TextEncoder().encode("\u8def-7")],
  );
});

test("test_sse_parser_event_id_is_its_own_field_only", () => {
  const parser = new SSEParser();
  const events = parser.push("data: a\nid: 3-1\n\ndata: b\n\n: ping\ndata: c\nid: 3-2\n\n");
  assert.deepEqual(
    events.map((e) => [e.data, e.id, e.lastEventId]),
    [
      ["a", "3-1", "3-1"],
      ["b", undefined, "3-1"],
      ["c", "3-2", "3-2"],
    ],
  );
});
