// The session's live report for baton_session_report: the fold of its events (one per consent token when hosted, the most recently active ones kept) and the text a caller gets. No I/O.

import type { Config } from "../config.ts";
import { sinkLabel } from "../config-sinks.ts";
import { renderReport } from "../report/render-markdown.ts";
import { createReportState, foldEvent } from "../report/report-state.ts";
import type { ReportState } from "../report/report-types.ts";
import type { RequestContext } from "../telemetry/envelope.ts";
import type { BatonEvent } from "../telemetry/event-types.ts";

/**
 * Live reports kept per consent token in one session (hosted per-request consent). A stateless group
 * an app's users share may bring a new token with every user; past this many, the least recently used
 * token's report is let go (its events are recorded all the same).
 */
export const MAX_TOKEN_REPORTS = 256;

export interface LiveReports {
  /** Folds one event into the report it belongs to; undefined when no report is offered (not every sink is local). */
  readonly fold: ((event: BatonEvent) => void) | undefined;
  /** The report the caller of `context` may see, with a caveat when `unrecorded` says its own calls are not recorded. */
  text(context: RequestContext | undefined, unrecorded: string | undefined, now: Date): string;
}

/**
 * `perTokenRecords`: hosted per-request consent, one fold per token. `droppedBy`: events a sink (by
 * its label) lost after they were folded (TelemetryHub.droppedBy); default none.
 */
export function createLiveReports(
  config: Pick<Config, "allSinksLocal" | "slowCallMs" | "sinks"> & Partial<Pick<Config, "capture">>,
  perTokenRecords: boolean | undefined,
  droppedBy: (label: string) => number = () => 0,
): LiveReports {
  // Only the report tool reads the fold, and it is offered only when every sink is local.
  const report = config.allSinksLocal ? createReportState() : undefined;
  // Hosted per-request consent: one fold per token, so a caller sees only what its own token recorded (never another's).
  const reportsByToken = report !== undefined && perTokenRecords === true ? new Map<string, ReportState>() : undefined;
  const fold = (event: BatonEvent): void => {
    if (reportsByToken === undefined) return foldEvent(report as ReportState, event);
    let its = reportsByToken.get(event.consent_token);
    if (its === undefined) {
      its = createReportState();
      if (reportsByToken.size >= MAX_TOKEN_REPORTS) reportsByToken.delete(reportsByToken.keys().next().value as string);
    } else reportsByToken.delete(event.consent_token); // re-inserted below: the Map's order is its use order
    reportsByToken.set(event.consent_token, its);
    foldEvent(its, event);
  };
  const fileSink = config.sinks.find((s) => s.kind === "file");
  const eventsLocation = fileSink?.kind === "file" ? fileSink.path : config.sinks.map((s) => s.kind).join(", ");
  // The fold saw every event a sink lost after it: the place the report points to lacks them, and must say so.
  const shownLabels = (fileSink === undefined ? config.sinks : [fileSink]).map(sinkLabel);
  const eventsMissing = (): number => Math.max(0, ...shownLabels.map(droppedBy));
  // Without tool events the fold counts no calls: the report must not read as a session that made none.
  const toolCallsUnrecorded =
    config.capture === undefined || config.capture.has("tools") ? undefined : "`BATON_CAPTURE` leaves them out";
  return {
    fold: report === undefined ? undefined : fold,
    text: (context, unrecorded, now) => {
      // The report holds only what was recorded: a caller whose own calls are not must be told why they are missing.
      const caveat =
        unrecorded === undefined ? "" : `Note: ${unrecorded}; calls made without one are not in this report.\n\n`;
      // The transforms ask for a report only when the tool is offered, i.e. when the fold exists.
      return (
        caveat +
        renderReport(
          (reportsByToken === undefined ? report : reportsByToken.get(context?.consentToken ?? "")) ??
            createReportState(),
          {
            slowCallMs: config.slowCallMs,
            eventsLocation,
            eventsMissing: eventsMissing(),
            live: true,
            now,
            toolCallsUnrecorded,
          },
        )
      );
    },
  };
}
