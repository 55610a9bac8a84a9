// The exit statuses baton-proxy gives for itself; in proxy mode it otherwise exits with the server's own status.

/** Every status of our own, by meaning. Commands return these; only src/main.ts calls process.exit. */
export const EXIT = {
  OK: 0,
  /** A subcommand could not do its job: a file unreadable or unchanged, a session not found, no events. */
  FAILED: 1,
  USAGE: 2,
  /** A bug of ours (an uncaught exception). */
  INTERNAL: 70,
  CONFIG: 78,
  NOT_EXECUTABLE: 126,
  NOT_FOUND: 127,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What each status means, for the help texts (one source with the table above). */
export const EXIT_MEANINGS: ReadonlyArray<readonly [ExitCode, string]> = [
  [EXIT.USAGE, "usage error"],
  [EXIT.INTERNAL, "internal error"],
  [EXIT.CONFIG, "configuration refused"],
  [EXIT.NOT_EXECUTABLE, "server not executable"],
  [EXIT.NOT_FOUND, "server not found"],
];
