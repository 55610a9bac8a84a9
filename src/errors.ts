// Local errors: string codes for failures inside the proxy. Never serialised to a JSON-RPC peer (those are built in wire/jsonrpc.ts).

export type LocalErrorCode = "E_CONFIG" | "E_USAGE" | "E_SPAWN" | "E_SINK" | "E_REPORT" | "E_WRAP" | "E_IO" | "E_AUTH";

/** A failure of the proxy itself (config, spawn, sink, file). Always carries a code; `cause` when wrapping. */
export class LocalError extends Error {
  readonly code: LocalErrorCode;
  constructor(code: LocalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalError";
    this.code = code;
  }
}

/** A short human reason for any thrown value (`ENOENT: no such file…`), for log lines. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
