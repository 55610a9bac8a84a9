// Diagnostics for humans: one prefixed line per message to stderr (and the optional log file); never stdout.

/** Where the proxy's own diagnostics go. Implementations must never write to stdout. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Characters that drive a terminal or rearrange what it shows: C0 controls but tab, DEL, C1
 * controls (U+009B is CSI on terminals that read them), line and paragraph separators, and the
 * bidi embeddings, overrides and isolates ("Trojan Source").
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` safe to print on a terminal as part of one line: what UNPRINTABLE matches is shown as an
 * escape (`\n`, `\r`, `\u001b`). Log lines and listings quote servers, clients, event files and
 * configuration values, any of which could otherwise retitle the window, erase or forge lines.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Writes `baton-proxy: <level>: <message>` lines through `write` (stderr and, when set, a tee file), each one line of printable text. */
export function createLogger(write: (line: string) => void, secrets: readonly string[] = []): Logger {
  const hide = secrets.filter((s) => s.length >= 4);
  const redact = (text: string): string => hide.reduce((t, s) => t.split(s).join("[redacted]"), text);
  const emit = (level: string, message: string): void => {
    try {
      write(`baton-proxy: ${level}: ${printable(redact(message))}\n`);
    } catch {
      // Logging must never take the pipe down (stderr closed, disk full): drop the line.
    }
  };
  return {
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
  };
}
