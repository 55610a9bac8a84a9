// Reads event files written by the proxy and validates every event with a real validator (ajv): the Baton schema, or our extension schema for resource/prompt events.

import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./binary.ts";

const schema = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "baton-spec", "events.schema.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const extensionSchema = JSON.parse(
  readFileSync(join(ROOT, "test", "fixtures", "baton-ext", "resource-prompt-events.schema.json"), "utf8"),
);
const validateExtension = ajv.compile(extensionSchema);
const EXTENSION_TYPES = new Set(Object.keys(extensionSchema.discriminator.mapping));

/** Throws with ajv's explanation when `event` does not satisfy its schema (resource/prompt types: the extension schema). */
export function assertValidEvent(event: unknown): void {
  const type = (event as { event_type?: unknown } | null)?.event_type;
  const extension = typeof type === "string" && EXTENSION_TYPES.has(type);
  const check = extension ? validateExtension : validate;
  if (!check(event)) {
    throw new Error(
      `event does not match ${extension ? "resource-prompt-events" : "events"}.schema.json: ${ajv.errorsText(check.errors)}\n${JSON.stringify(event).slice(0, 2000)}`,
    );
  }
}

/**
 * Every event in a JSONL file, each validated; also checks the envelope rules the schema cannot
 * express. A missing file is an error, never "no events" (a vacuous pass).
 */
export function readValidatedEvents(path: string): Record<string, any>[] {
  if (!existsSync(path)) throw new Error(`no event file at ${path}: the proxy never wrote it`);
  const events = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, any>);
  for (const event of events) assertValidEvent(event);
  checkEnvelopes(events);
  return events;
}

/**
 * Per session: sequence numbers strictly increase, ids are UUIDv7, unique and increasing with them (time-ordered,
 * RFC 9562 §6.2: a store sorting by event_id keeps the session's order), times are RFC 3339 UTC with µs.
 */
export function checkEnvelopes(events: readonly Record<string, any>[]): void {
  const lastSeq = new Map<string, number>();
  const lastId = new Map<string, string>();
  const ids = new Set<string>();
  for (const event of events) {
    const previous = lastSeq.get(event.session_id) ?? 0;
    if (!(event.sequence_number > previous))
      throw new Error(`sequence_number ${event.sequence_number} after ${previous} in session ${event.session_id}`);
    lastSeq.set(event.session_id, event.sequence_number);
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(event.event_id))
      throw new Error(`event_id is not a UUIDv7: ${event.event_id}`);
    if (ids.has(event.event_id)) throw new Error(`duplicate event_id ${event.event_id}`);
    ids.add(event.event_id);
    const previousId = lastId.get(event.session_id) ?? "";
    if (!(event.event_id > previousId))
      throw new Error(`event_id ${event.event_id} sorts before ${previousId}, the session's previous event's`);
    lastId.set(event.session_id, event.event_id);
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(event.captured_at))
      throw new Error(`captured_at is not RFC 3339 UTC with microseconds: ${event.captured_at}`);
    if (!/^baton-proxy\/\d+\.\d+\.\d+/.test(event.sdk_version)) throw new Error(`sdk_version ${event.sdk_version}`);
  }
}

/** Each tool_call_start has exactly one end or error with the same call id, and nothing ends twice. */
export function checkCallPairs(events: readonly Record<string, any>[]): void {
  const open = new Map<string, string>();
  for (const event of events) {
    const id = event.runtime_meta?.["baton/call_id"];
    if (event.event_type === "tool_call_start") open.set(id, event.payload.tool_name);
    else if (event.event_type === "tool_call_end" || event.event_type === "tool_call_error") {
      if (!open.has(id)) throw new Error(`${event.event_type} for call ${id} without an open start`);
      open.delete(id);
    }
  }
  if (open.size > 0) throw new Error(`calls without an outcome: ${[...open.keys()].join(", ")}`);
}
