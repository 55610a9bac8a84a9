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

/**
 * A short human reason for any thrown value (`ENOENT: no such file…`), for log lines. An OS or
 * library code leads (it is what a user searches for); a {@link LocalError}'s code (`E_SINK`) is the
 * program's own (exit status, tests), and its message already says the failure in words.
 */
export function describeError(error: unknown): string {
  if (error instanceof LocalError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** The codes Bun gives a connection that could not be made, whatever stopped it (see descriptorShortageHint). */
const CONNECTION_REFUSED = new Set(["ECONNREFUSED", "ConnectionRefused"]);

/**
 * Bun reports a socket it could not create for want of a descriptor (EMFILE: `ulimit -n`, or every
 * descriptor held by client connections) as a refused connection, which sends an operator to look
 * at an upstream that is up. After such a code, and only then, `canOpen` (the probe is I/O, so the
 * caller passes it: transport/descriptors.ts canOpenDescriptor) is asked; when it finds no
 * descriptor left, the real cause, appended to the reason; "" otherwise.
 */
export function descriptorShortageHint(code: string, canOpen: () => boolean): string {
  return CONNECTION_REFUSED.has(code) && !canOpen()
    ? "; but this process is out of file descriptors (EMFILE), which Bun reports so: the connection was never tried. Raise `ulimit -n`, or look for clients holding many connections"
    : "";
}

/** Codes of a certificate no CA of this machine signed (a private CA, a self-signed development server). */
const UNTRUSTED_CERTIFICATE =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/;

/** How to trust such a certificate, appended to a TLS failure's reason; "" for any other code. */
export function certificateTrustHint(code: string): string {
  return UNTRUSTED_CERTIFICATE.test(code)
    ? "; its certificate is not signed by a CA this machine trusts: to trust that CA (or the certificate), set NODE_EXTRA_CA_CERTS to its PEM file in the proxy's environment"
    : "";
}
