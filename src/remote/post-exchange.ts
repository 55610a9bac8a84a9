// One POST exchange of a Streamable HTTP session: headers, one retry after a 401, session expiry, the HTTP+SSE fallback, a JSON or SSE answer.

import { isObject, type JsonRpcId, type Message } from "../wire/jsonrpc.ts";
import { readStreamCapped } from "../wire/capped-body.ts";
import { MAX_LINE_BYTES } from "../wire/framing.ts";
import { withoutBom } from "../wire/utf8.ts";
import { bodyToLine, postHeaders } from "./http-wire.ts";
import type { LegacySseUpstream } from "./legacy-sse.ts";
import { passLongBody } from "./long-body.ts";
import { readPostStream, type PostStreamSession } from "./post-stream.ts";
import { ResponseReader } from "./response-reader.ts";
import {
  errorFailure,
  errorRefusal,
  fetchFailure,
  unauthorizedFailure,
  UpstreamTimeout,
  type UpstreamFailure,
} from "./upstream-failure.ts";

/** What an exchange needs of its session (built once per session). */
/** A cancelled request and the POST it was sent on. */
export interface CancelledPost {
  readonly id: JsonRpcId;
  readonly controller: AbortController;
}

export interface PostExchangeSession extends PostStreamSession {
  /** The POSTs in flight, and the POST of each request in flight (so a cancelled one stops being read). */
  readonly controllers: Set<AbortController>;
  readonly byId: Map<JsonRpcId, AbortController>;
  /** The HTTP+SSE transport once the server turned out to speak only that; messages then go there. */
  readonly legacy: () => LegacySseUpstream | undefined;
  /** The server refused the handshake POST the way old HTTP+SSE servers do: try that transport. */
  readonly fallBack: (body: Uint8Array, ids: readonly JsonRpcId[], refused: UpstreamFailure) => Promise<void>;
  /** After `notifications/initialized`: the optional server→client GET stream. */
  readonly openStanding: () => Promise<void>;
  /** A new handshake replaced session `sessionId`: end it on the server. */
  readonly replaced: (sessionId: string) => void;
  /** When `notifications/cancelled` is POSTed: the POST of the request it names (later, another request may take the id). */
  readonly cancelledPost: (params: unknown) => CancelledPost | undefined;
  /** After `notifications/cancelled` was accepted: stop waiting on the cancelled call's stream. */
  readonly stopReading: (cancelled: CancelledPost | undefined) => void;
  /** A request of the exchange `controller` got its answer: it is no longer in flight. */
  readonly answered: (id: JsonRpcId, controller: AbortController) => void;
}

/** The 2026-07-28 request whose answer stream stays open for change notifications (no answer ends it). */
const LISTEN_METHOD = "subscriptions/listen";

/** How long a POST that found no file descriptor for its socket waits before it tries again. */
export const NO_FD_RETRY_MS = 25;
const NO_FD_CODES = new Set(["EMFILE", "ENFILE"]);

/**
 * `send` again while it fails for want of a file descriptor (`ulimit -n` reached: many requests in
 * flight at once, each on its own socket): such a POST never had a socket, so nothing of it was
 * sent and trying again cannot run it twice. It waits for sockets of other requests to close,
 * bounded by the exchange's own timeout (`signal`).
 */
async function whenSocketsAllow(send: () => Promise<Response>, signal: AbortSignal): Promise<Response> {
  for (;;) {
    try {
      return await send();
    } catch (error) {
      if (signal.aborted || !NO_FD_CODES.has(String((error as { code?: unknown }).code))) throw error;
      await Bun.sleep(NO_FD_RETRY_MS);
    }
  }
}

/**
 * POSTs one client line (`message` when it is a single message; `ids` the requests it carries) and
 * passes on the answer; every request it does not answer is failed through the session.
 */
