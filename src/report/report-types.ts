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
}

export interface PendingCall {
  readonly seq: number;
  readonly capturedAt: string;
  readonly tool: string;
  readonly paramsJson: string;
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
}

/** Everything the report needs, in bounded memory. Mutated in place by foldEvent. */
export interface ReportState {
  sessionId: string | null;
  client: string | null;
  server: string | null;
  firstAt: string | null;
  lastAt: string | null;
  events: number;
  droppedEvents: number;
  readonly tools: Map<string, ToolStats>;
  readonly errorTypes: Map<string, number>;
  readonly errored: CallRecord[];
  erroredTotal: number;
  readonly slowest: CallRecord[];
  readonly annotations: AnnotationRecord[];
  annotationTotal: number;
  readonly signals: Map<string, number>;
  /** Annotations naming each tool (all of them, not only the kept ones). */
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
}
