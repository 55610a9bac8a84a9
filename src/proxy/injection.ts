// What the proxy adds to answers and answers itself: handshake and tool-list injection, the injected tools' results. No I/O.

import type { AnnotationPayload } from "../telemetry/event-types.ts";
import { META_CALL_ID } from "../telemetry/event-types.ts";
import type { JsonObject, WireId } from "../wire/jsonrpc.ts";
import { wireResult } from "../wire/jsonrpc.ts";
import { isPlainObject as isObject } from "./canonical-json.ts";
import { parseAnnotateArguments } from "./annotate.ts";
import { clientMeta, withServer } from "./call-events.ts";
import { ANNOTATE_TOOL, REPORT_TOOL, injectedTools, withInstructionsSuffix } from "./injected-tools.ts";
import { forgetLeastRecentlyListed, injectIntentParams } from "./intent-params.ts";
import { endsListing } from "./listing-walks.ts";
import {
  intentMode,
  MODERN_SERVER_INFO_KEY,
  noteProactive,
  noteServer,
  type Action,
  type ProxyState,
  type RequestFacts,
} from "./proxy-state.ts";
import type { PendingCall, PendingRequest } from "./pending-book.ts";
import { keepOutOfFtl } from "../runtime/jit-tiers.ts";

/** `intent_source` of intents the agent gave through the injected parameters. */
export const INTENT_SOURCE_PARAM = "injected_param";

export function injectHandshake(state: ProxyState, result: JsonObject, actions: Action[]): boolean {
  noteServer(
    state,
    isObject(result.serverInfo)
      ? result.serverInfo
      : isObject(result._meta)
        ? result._meta[MODERN_SERVER_INFO_KEY]
        : undefined,
  );
  // The version the server agreed to (an initialize answer): our tools are listed in its shape.
  if (typeof result.protocolVersion === "string") state.protocolVersion = result.protocolVersion;
  result.instructions = withInstructionsSuffix(result.instructions);
  const capabilities = isObject(result.capabilities) ? result.capabilities : (result.capabilities = {});
  state.serverTaskCalls = takesTaskCalls(capabilities.tasks);
  if (!isObject(capabilities.tools)) {
    capabilities.tools = {};
    if (!state.answerToolsList)
      actions.push({
        type: "log",
        level: "info",
        text: "the server declares no tools; the proxy adds the tools capability and answers tools/list with its own tools",
      });
    state.answerToolsList = true;
  } else {
    state.answerToolsList = false;
  }
  return true;
}

/** `tasks.requests.tools.call` is declared (an object in the spec; any value but null or false read as one). */
function takesTaskCalls(tasks: unknown): boolean {
  const tools = isObject(tasks) && isObject(tasks.requests) ? tasks.requests.tools : undefined;
  return isObject(tools) && tools.call !== undefined && tools.call !== null && tools.call !== false;
}

export function injectToolList(
  state: ProxyState,
  request: PendingRequest,
  result: JsonObject,
  actions: Action[],
): boolean {
  if (!Array.isArray(result.tools)) return false;
  // The server's names on every page of this walk so far (this one included); only this page's when its start was not seen.
  const listed = request.walk?.names ?? new Set(result.tools.flatMap((t) => (isObject(t) ? [t.name] : [])));
  // Every page's tools get the intent params; the proxy's own tools (appended below) never do.
  const withIntent = injectIntentParams(result.tools, intentMode(state), state.intentRegistry, (name) =>
    isInjected(state, name),
  );
  forgetLeastRecentlyListed(state.intentRegistry, listed);
  const lastPage = endsListing(result.nextCursor);
  if (!lastPage) return withIntent;
  const added = [];
  for (const tool of injectedTools(state.options.includeReportTool, state.protocolVersion)) {
    if (listed.has(tool.name)) {
      if (!state.shadowed.has(tool.name)) {
        actions.push({
          type: "log",
          level: "warn",
          text: `the server has its own tool named "${tool.name}"; the proxy keeps its tool out and forwards such calls to the server`,
        });
      }
      state.shadowed.add(tool.name);
    } else {
      state.shadowed.delete(tool.name);
      added.push(tool);
    }
  }
  if (added.length === 0) return withIntent;
  result.tools = [...result.tools, ...added];
  return true;
}

