// How the answers the proxy gave itself to a POST reach the client alongside the upstream's: alone as JSON, prepended to an SSE answer, or merged into a JSON one. Pure shaping; reads no request, calls no upstream.

import { decodeUtf8, encodeUtf8 } from "../wire/jsonrpc.ts";

/** `messages` as SSE `message` events, one each: the proxy's own answers on a stream the client reads. */
export function messageEvents(messages: readonly unknown[]): Uint8Array {
  return encodeUtf8(messages.map((m) => `event: message\ndata: ${JSON.stringify(m)}\n\n`).join(""));
}

/** `messages` as SSE `message` events, sent before the upstream's stream `body`; cancelling the result cancels `body`. */
export function prependEvents(
  messages: readonly unknown[],
  body: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const head = messageEvents(messages);
  const reader = body.getReader();
  let sentHead = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** The upstream JSON answer (one message or a batch; unreadable counts as none) followed by the local answers, as one JSON array. */
export function mergeJson(upstream: Uint8Array, local: readonly unknown[]): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(upstream));
  } catch {
    parsed = undefined;
  }
  const fromUpstream = Array.isArray(parsed) ? parsed : parsed === undefined ? [] : [parsed];
  return JSON.stringify([...fromUpstream, ...local]);
}

/** `value` as a JSON response with `status`, marked as passing through the proxy (Via). */
export function jsonResponse(value: unknown, status: number): Response {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "content-type": "application/json", via: "1.1 baton-proxy" },
  });
}
