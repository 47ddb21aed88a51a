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
  errorFromResponse,
  matchErrorClass,
} from "./runtime/errors.js";

class Full extends BelayAPIError<{ detail: string; capacity: number }> {
  static readonly status = 409;
  static readonly detail = "full";
  static readonly fields = ["detail", "capacity"] as const;
}

class Locked extends BelayAPIError<{ detail: string; owner: string }> {
  static readonly status = 409;
  static readonly detail = "locked";
  static readonly fields = ["detail", "owner"] as const;
}

class Gone extends BelayAPIError<{ detail: string }> {
  static readonly status = 410;
  static readonly detail = "gone";
  static readonly fields = ["detail"] as const;
}

const CLASSES = [Full, Locked, Gone];

test("test_errors_match_by_status_then_detail_then_fields", () => {
  assert.equal(matchErrorClass(410, { detail: "bye" }, CLASSES), Gone);
  assert.equal(matchErrorClass(409, { detail: "locked", owner: "x" }, CLASSES), Locked);
  assert.equal(matchErrorClass(409, { detail: "custom", capacity: 3 }, CLASSES), Full);
  assert.equal(matchErrorClass(409, { detail: "custom" }, CLASSES), undefined);
  assert.equal(matchErrorClass(500, { detail: "full" }, CLASSES), undefined);
});

test("test_errors_stream_error_without_status_matches_detail_or_fields", () => {
  assert.equal(matchErrorClass(undefined, { detail: "full", capacity: 1 }, CLASSES), Full);
  assert.equal(matchErrorClass(undefined, { detail: "other", owner: "me" }, CLASSES), Locked);
  assert.equal(matchErrorClass(undefined, { detail: "Internal Server Error" }, CLASSES), undefined);
});

test("test_errors_from_body_builds_typed_instances", () => {
  const full = errorFromBody(409, { detail: "full", capacity: 2 }, CLASSES);
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