/** The names of the tools the proxy offers (before any shadowing by the server). */
export function offeredToolNames(state: ProxyState): string[] {
  return injectedTools(state.options.includeReportTool).map((t) => t.name);
}

/** The proactive annotation made from a session's first `user_goal` (unless the agent already filed one). */
export function intentAnnotation(
  state: ProxyState,
  call: PendingCall,
  intent: string,
  expected: string | undefined,
): Action {
  const payload: AnnotationPayload = {
    intent,
    expected_outcome: expected ?? null,
    signal_type: null,
    workflow: null,
    suggested_improvement: null,
    context: null,
    intent_source: INTENT_SOURCE_PARAM,
    tool_name: call.toolName,
  };
  const meta = withServer(state, { ...call.meta, [META_CALL_ID]: call.callId });
  return {
    type: "emit",
    draft: {
      event_type: "annotation",
      payload,
      runtime_meta: meta,
      agent_runtime: state.agentRuntime,
      user_id: call.userId,
    },
  };
}

export function answerInjectedCall(
  state: ProxyState,
  id: WireId,
  name: string,
  params: JsonObject,
  modern: boolean,
  userId: string | null,
  actions: Action[],
  facts?: RequestFacts,
): void {
  const unrecorded = facts?.unrecorded;
  if (name === REPORT_TOOL) {
    actions.push({ type: "report", id, modern });
    return;
  }
  const parsed = parseAnnotateArguments(params.arguments);
  if (!parsed.ok) {
    const text = `${ANNOTATE_TOOL} was not recorded: ${parsed.problems.join("; ")}.`;
    actions.push({ type: "send", to: "client", message: wireResult(id, injectedResult(text, modern, true)) });
    return;
  }
  if (unrecorded !== undefined) {
    // Its event would be dropped: saying "recorded" would be a lie the agent passes on to the user.
    const text = `${ANNOTATE_TOOL} was not recorded: ${unrecorded}.`;
    actions.push({ type: "send", to: "client", message: wireResult(id, injectedResult(text, modern, true)) });
    return;
  }
  const meta = clientMeta(isObject(params._meta) ? params._meta : undefined);
  // A proactive note (an intent, no signal) means the session needs no intent-made one.
  if (parsed.payload.signal_type === null) noteProactive(state, facts?.recordedFor ?? "");
  actions.push({
    type: "emit",
    draft: {
      event_type: "annotation",
      payload: parsed.payload satisfies AnnotationPayload,
      runtime_meta: withServer(state, meta),
      agent_runtime: state.agentRuntime,
      user_id: userId,
    },
  });
  // Say what was normalised, so the agent knows exactly what the maintainers will read.
  const notes = parsed.notes.length > 0 ? ` ${parsed.notes.join(" ")}` : "";
  const text = `Annotation recorded for the server's maintainers.${notes} Carry on with the user's task.`;
  actions.push({ type: "send", to: "client", message: wireResult(id, injectedResult(text, modern, false)) });
}

/** A `tools/call` result produced by the proxy itself. */
export function injectedResult(text: string, modern: boolean, isError: boolean): JsonObject {
  const result: JsonObject = { content: [{ type: "text", text }] };
  if (isError) result.isError = true;
  if (modern) result.resultType = "complete";
  return result;
}

export function listOnlyInjected(state: ProxyState, modern: boolean): JsonObject {
  const result: JsonObject = { tools: [...injectedTools(state.options.includeReportTool, state.protocolVersion)] };
  if (modern) Object.assign(result, { resultType: "complete", ttlMs: 0, cacheScope: "private" });
  return result;
}

export function isInjected(state: ProxyState, name: string): boolean {
  // A session shown none of our tools (observed only): every call is the server's.
  if (state.shadowed.has(name) || state.options.injects === false) return false;
  return name === ANNOTATE_TOOL || (name === REPORT_TOOL && state.options.includeReportTool);
}

// Once per message or event: an FTL compile of it costs more JIT CPU than a stdio session wins back (see runtime/jit-tiers.ts).
keepOutOfFtl(isInjected);
