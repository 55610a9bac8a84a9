// Turns the event stream into finished MCP spans (a SERVER span toward the host, a CLIENT child toward the server, per operation). No I/O; ids from a passed-in source.

import type { BatonEvent, EventOf } from "../event-types.ts";
import { META_CALL_ID } from "../event-types.ts";
import { STATUS_UNSET } from "./span-outcome.ts";
import { describeOperation, parseOperationEvent } from "./span-operations.ts";
import { annotationRecord, baseAttributes, hopAttributes } from "./span-attributes.ts";
import { finishedSpans, type OpenCall, type SpanEnds } from "./span-pair.ts";
import { placement } from "./span-placement.ts";
import { RANDOM_HEX, type RandomHex } from "./trace-context.ts";
import { toHrTime, type FinishedSpan, type SpanEventRecord } from "./span-types.ts";

export { META_PROTOCOL_VERSION, META_REQUEST_ID } from "./span-attributes.ts";
export { META_HTTP_TRACEPARENT, META_HTTP_TRACESTATE, META_SPAN_ID, META_TRACE_ID } from "./span-placement.ts";

/** Open calls kept at once; beyond this the oldest is forgotten (its spans are never sent) and counted. */
export const MAX_OPEN_CALLS = 10_000;
/**
 * Characters of captured arguments (`BATON_OTEL_CAPTURE_CONTENT=on`) the open calls may hold
 * together: each may hold 256 KiB after the scrub, 2.5 GB over MAX_OPEN_CALLS. Beyond it a new
 * call's span goes without its arguments and says so (ARGUMENTS_OMITTED).
 */
export const MAX_HELD_CONTENT_CHARS = 32 * 1024 * 1024;
/** On a span whose arguments were not kept: the open calls held MAX_HELD_CONTENT_CHARS already. */
export const ARGUMENTS_OMITTED = "baton.tool.call.arguments_omitted";
const ARGUMENTS = "gen_ai.tool.call.arguments";

export interface SpanBuilderOptions {
  /** How the host reaches us, on the SERVER span: `pipe` for stdio, `tcp` for HTTP (network.transport). */
  readonly transport: "pipe" | "tcp";
  /** How we reach the server, on the CLIENT span (default `transport`): `tcp` for `--url` behind a stdio host. */
  readonly upstreamTransport?: "pipe" | "tcp";
  /** The server's origin when it is reached over HTTP (`--url`, serve's upstream): the CLIENT span's server.address/.port. */
  readonly upstreamOrigin?: string;
  /** Record `gen_ai.tool.call.arguments` / `.result` (already scrubbed: spans are built from prepared events). */
  readonly captureContent: boolean;
  readonly randomHex?: RandomHex;
  readonly maxOpen?: number;
  readonly maxHeldContentChars?: number;
}

export interface SpanBuilder {
  /**
   * Feeds one event; returns the spans it finished (two per operation outcome, one for a detached
   * annotation). Operations: tool calls, and the resource/prompt events when the proxy emits them.
   */
  add(event: BatonEvent): FinishedSpan[];
  /**
   * The spans of notes still held for a call's start that never came (the session's last events:
   * tool events not captured), at shutdown; they would be lost with the process otherwise.
   */
  release(): FinishedSpan[];
  /** Calls forgotten because more than `maxOpen` were open. */
  readonly evicted: number;
}

