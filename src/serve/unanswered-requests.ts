// Requests an upstream's HTTP answer leaves without their JSON-RPC answer (a body that breaks, a 2xx that answers nothing, an upstream gone): their events, metrics and the client's answer.

import { describeError } from "../errors.ts";
import type { CappedBody } from "../wire/capped-body.ts";
import { isObject, wireError, type JsonRpcId } from "../wire/jsonrpc.ts";
import { jsonResponse } from "./local-answers.ts";
import { DRAIN_CUT_TEXT, SERVE_WIRE_ERROR, UPSTREAM_DOWN_TEXT } from "./answers.ts";
import type { SessionExchange } from "./exchange.ts";
import { readCapped } from "./long-answer.ts";
import { owedAnswers, type OwedAnswers } from "./owed-answers.ts";
import { observeAnswer, observeUnanswered, upstreamFailed, type McpRouteDeps } from "./mcp-relay.ts";
import { UpstreamUnreachable, type UpstreamAnswer } from "./upstream-client.ts";

/** A POST's requests as the failure paths need them: its messages, the proxy's own answers, methods, start time. */
export interface PostRequests {
  readonly messages: Parameters<typeof owedAnswers>[0];
  readonly local: readonly unknown[];
  readonly methods: ReadonlyMap<JsonRpcId, string>;
  readonly startedAt: number;
}

/**
 * A JSON answer's body (whole, or its first part when long). One that breaks before its end is the
 * upstream's failure like a connection refused: the POST's requests get the 502 and end as
 * `upstream_unreachable` (a client that went away meanwhile: `cancelled`), never a 500 "internal error".
 */
export async function readAnswer(
  response: UpstreamAnswer,
  request: Request,
  deps: McpRouteDeps,
  exchange: SessionExchange,
  post: PostRequests,
): Promise<CappedBody | Response> {
  try {
    return await readCapped(response);
  } catch (error) {
    const failure = request.signal.aborted
      ? error
      : new UpstreamUnreachable(
          "reset",
          `upstream ${deps.config.upstream.origin} broke its answer: ${describeError(error)}`,
          { cause: error },
        );
    return failedWithLocalAnswers(
      failure,
      deps,
      exchange,
      owedAnswers(post.messages, post.local),
      post.local,
      post.methods,
      post.startedAt,
    );
  }
}

/**
 * Requests the upstream's HTTP answer left without a JSON-RPC answer, in the metrics as in the events:
 * the status as their error type, and a tool call counted as failed (`error`) among the tool calls.
 */
export function countUnanswered(
  deps: McpRouteDeps,
  methods: ReadonlyMap<JsonRpcId, string>,
  ids: readonly JsonRpcId[],
  status: number,
  startedAt: number,
): void {
  const unanswered = ids.flatMap((id) => methods.get(id) ?? []);
  observeUnanswered(deps, unanswered, startedAt, String(status), "error");
}

/**
 * {@link upstreamFailed} for a POST the upstream gave no answer to. In a batch the proxy answered in
 * part itself, those answers stand (their events are recorded, an annotation's among them), merged
 * with the failure's -32001 for the forwarded requests, rather than replaced by it. `owed`: the
 * requests the proxy did not answer itself (their errors carry their ids as written).
 */
export function failedWithLocalAnswers(
  error: unknown,
  deps: McpRouteDeps,
  exchange: SessionExchange,
  owed: OwedAnswers,
  local: readonly unknown[],
  methods: ReadonlyMap<JsonRpcId, string>,
  startedAt: number,
): Response {
  const forwarded = owed.ids();
  if (local.length === 0) return upstreamFailed(error, deps, exchange, forwarded, methods, startedAt, owed.written());
  const failed = upstreamFailed(
    error,
    deps,
    exchange,
    forwarded,
    new Map([...methods].filter(([id]) => forwarded.includes(id))),
    startedAt,
    owed.written(),
  );
  if (failed.status !== 502) return failed; // the client went away: nobody to answer
  for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
  const errors = owed.written().map((id) => wireError(id, SERVE_WIRE_ERROR.UPSTREAM_UNAVAILABLE, UPSTREAM_DOWN_TEXT));
  return new Response(JSON.stringify([...local, ...errors]), { status: 502, headers: failed.headers });
}

/**
 * The answer to a POST whose upstream had sent no head when the drain's deadline came: an error per request it
 * carried that the proxy did not answer itself (−32603, try again), beside the proxy's own answers, as one 200
 * JSON body (an array for a batch). Resetting the connection instead would lose the own answers too, and leave
 * an SDK client waiting on its own timeout. `owed`: as for failedWithLocalAnswers.
 */
export function drainCutAnswer(
  deps: McpRouteDeps,
  exchange: SessionExchange,
  owed: OwedAnswers,
  local: readonly unknown[],
  methods: ReadonlyMap<JsonRpcId, string>,
  startedAt: number,
  batch: boolean,
): Response {
  endAsShutdown(deps, exchange, owed.ids(), methods, startedAt);
  for (const answer of local) observeAnswer(deps, methods, answer, startedAt);
  const all = [...local, ...owed.written().map((id) => wireError(id, SERVE_WIRE_ERROR.DRAINING, DRAIN_CUT_TEXT))];
  return jsonResponse(batch ? all : all[0], 200);
}

/** Ends `ids`' calls as the drain's (`proxy_shutdown`): in the session's events and in /metrics. */
export function endAsShutdown(
  deps: McpRouteDeps,
  exchange: SessionExchange,
  ids: readonly JsonRpcId[],
  methods: ReadonlyMap<JsonRpcId, string>,
  startedAt: number,
): void {
  exchange.upstreamFailed(ids, "the proxy is shutting down", "proxy_shutdown");
  observeUnanswered(
    deps,
    ids.flatMap((id) => methods.get(id) ?? []),
    startedAt,
    "proxy_shutdown",
  );
}

/**
 * The ids of `ids` that none of the proxy's own answers (`local`) answers. Those carry ids as written
 * (a `JSON.rawJSON` value for `1.0`, see exactId): read by value, as `ids` are.
 */
export function unansweredIds(ids: readonly JsonRpcId[], local: readonly unknown[]): Set<JsonRpcId> {
  const pending = new Set(ids);
  for (const answer of local) {
    const id = isObject(answer) ? answer.id : undefined;
    pending.delete((RawJson.isRawJSON(id) ? JSON.parse(id.rawJSON) : id) as JsonRpcId);
  }
  return pending;
}

const RawJson = JSON as unknown as { isRawJSON(value: unknown): value is { rawJSON: string } };
