// Maps each configured SinkSpec to its sink; owns no I/O itself (stderr and fetch come in as parameters).

import type { Config } from "../../config.ts";
import { sinkLabel } from "../../config.ts";
import { LocalError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { SYSTEM_CLOCK } from "../clock.ts";
import { createFileSink } from "./file-sink.ts";
import { createHttpSink, type FetchLike } from "./http-sink.ts";
import { createOtlpSink } from "./otlp-sink.ts";
import { createBunS3Put, type S3Put } from "./s3-put.ts";
import { createS3Sink } from "./s3-sink.ts";
import type { Sink } from "./sink.ts";
import { createStderrSink, type WriteText } from "./stderr-sink.ts";

export interface SinkDeps {
  /**
   * Writes event lines to stderr. Pass `createStreamWriter(process.stderr)` (from stderr-sink.ts) so
   * back-pressure is bounded; a plain `(text) => void` works but must never block.
   */
  writeStderr: WriteText;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** How hosts reach this process, for the `otlp:` sink's network.transport: "stdio" (default) or "http". */
  transport?: "stdio" | "http";
  /** How this process reaches the server, when it differs (`--url`: "http"); default: as `transport`. */
  upstream?: "stdio" | "http";
  /** The server's origin when it is reached over HTTP (`--url`, serve's `--upstream`), for the `otlp:` sink's server.address. */
  upstreamOrigin?: string;
  /** Default: Bun's S3 client per bucket (tests may pass another uploader). */
  s3Put?: (bucket: string) => S3Put;
}

/**
 * One sink per `config.sinks` entry, in order. Opens nothing (the file sink opens on first flush).
 * Throws `LocalError` `E_CONFIG` only for settings `loadConfig` already refuses (an http sink without an API
 * key, an s3/otlp sink without its settings).
 */
export function createSinks(config: Config, logger: Logger, deps: SinkDeps): Sink[] {
  return config.sinks.map((spec): Sink => {
    switch (spec.kind) {
      case "stderr":
        return createStderrSink({
          write: deps.writeStderr,
          logger,
          maskConsentTokens: config.consentMode === "per-request",
        });
      case "file":
        return createFileSink({ path: spec.path, logger });
      case "http": {
        if (config.apiKey === undefined) {
          throw new LocalError("E_CONFIG", `BATON_API_KEY is required for ${sinkLabel(spec)}`);
        }
        return createHttpSink({ url: spec.url, label: sinkLabel(spec), apiKey: config.apiKey, fetch: deps.fetch });
      }
      case "s3": {
        const settings = config.s3;
        if (settings === undefined) throw new LocalError("E_CONFIG", `${sinkLabel(spec)} has no S3 settings`);
        const put = deps.s3Put?.(spec.bucket) ?? createBunS3Put(spec.bucket, settings);
        const secrets = [settings.secretAccessKey, settings.sessionToken].filter((s): s is string => s !== undefined);
        return createS3Sink({
          label: sinkLabel(spec),
          prefix: spec.prefix,
          settings,
          put,
          clock: SYSTEM_CLOCK,
          secrets,
        });
      }
      case "otlp": {
        if (config.otlp === undefined) throw new LocalError("E_CONFIG", "otlp: has no OTLP settings");
        return createOtlpSink({
          settings: config.otlp,
          transport: deps.transport === "http" ? "tcp" : "pipe",
          upstreamTransport: deps.upstream === undefined ? undefined : deps.upstream === "http" ? "tcp" : "pipe",
          upstreamOrigin: deps.upstreamOrigin,
          fetch: deps.fetch,
        });
      }
    }
  });
}