export async function postExchange(
  session: PostExchangeSession,
  body: Uint8Array,
  message: Message | undefined,
  ids: readonly JsonRpcId[],
  isInitialize: boolean,
  retried = false,
): Promise<void> {
  if (session.isClosing()) return;
  const legacy = session.legacy();
  if (legacy !== undefined) return legacy.send(body, ids);
  const { target, fetch, timeoutMs } = session.deps;
  const controller = new AbortController();
  session.controllers.add(controller);
  for (const id of ids) session.byId.set(id, controller);
  const answered = (id: JsonRpcId): void => session.answered(id, controller);
  const asked = (id: JsonRpcId): void => void session.owed.set(id, controller);
  const cancels =
    message?.kind === "notification" && message.method === "notifications/cancelled"
      ? session.cancelledPost(message.value.params)
      : undefined;
  try {
    const headers = postHeaders(await session.authorized(), session.facts, message?.value);
    const timer = setTimeout(() => controller.abort(new UpstreamTimeout()), timeoutMs);
    let response: Response;
    try {
      response = await whenSocketsAllow(
        () => fetch(target.url, { method: "POST", headers, body, signal: controller.signal }),
        controller.signal,
      );
    } catch (error) {
      return session.fail(ids, fetchFailure(target.origin, controller.signal.reason ?? error, timeoutMs), controller);
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 401) {
      const outcome =
        session.deps.authorizer === undefined || retried
          ? unauthorizedFailure(target)
          : await session.deps.authorizer.unauthorized(response, headers.Authorization);
      await response.body?.cancel().catch(() => undefined);
      if (outcome === "retry") return postExchange(session, body, message, ids, isInitialize, true);
      return session.fail(ids, outcome, controller);
    }
    const stepUp =
      response.status === 403 && !retried
        ? session.deps.authorizer?.insufficientScope?.(response, headers.Authorization)
        : undefined;
    if (stepUp !== undefined) {
      const outcome = await stepUp;
      await response.body?.cancel().catch(() => undefined);
      if (outcome === "retry") return postExchange(session, body, message, ids, isInitialize, true);
      return session.fail(ids, outcome, controller);
    }
    if (response.status === 404 && session.facts.sessionId !== undefined) {
      await response.body?.cancel().catch(() => undefined);
      return session.fail(ids, session.expired(), controller);
    }
    if (
      isInitialize &&
      session.facts.sessionId === undefined &&
      (response.status === 400 || response.status === 404 || response.status === 405)
    ) {
      return session.fallBack(body, ids, await errorFailure(target.origin, response, session.deps.secretKeys));
    }
    if (!response.ok) {
      const refusal = await errorRefusal(target.origin, response, session.deps.secretKeys);
      // 2026-07-28 servers send protocol errors with a 4xx status (404 + -32601, 400 + -32022 …): a
      // body that is the JSON-RPC error of a request here is the server's answer, as over stdio.
      if (!answersWithError(refusal.body, ids)) return session.fail(ids, refusal.failure, controller);
      const reader = new ResponseReader(ids, false, session.facts, session.deps.sink, answered, asked);
      reader.line(bodyToLine(refusal.body));
      const unanswered = reader.unanswered();
      if (unanswered.length > 0) session.fail(unanswered, refusal.failure, controller);
      return;
    }
    if (isInitialize) {
      const previous = session.facts.sessionId;
      session.facts.sessionId = response.headers.get("mcp-session-id") ?? undefined;
      if (previous !== undefined && previous !== session.facts.sessionId) session.replaced(previous);
    }
    const reader = new ResponseReader(ids, isInitialize, session.facts, session.deps.sink, answered, asked);
    const type = (response.headers.get("content-type") ?? "").toLowerCase();
    if (response.status === 202 || response.status === 204 || response.body === null) {
      await response.body?.cancel().catch(() => undefined);
    } else if (type.includes("text/event-stream")) {
      const listen = message?.kind === "request" && message.method === LISTEN_METHOD;
      await readPostStream(session, response, reader, controller, listen);
    } else if (type !== "" && !type.includes("json")) {
      // An HTML login page or a proxy's text, not JSON-RPC: it must not become a line on the client's stdout.
      await response.body?.cancel().catch(() => undefined);
      const given = type.split(";")[0]?.trim().slice(0, 60);
      return session.fail(
        ids,
        {
          errorType: "upstream_protocol",
          reason: `${target.origin} answered with ${given}, not JSON or an event stream`,
        },
        controller,
      );
    } else {
      const timer = setTimeout(() => controller.abort(new UpstreamTimeout()), timeoutMs);
      try {
        // Without a leading byte order mark: fetch's `json()` (what SDK clients read answers with)
        // decodes bodies as UTF-8, which drops it, so such a server works for them.
        // Read whole only up to the inspection cap: a longer answer goes out as it arrives (memory stays bounded).
        const body = await readStreamCapped(response.body, MAX_LINE_BYTES);
        if (body.whole !== undefined) reader.line(bodyToLine(withoutBom(body.whole)));
        // Broken midway: its requests are failed before its line ends (see passLongBody).
        else
          await passLongBody(session.deps.sink, reader, body.read, body.rest, (error) =>
            session.fail(
              reader.giveUp(),
              fetchFailure(target.origin, controller.signal.reason ?? error, timeoutMs),
              controller,
            ),
          );
      } catch (error) {
        return session.fail(
          reader.unanswered(),
          fetchFailure(target.origin, controller.signal.reason ?? error, timeoutMs),
          controller,
        );
      } finally {
        clearTimeout(timer);
      }
    }
    const unanswered = reader.unanswered();
    if (unanswered.length > 0)
      session.fail(
        unanswered,
        {
          errorType: "upstream_no_response",
          reason: `${target.origin} accepted the request but sent no answer to it`,
        },
        controller,
      );
    if (message?.kind === "notification" && message.method === "notifications/initialized") void session.openStanding();
    if (cancels !== undefined) session.stopReading(cancels);
  } finally {
    session.controllers.delete(controller);
    for (const id of ids) if (session.byId.get(id) === controller) session.byId.delete(id);
    for (const [id, owner] of session.owed) if (owner === controller) session.owed.delete(id);
  }
}

/** The body is one JSON-RPC error answer (a whole one: the first read may end early) to a request of this exchange. */
function answersWithError(body: Uint8Array, ids: readonly JsonRpcId[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return false;
  }
  return (
    isObject(parsed) &&
    parsed.jsonrpc === "2.0" &&
    !("result" in parsed) &&
    isObject(parsed.error) &&
    typeof parsed.error.code === "number" &&
    ids.includes(parsed.id as JsonRpcId)
  );
}
