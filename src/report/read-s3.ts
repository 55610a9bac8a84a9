// Reads the S3 sink's objects for `report s3://bucket/prefix`: lists them (all pages), streams each (gunzipped when .gz) as lines. I/O through Bun's S3 client.

import { maskUrl } from "../config-sinks.ts";
import { describeError, LocalError } from "../errors.ts";
import { parseObjectKey } from "../telemetry/sinks/s3-keys.ts";
import { createS3Client, parseS3Settings } from "../telemetry/sinks/s3-settings.ts";
import { compareInstants } from "./fold-values.ts";
import { splitLines } from "./read-events.ts";

/** Lines of every object (or only one session's objects), objects in key order. */
export type ReadLines = (sessionId?: string) => AsyncIterable<string>;

/** An s3:// prefix's lines, with each session's newest object time (LastModified; empty when the store gave none for some object). */
export type S3Lines = ReadLines & { readonly writtenAt: ReadonlyMap<string, string> };

/** What the reader needs from an S3 client; Bun.S3Client fits. */
export interface S3Reader {
  list(options: { prefix?: string; continuationToken?: string }): Promise<{
    contents?: { key: string; lastModified?: string }[];
    isTruncated?: boolean;
    nextContinuationToken?: string;
  }>;
  file(key: string): { stream(): ReadableStream<Uint8Array> };
}

/**
 * The Python proxy's key (upstream 0.5.3, one object per event): `prefix/tenant/session/<event_id>.json`,
 * its body one JSON event. Events from both proxies share buckets, so the report reads both layouts.
 */
const PYTHON_KEY = /(?:^|\/)([^/]+)\/[^/]+\.json$/;

/** The session and encoding of an event object, in this sink's layout or the Python proxy's; undefined for any other key. */
function eventObject(key: string): { sessionId: string; gzip: boolean } | undefined {
  const ours = parseObjectKey(key);
  if (ours !== undefined) return ours;
  const python = PYTHON_KEY.exec(key);
  return python === null ? undefined : { sessionId: python[1] as string, gzip: false };
}

/** True for `s3://…` report locations. */
export function isS3Location(location: string): boolean {
  return /^s3:\/\//i.test(location); // a scheme in any case, as the sink reads S3:// (RFC 3986)
}

/**
 * `s3://bucket[/prefix…]` → bucket and prefix (without outer slashes, percent-decoded as the sink's
 * BATON_EVENT_SINK entry is); undefined when there is no bucket or the encoding is bad.
 */
