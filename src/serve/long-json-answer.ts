// A POST's JSON answer over the inspection cap: relayed to the client as it arrives (after the proxy's own answers), its requests closed from the answer's first and last bytes.

import { answerIdOfLongLine } from "../proxy/long-lines.ts";
import type { CappedBody } from "../wire/capped-body.ts";
import { MAX_LINE_BYTES } from "../wire/framing.ts";
import type { JsonRpcId } from "../wire/jsonrpc.ts";
import { decodeUtf8 } from "../wire/utf8.ts";
import type { SessionExchange } from "./exchange.ts";
import { localAnswersFirst, relayLong } from "./long-answer.ts";
import { CLIENT_GONE, observeLongAnswer, observeUnanswered, type McpRouteDeps } from "./mcp-relay.ts";
import { unansweredIds } from "./unanswered-requests.ts";
import type { SessionEntry } from "./session-table.ts";
import type { UpstreamAnswer } from "./upstream-client.ts";

/**
 * A JSON answer over the inspection cap (MAX_LINE_BYTES) goes to the client as it arrives, unread
 * and unchanged (a tools/list that long is not given the proxy's tools), as a stdio line that long
 * does: the request it answers is closed from its first and last bytes (a batch's, each from its own); those of this POST it does
 * not show (a batch's others) are closed too, as the answer is all there is of them. `requestIds`: the POST's requests.
 */
export function longJsonAnswer(
  deps: McpRouteDeps,
  exchange: SessionExchange,
  entry: SessionEntry,
  requestIds: readonly JsonRpcId[],
  local: readonly unknown[],
  capped: Extract<CappedBody, { whole?: undefined }>,
  response: UpstreamAnswer,
  asked: { readonly methods: ReadonlyMap<JsonRpcId, string>; readonly startedAt: number },
): Response {
  // The session is busy while its answer streams: never expired meanwhile.
  entry.active++;
  const frame = local.length === 0 ? undefined : localAnswersFirst(capped.read, local);
  const body = relayLong(
    capped.read,
    capped.rest,
    (outcome, edges, error) => {
      entry.active--;
      entry.lastUsedAt = deps.now();
      if (outcome === "cancelled") return exchange.upstreamFailed(requestIds, "the client went away", CLIENT_GONE);
      if (outcome === "error") {
        deps.metrics.upstreamFailures.inc({ reason: "stream_broken" });
        // Counted as the events end them (the proxy's own answers among them are answered already).
        observeUnanswered(
          deps,
          [...unansweredIds(requestIds, local)].flatMap((id) => asked.methods.get(id) ?? []),
          asked.startedAt,
        );
        return exchange.upstreamFailed(requestIds, `the upstream's answer broke: ${String(error)}`);
      }
      try {
        exchange.fromServerLongLine(edges);
        // A batch (2025-03-26): each answer in it is counted from its own edges (found as it went by).
        for (const one of edges.members ?? [edges]) {
          const text = { head: decodeUtf8(one.head), tail: decodeUtf8(one.tail) };
          const id = answerIdOfLongLine(text.head, text.tail);
          if (id !== undefined) observeLongAnswer(deps, asked.methods, id, text, asked.startedAt);
        }
      } catch (failure) {
        deps.logger.warn(`could not inspect an upstream message (forwarded unchanged): ${String(failure)}`);
      }
      exchange.upstreamFailed(
        requestIds,
        `the upstream's answer of ${edges.size} bytes went to the client uninspected (over the ${MAX_LINE_BYTES / 1048576} MiB limit) and did not show this request's id in its first and last bytes`,
        "evicted",
      );
    },
    frame,
  );
  return new Response(body, { status: response.status, headers: response.clientHeaders(true) });
}
