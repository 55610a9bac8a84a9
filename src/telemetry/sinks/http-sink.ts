// The `http(s)://` sink: POSTs batches to {url}/v0/events with a per-request timeout; never retries, never puts a secret in an error.

import { describeError, LocalError } from "../../errors.ts";
import { describeUnfollowedRedirect, sameOriginFetch } from "../../remote/same-origin-fetch.ts";
import { SDK_VERSION } from "../../version.ts";
import { createLineBatchSink } from "./line-batch-sink.ts";
import type { Sink, SinkDrop } from "./sink.ts";

/** Per request; the dispatcher's export timeout bounds the whole flush on top of it. */
export const HTTP_TIMEOUT_MS = 1_500;
/** Events per request body; a larger batch is split. */
export const MAX_HTTP_BATCH_EVENTS = 500;
/**
 * Body size per request in UTF-8 bytes, `{"events":[` and `]}` included (a console behind nginx
 * refuses a body over its default 1 MiB with 413); a single larger event goes alone.
 */
export const MAX_HTTP_BODY_BYTES = 1_048_576;
/** Appended to the configured URL. */
export const EVENTS_PATH = "/v0/events";

/** What we need from `fetch`; `globalThis.fetch` fits. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpSinkOptions {
  /** Base URL without a trailing slash (as `loadConfig` gives it). */
  url: string;
  /** Log-safe name (`sinkLabel`): credentials in the URL masked. */
  label: string;
  apiKey: string;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Default {@link HTTP_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Defaults {@link MAX_HTTP_BATCH_EVENTS} and {@link MAX_HTTP_BODY_BYTES}. */
  maxEvents?: number;
  maxBodyBytes?: number;
}

/** `{"events":[` and `]}` around a body's lines, less the comma the first line does not need. */
const WRAPPER_BYTES = '{"events":[]}'.length - 1;

/**
 * Builds `{"events":[…]}` bodies from already-serialised lines by concatenation (no re-stringify),
 * each holding at most `maxEvents` lines and at most `maxBodyBytes` (UTF-8); a line larger than that alone.
 */
export function buildBodies(lines: readonly string[], maxEvents: number, maxBodyBytes: number): string[] {
  return bodyRanges(lines, maxEvents, maxBodyBytes).map(([start, end]) => wrapEvents(lines.slice(start, end)));
}

/** Where {@link buildBodies} cuts `lines`: `[start, end)` per body, so a flush builds each body just before sending it. */
function bodyRanges(lines: readonly string[], maxEvents: number, maxBodyBytes: number): [number, number][] {
  const ranges: [number, number][] = [];
  let start = 0;
  let size = WRAPPER_BYTES;
  for (let i = 0; i < lines.length; i++) {
    // Bytes, not the line's UTF-16 length: CJK text is 3 bytes a unit, and bodies came out three times the bound.
    const length = Buffer.byteLength(lines[i] as string) + 1;
    if (i - start >= maxEvents || (i > start && size + length > maxBodyBytes)) {
      ranges.push([start, i]);
      start = i;
      size = WRAPPER_BYTES;
    }
    size += length;
  }
  if (lines.length > start) ranges.push([start, lines.length]);
  return ranges;
}

/**
 * `{"events":[…]}` as one flat string: the brackets go onto the first and last lines (short copies)
 * so the join builds the body at once; a template around the join is a rope that `fetch` flattens
 * into a second copy of every body.
 */
function wrapEvents(lines: string[]): string {
  const last = lines.length - 1;
  lines[0] = `{"events":[${lines[0]}`;
  lines[last] = `${lines[last]}]}`;
  return lines.join(",");
}

/**
 * Creates the HTTP sink. Redirects are followed only within the URL's origin; one elsewhere fails
 * like any non-2xx answer. `flush` sends the buffered batch as one or more sequential requests and
 * rejects with `E_SINK` on the first non-2xx status (with the status), network error or timeout;
 * the remaining requests of that batch are not tried (when earlier ones were accepted, flush
 * resolves and `takeDrops` reports only the lines not sent). Retry policy: none. A failed batch is dropped
 * and counted by the dispatcher (a console that is down would otherwise receive growing bursts).
 * Error messages carry the label, never the URL's credentials, the API key or any event content.
 */
export function createHttpSink(options: HttpSinkOptions): Sink {
  const { label, apiKey } = options;
  const endpoint = `${options.url}${EVENTS_PATH}`;
  // Redirects only within the console's origin: elsewhere, the events (consent tokens included) would follow.
  const doFetch = sameOriginFetch(options.fetch ?? ((url, init) => fetch(url, init)), new URL(endpoint).origin);
  const timeoutMs = options.timeoutMs ?? HTTP_TIMEOUT_MS;
  const headers = {
    Authorization: `Bearer ${apiKey}`,
    "Content-Type": "application/json",
    "User-Agent": SDK_VERSION,
  };

  const hide = (text: string): string =>
    [options.url, apiKey].filter((s) => s.length >= 4).reduce((t, s) => t.split(s).join(label), text);

  async function post(body: string): Promise<void> {
    let response: Response;
    try {
      response = await doFetch(endpoint, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : hide(describeError(error));
      throw new LocalError("E_SINK", `${label}: POST ${EVENTS_PATH} failed: ${reason}`, { cause: error });
    }
    // Read and discard the body so the connection can be reused; it is never logged (it could echo the key).
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) {
      const redirect = describeUnfollowedRedirect(response, endpoint);
      const why = redirect === undefined ? "" : hide(`: ${redirect} (events and the API key go only to ${label})`);
      throw new LocalError("E_SINK", `${label}: POST ${EVENTS_PATH} answered HTTP ${response.status}${why}`);
    }
  }

  // Lines of a batch cut short after some of its requests were accepted: only those are lost, reported as the sink's own drops.
  let unreported: SinkDrop[] = [];

  async function deliver(lines: string[]): Promise<void> {
    const ranges = bodyRanges(
      lines,
      options.maxEvents ?? MAX_HTTP_BATCH_EVENTS,
      options.maxBodyBytes ?? MAX_HTTP_BODY_BYTES,
    );
    // One body in memory at a time: each is built just before its request (a hanging console holds one, not the batch's all).
    for (const [index, [start, end]] of ranges.entries()) {
      try {
        await post(wrapEvents(lines.slice(start, end)));
      } catch (error) {
        if (index === 0) throw error;
        // A rejected flush would count the whole batch, though the console has the earlier requests' events.
        const note = `request ${index + 1} of ${ranges.length}; earlier ones were accepted`;
        unreported.push({
          count: lines.length - start,
          kind: "flush failed",
          detail: `${(error as Error).message} (${note})`,
        });
        return;
      }
    }
  }

  return {
    ...createLineBatchSink(label, deliver),
    takeDrops(): SinkDrop[] {
      const taken = unreported;
      unreported = [];
      return taken;
    },
  };
}
