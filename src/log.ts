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
      write(`baton-proxy: ${level}: ${redact(message)}\n`);
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
