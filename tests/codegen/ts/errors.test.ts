// Unit tests of the runtime's error mapping (codegen/runtime/errors.ts), run by node:test.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  BelayAPIError,
  BelayError,
  BelayHTTPError,
  BelayNetworkError,
  BelayValidationError,
  errorFromBody,
  errorFromEvent,
  errorFromResponse,
} from "./runtime/errors.js";

class Full extends BelayAPIError<{ detail: string; capacity: number }> {
  static readonly type = "Full";
  static readonly status = 409;
  static readonly detail = "full";
  static readonly fields = ["detail", "capacity"] as const;
}

class Locked extends BelayAPIError<{ detail: string; owner: string }> {
  static readonly type = "Locked";
  static readonly status = 409;
  static readonly detail = "locked";
  static readonly fields = ["detail", "owner"] as const;
}

class Gone extends BelayAPIError<{ detail: string }> {
  static readonly type = "Gone";
  static readonly status = 410;
  static readonly detail = "gone";
  static readonly fields = ["detail"] as const;
}

const CLASSES = [Full, Locked, Gone];

test("test_errors_pick_the_class_by_type_only", () => {
  // Two classes share 409: the server's class name decides, never the body's fields.
  assert.ok(errorFromBody(409, { detail: "full", capacity: 1 }, CLASSES, "Locked") instanceof Locked);
  assert.ok(errorFromBody(409, { detail: "locked", owner: "x" }, CLASSES, "Full") instanceof Full);
  const unnamed = errorFromBody(409, { detail: "locked", owner: "x" }, CLASSES);
  assert.ok(unnamed instanceof BelayHTTPError && !(unnamed instanceof BelayAPIError));
  const undeclared = errorFromBody(410, { detail: "gone" }, CLASSES, "Elsewhere");
  assert.ok(!(undeclared instanceof BelayAPIError));
});

test("test_errors_stream_event_carries_status_type_and_body", () => {
  const full = errorFromEvent('{"status":409,"type":"Full","body":{"detail":"full","capacity":3}}', CLASSES);
  assert.ok(full instanceof Full);
  assert.equal(full.status, 409);
  assert.deepEqual(full.body, { detail: "full", capacity: 3 });
  const crash = errorFromEvent('{"status":500,"type":null,"body":{"detail":"Internal Server Error"}}', CLASSES);
  assert.ok(crash instanceof BelayHTTPError && !(crash instanceof BelayAPIError));
  assert.equal(crash.status, 500);
  const invalid = errorFromEvent('{"status":422,"type":null,"body":{"detail":[]}}', CLASSES);
  assert.ok(invalid instanceof BelayValidationError);
  const junk = errorFromEvent("not json", CLASSES);
  assert.equal(junk.status, 500);
  assert.equal(junk.body, "not json");
});

test("test_errors_http_answer_names_its_class_in_a_header", async () => {
  const headers = { "X-Belay-Error-Type": "Locked", "Content-Type": "application/json" };
  const response = new Response('{"detail":"locked","owner":"me"}', { status: 409, headers });
  assert.ok((await errorFromResponse(response, CLASSES)) instanceof Locked);
});

test("test_errors_from_body_builds_typed_instances", () => {
  const full = errorFromBody(409, { detail: "full", capacity: 2 }, CLASSES, "Full");
  assert.ok(full instanceof Full && full instanceof BelayAPIError && full instanceof BelayError);
  assert.equal(full.status, 409);
  assert.equal(full.name, "Full");
  assert.equal(full.message, "409: full");

  const invalid = errorFromBody(422, { detail: [{ loc: ["query", "n"], msg: "bad", type: "int" }] }, []);
  assert.ok(invalid instanceof BelayValidationError);

  const plain = errorFromBody(404, "not json", CLASSES);
  assert.ok(plain instanceof BelayHTTPError && !(plain instanceof BelayAPIError));
  assert.equal(plain.body, "not json");
});

test("test_errors_cause_is_kept", () => {
  const cause = new TypeError("fetch failed");
  const error = new BelayError("could not reach", { cause });
  assert.equal(error.cause, cause);
});

test("test_errors_connection_lost_while_reading_an_error_answer_is_a_network_error", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"detail": "tr'));
      controller.error(new TypeError("terminated"));
    },
  });
  const error = await errorFromResponse(new Response(body, { status: 503 }), []).catch((e: unknown) => e);
  assert.ok(error instanceof BelayNetworkError, String(error));
  assert.match(error.message, /503/);
});