export function createSpanBuilder(options: SpanBuilderOptions): SpanBuilder {
  const random = options.randomHex ?? RANDOM_HEX;
  const maxOpen = options.maxOpen ?? MAX_OPEN_CALLS;
  const open = new Map<string, OpenCall>(); // insertion order = age
  // The annotation the engine makes from a call's `user_goal` comes just before that call's start:
  // held (one per session) until the session's next event, so it lands on the call it describes.
  const held = new Map<string, { readonly key: string; readonly event: EventOf<"annotation"> }>();
  let evicted = 0;
  const maxHeldContent = options.maxHeldContentChars ?? MAX_HELD_CONTENT_CHARS;
  let heldContent = 0;
  const serverHop = hopAttributes(options.transport, undefined);
  const ends: SpanEnds = {
    transport: options.transport,
    captureContent: options.captureContent,
    clientHop: hopAttributes(options.upstreamTransport ?? options.transport, options.upstreamOrigin),
  };

  function start(event: BatonEvent, method: string): void {
    const callId = String(event.runtime_meta?.[META_CALL_ID] ?? "");
    const facts = describeOperation(method, event.payload as Record<string, unknown>, options.captureContent);
    const attributes = baseAttributes(event, facts.attributes, serverHop);
    const args = attributes[ARGUMENTS];
    let contentChars = typeof args === "string" ? args.length : 0;
    if (contentChars > 0 && heldContent + contentChars > maxHeldContent) {
      delete attributes[ARGUMENTS];
      attributes[ARGUMENTS_OMITTED] = true;
      contentChars = 0;
    }
    heldContent += contentChars;
    const where = placement(event, random);
    const key = `${event.session_id}\n${callId}`;
    const note = held.get(event.session_id);
    if (note?.key === key) held.delete(event.session_id);
    heldContent -= open.get(key)?.contentChars ?? 0; // a start seen again replaces its call
    open.set(key, {
      sessionId: event.session_id,
      toolName: facts.toolName,
      name: facts.name,
      traceId: where.traceId,
      serverSpanId: random(8),
      clientSpanId: where.clientSpanId,
      parent: where.parent,
      traceState: where.traceState,
      links: where.links,
      sampled: where.sampled,
      start: toHrTime(event.captured_at),
      attributes,
      events: note?.key === key ? [annotationRecord(note.event)] : [],
      contentChars,
    });
    if (open.size > maxOpen) {
      forget(open.keys().next().value as string);
      evicted++;
    }
  }

  /** Takes a call off the open ones (its content no longer held); undefined when it is not open. */
  function forget(key: string): OpenCall | undefined {
    const call = open.get(key);
    if (call === undefined) return undefined;
    open.delete(key);
    heldContent -= call.contentChars;
    return call;
  }

  function finish(event: BatonEvent, failed: boolean): FinishedSpan[] {
    const key = `${event.session_id}\n${String(event.runtime_meta?.[META_CALL_ID] ?? "")}`;
    const call = forget(key);
    if (call === undefined || !call.sampled) return [];
    return finishedSpans(call, event, failed, ends);
  }

  /**
   * On the newest open call of the same session and tool; one made from a `user_goal` waits for its
   * call's start; else its own span for the `baton_annotate` call that carried it.
   */
  function annotate(event: EventOf<"annotation">): FinishedSpan[] {
    const p = event.payload;
    const record = annotationRecord(event);
    const callId = event.runtime_meta?.[META_CALL_ID];
    if (p.intent_source === "injected_param" && typeof callId === "string") {
      held.set(event.session_id, { key: `${event.session_id}\n${callId}`, event });
      // Sessions that end on such a note (tool events not captured) must not pile up in a long serve.
      if (held.size > maxOpen) held.delete(held.keys().next().value as string);
      return [];
    }
    let target: OpenCall | undefined;
    for (const call of open.values())
      if (call.sessionId === event.session_id && call.toolName === p.tool_name) target = call;
    if (target !== undefined) {
      target.events.push(record);
      return [];
    }
    return detached(event, record);
  }

  function detached(event: EventOf<"annotation">, record: SpanEventRecord): FinishedSpan[] {
    const where = placement(event, random);
    if (!where.sampled) return [];
    return [
      {
        traceId: where.traceId,
        spanId: random(8),
        parent: where.parent,
        traceState: where.traceState,
        name: "tools/call baton_annotate",
        kind: "server",
        start: record.time,
        end: record.time,
        attributes: baseAttributes(
          event,
          describeOperation("tools/call", { tool_name: "baton_annotate" }, false).attributes,
          serverHop,
        ),
        events: [record],
        links: where.links,
        status: { code: STATUS_UNSET },
      },
    ];
  }

  return {
    add(event) {
      // A held note whose call never started (tool events not captured) gets its own span after all.
      const note = held.get(event.session_id);
      const key = `${event.session_id}\n${String(event.runtime_meta?.[META_CALL_ID] ?? "")}`;
      const stray: FinishedSpan[] = [];
      if (note !== undefined && !(event.event_type.endsWith("_start") && note.key === key)) {
        held.delete(event.session_id);
        stray.push(...detached(note.event, annotationRecord(note.event)));
      }
      return [...stray, ...route(event)];
    },
    release() {
      const notes = [...held.values()];
      held.clear();
      return notes.flatMap((note) => detached(note.event, annotationRecord(note.event)));
    },
    get evicted() {
      return evicted;
    },
  };

  function route(event: BatonEvent): FinishedSpan[] {
    if (event.event_type === "annotation") return annotate(event);
    const operation = parseOperationEvent(event.event_type);
    if (operation === undefined) return [];
    if (operation.phase === "start") {
      start(event, operation.method);
      return [];
    }
    return finish(event, operation.phase === "error");
  }
}
