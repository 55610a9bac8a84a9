// Diagnostics for humans: one prefixed line per message to stderr (and the optional log file); never stdout.

/** Where the proxy's own diagnostics go. Implementations must never write to stdout. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Writes `baton-proxy: <level>: <message>` lines through `write` (stderr and, when set, a tee file). */
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

/** C0 and C1 control characters but tab: what a terminal acts on (ESC sequences, OSC 52 clipboard writes) or a line break. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be escaped
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * `text` on one line with its control characters written as escapes (`\n`, `\u001b`): messages
 * quote what a remote server said (an error description, a JSON-RPC error message), which must
 * neither forge a line of ours nor reach the user's terminal as an escape sequence.
 */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