export function parseS3Location(location: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([^/?#]+)\/*([^?#]*)$/i.exec(location);
  if (match === null) return undefined;
  try {
    return { bucket: match[1] as string, prefix: decodeURIComponent(match[2] as string).replace(/\/+$/, "") };
  } catch {
    return undefined;
  }
}

/**
 * Lists the objects under the location (credentials and endpoint from the same AWS_* / S3_*
 * variables as the sink) and returns a line reader over them. Keys not written by the S3 sink
 * (and the Python proxy's) are ignored. Throws LocalError E_IO for a bad location, missing credentials, or a failed listing.
 * An object that cannot be read to its end (a cut or corrupt gzip stream, one deleted since the
 * listing) gives the lines read before the failure; `warn` names it once, and the other objects are read.
 */
export async function openS3Lines(
  location: string,
  env: Readonly<Record<string, string | undefined>>,
  reader?: S3Reader,
  warn: (text: string) => void = () => undefined,
): Promise<S3Lines> {
  // Quoted masked in every message: a location typed with credentials or a query must not reach the output.
  const shown = maskUrl(location);
  const parsed = parseS3Location(location);
  if (parsed === undefined) throw new LocalError("E_IO", `${shown} is not s3://bucket/prefix`);
  let client = reader;
  if (client === undefined) {
    const problems: string[] = [];
    const settings = parseS3Settings(env, problems);
    if (settings === undefined) throw new LocalError("E_IO", `cannot read ${shown}: ${problems.join("; ")}`);
    client = createS3Client(parsed.bucket, settings);
  }
  const { keys, writtenAt } = await listKeys(client, parsed.prefix === "" ? undefined : `${parsed.prefix}/`, shown);
  const s3 = client;
  const unreadable = new Set<string>(); // warned once, though the report reads the objects several times
  async function* lines(sessionId?: string): AsyncGenerator<string> {
    const objects = keys.flatMap((key) => {
      const info = eventObject(key);
      return info === undefined || (sessionId !== undefined && info.sessionId !== sessionId) ? [] : [{ key, ...info }];
    });
    // The next objects' GETs run while one is read: one at a time took 11.7 s for 5 168 objects on loopback.
    const ahead: ObjectRead[] = [];
    let next = 0;
    try {
      for (const object of objects) {
        while (next < objects.length && ahead.length < CONCURRENT_GETS)
          ahead.push(startRead(s3, (objects[next++] as { key: string }).key));
        const read = ahead.shift() as ObjectRead;
        try {
          const bytes = readBytes(read);
          yield* splitLines(
            object.gzip
              ? toStream(bytes).pipeThrough(
                  new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>,
                )
              : bytes,
          );
        } catch (error) {
          // One damaged object must not cost the report every other object of the bucket.
          if (!unreadable.has(object.key))
            warn(`skipped what could not be read of ${object.key} (${describeError(error)})`);
          unreadable.add(object.key);
        }
      }
    } finally {
      // A reader that stops early (the fold meeting an event out of order) leaves no GET open.
      for (const read of ahead) stopRead(read);
    }
  }
  return Object.assign(lines, { writtenAt });
}

/** GETs in flight at once while a prefix's objects are read. */
const CONCURRENT_GETS = 8;
/**
 * Bytes read ahead of its turn per object (memory: CONCURRENT_GETS of them); the rest of a larger
 * object (the sink's are up to 8 MiB) is read when its turn comes.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/** What is read of a GET's stream. */
interface ChunkReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(): Promise<void>;
}

/** The chunks as a stream (to pipe through gunzip); cancelling it ends the generator, which stops the GET. */
function toStream(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** One object's GET, started before its turn: the bytes read so far, then the stream for the rest. */
interface ObjectRead {
  readonly chunks: Uint8Array[];
  reader: ChunkReader | undefined;
  ended: boolean;
  failure: { error: unknown } | undefined;
  readAhead: Promise<void>;
}

function startRead(s3: S3Reader, key: string): ObjectRead {
  const read: ObjectRead = {
    chunks: [],
    reader: undefined,
    ended: false,
    failure: undefined,
    readAhead: Promise.resolve(),
  };
  read.readAhead = (async () => {
    try {
      const reader = s3.file(key).stream().getReader();
      read.reader = reader;
      for (let bytes = 0; bytes < READ_AHEAD_BYTES; ) {
        const chunk = await reader.read();
        if (chunk.done || chunk.value === undefined) {
          read.ended = true;
          return;
        }
        read.chunks.push(chunk.value);
        bytes += chunk.value.length;
      }
    } catch (error) {
      read.failure = { error };
    }
  })();
  return read;
}

/** The object's bytes in order: those read ahead, then the rest; throws what stopped the GET, after the bytes read before it. */
async function* readBytes(read: ObjectRead): AsyncGenerator<Uint8Array> {
  try {
    await read.readAhead;
    for (let chunk = read.chunks.shift(); chunk !== undefined; chunk = read.chunks.shift()) yield chunk;
    if (read.failure !== undefined) throw read.failure.error;
    const reader = read.reader as ChunkReader;
    for (let chunk = await reader.read(); !chunk.done && chunk.value !== undefined; chunk = await reader.read())
      yield chunk.value;
    read.ended = true;
  } catch (error) {
    read.failure ??= { error };
    throw error;
  } finally {
    stopRead(read);
  }
}

/** Cancels the GET unless it ended (or failed); its bytes read ahead are dropped. */
function stopRead(read: ObjectRead): void {
  read.chunks.length = 0;
  void read.readAhead.then(() => {
    if (!read.ended && read.failure === undefined) read.reader?.cancel().catch(() => undefined);
  });
}

async function listKeys(
  client: S3Reader,
  prefix: string | undefined,
  location: string,
): Promise<{ keys: string[]; writtenAt: Map<string, string> }> {
  const keys: string[] = [];
  const writtenAt = new Map<string, string>();
  let timed = true;
  let token: string | undefined;
  try {
    do {
      const page = await client.list({ prefix, continuationToken: token });
      for (const item of page.contents ?? []) {
        const info = eventObject(item.key);
        if (info === undefined) continue;
        keys.push(item.key);
        const at = item.lastModified;
        if (typeof at !== "string" || at === "") timed = false;
        else if (compareInstants(at, writtenAt.get(info.sessionId) ?? "") > 0) writtenAt.set(info.sessionId, at);
      }
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token !== undefined);
  } catch (error) {
    // With its code: Bun's S3 client says only "an unexpected error has occurred" when the endpoint is down.
    throw new LocalError("E_IO", `cannot list ${location}: ${describeError(error)}`, { cause: error });
  }
  if (keys.length === 0)
    throw new LocalError("E_IO", `no event objects under ${location} (check the bucket, prefix and AWS_* variables)`);
  if (!timed) writtenAt.clear();
  // Key order is tenant, day, session, first sequence (zero-padded): a session's objects in event order.
  return { keys: keys.sort(), writtenAt };
}
