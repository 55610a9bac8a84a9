// Maps each configured SinkSpec to its sink; owns no I/O itself (stderr and fetch come in as parameters).

import type { Config } from "../../config.ts";
import { sinkLabel } from "../../config.ts";
import { LocalError } from "../../errors.ts";
import type { Logger } from "../../log.ts";
import { createFileSink } from "./file-sink.ts";
import { createHttpSink, type FetchLike } from "./http-sink.ts";
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
}

/**
 * One sink per `config.sinks` entry, in order. Opens nothing (the file sink opens on first flush).
 * Throws `LocalError` `E_CONFIG` only for an http sink without an API key, which `loadConfig` already refuses.
 */
export function createSinks(config: Config, logger: Logger, deps: SinkDeps): Sink[] {
  return config.sinks.map((spec): Sink => {
    switch (spec.kind) {
      case "stderr":
        return createStderrSink({ write: deps.writeStderr, logger });
      case "file":
        return createFileSink({ path: spec.path, logger });
      case "http": {
        if (config.apiKey === undefined) {
          throw new LocalError("E_CONFIG", `BATON_API_KEY is required for ${sinkLabel(spec)}`);
        }
        return createHttpSink({ url: spec.url, label: sinkLabel(spec), apiKey: config.apiKey, fetch: deps.fetch });
      }
    }
  });
}
