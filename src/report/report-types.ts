// The shapes of the report fold's bounded aggregates (written by report-state.ts and fold-calls.ts, read by the renderers). Types only.

import type { DurationStats } from "./duration-stats.ts";

/** Per-tool aggregates. Durations cover every outcome that carried one (successes and errors). */
export interface ToolStats {
  readonly name: string;
  ok: number;
  errors: number;
  /** Sequence number of the tool's first error (lowest seen), to tell what an annotation followed. */
  firstErrorSeq: number | null;
  readonly errorTypes: Map<string, number>;
  readonly durations: DurationStats;
  /** Calls started after the tool's latest outcome was an error: the agent trying again. */
  retries: number;
  /** Of those, calls with the same input as the error they followed. */
  sameInputRetries: number;
  /** The tool's latest outcome (sequence number, whether it failed, the failed call's input). */
  lastSeq: number;
  lastFailed: boolean;
  lastErrorParams: string | null;
}

/** One finished call as kept for the lists. `outcome` is "ok" or the error type. */
export interface CallRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string;
  paramsJson: string | null;
  readonly durationMs: number | null;
  readonly outcome: string;
  readonly errorBody: string | null;
  /** What the agent said it wanted (`call_intent`) and expected (`call_expected`) with this call, from its start. */
  intent: string | null;
  expected: string | null;
  /** In the errored list: how many identical errors (same tool, input, type and body) this entry stands for, the latest kept. */
  repeats: number;
}

export interface PendingCall {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string;
  readonly paramsJson: string;
  readonly intent: string | null;
  readonly expected: string | null;
}

export interface AnnotationRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string | null;
  readonly intent: string | null;
  readonly expectedOutcome: string | null;
  readonly signalType: string | null;
  readonly workflow: string | null;
  readonly suggestedImprovement: string | null;
  readonly contextJson: string | null;
  /** Made by the proxy from a call's `user_goal` (`intent_source` "injected_param"), not by a `baton_annotate` call. */
  readonly fromIntentParam: boolean;
}

export type SubjectKind = "resource_read" | "resource_list" | "prompt_get" | "prompt_list";

/** One finished resources/prompts request as kept for the lists (`errorType` null: it succeeded). */
export interface SubjectRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly kind: SubjectKind;
  /** The uri or prompt name; null for lists. */
  readonly subject: string | null;
  readonly durationMs: number | null;
  readonly errorType: string | null;
  readonly errorBody: string | null;
}

/** A resources/prompts request started and not yet seen to end (in flight live; no outcome offline). */
export interface PendingSubjectRecord {
  readonly seq: number;
  readonly capturedAt: string;
  readonly kind: SubjectKind;
  /** The uri or prompt name; null for lists. */
  readonly subject: string | null;
}

/** Resources and prompts: counts per kind, the latest failing reads/gets, the slowest requests, those without an outcome. */
export interface SubjectState {
  readonly counts: Map<SubjectKind, { ok: number; errors: number }>;
  readonly failures: SubjectRecord[];
  failuresTotal: number;
  readonly slowest: SubjectRecord[];
  /** Started, no outcome seen yet, by call id (a private key for a start without one), oldest first. */
  readonly pending: Map<string, PendingSubjectRecord>;
  /** Starts forgotten because too many requests were awaiting an outcome at once. */
  pendingForgotten: number;
  /** Pending keys of starts without a call id, oldest first, per kind (their outcome matches by kind). */
  readonly anonymousByKind: Map<SubjectKind, string[]>;
  anonymousSeq: number;
  /** Call ids of outcomes seen before their start (out of order): that start then has its outcome already. */
  readonly earlyEnds: Set<string>;
}

/** The session's latest server surface, digested for comparison with another session's. */
export interface SurfaceDigest {
  readonly hash: string;
  readonly server: string | null;
  /** Tool name → digest of its whole definition. */
  readonly tools: Map<string, string>;
  /** Digest of server info, capabilities and instructions together. */
  readonly meta: string;
}

/** Everything the report needs, in bounded memory. Mutated in place by foldEvent. */
export interface ReportState {
  sessionId: string | null;
  client: string | null;
  server: string | null;
  firstAt: string | null;
  lastAt: string | null;
  events: number;
  /** Lowest and highest sequence_number read, and how many events had one: the session's gaps are its dropped events. */
  minSeq: number | null;
  maxSeq: number | null;
  sequenced: number;
  readonly tools: Map<string, ToolStats>;
  readonly errorTypes: Map<string, number>;
  readonly errored: CallRecord[];
  erroredTotal: number;
  readonly slowest: CallRecord[];
  readonly annotations: AnnotationRecord[];
  annotationTotal: number;
  readonly signals: Map<string, number>;
  /** `baton_annotate` notes naming each tool (all of them, not only the kept ones; not those made from a `user_goal`). */
  readonly annotationsByTool: Map<string, number>;
  /** Values the privacy stage redacted before storage, by label (`email`, `token`, …), from `baton/scrubbed`. */
  readonly redactions: Map<string, number>;
  /** Values cut to size before storage, from `baton/truncated`. */
  truncatedValues: number;
  readonly pending: Map<string, PendingCall>;
  pendingForgotten: number;
  /** Outcomes whose start was not seen yet (out of order), so a late start attaches its params. */
  readonly orphans: Map<string, CallRecord[]>;
  /** Pending keys of starts that carried no call id, oldest first, per tool. */
  readonly anonymousByTool: Map<string, string[]>;
  anonymousSeq: number;
  readonly subjects: SubjectState;
  /** The server's name and version from its latest surface_snapshot (`server` is what the events' `baton/server` says: under `--url`, the origin). */
  serverName: string | null;
  /** The latest surface_snapshot of the session, digested. */
  surface: SurfaceDigest | null;
  /** Distinct surfaces seen in the session (the server's tools changed while it ran when > 1). */
  surfaceCount: number;
  /** Events of types the fold does not read (a newer producer's), by type: the offline report names them. */
  readonly otherTypes: Map<string, number>;
}
