// The I/O a subcommand may use, passed in by src/main.ts so commands stay testable without processes.

/** What every subcommand gets from the entry point. Only main.ts builds one from the real process. */
export interface CommandContext {
  /** The environment (a plain object; never `process.env` itself in tests). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to the command's stdout (reports, diffs, listings). */
  readonly stdout: (text: string) => void;
  /** Writes to stderr (errors, warnings). */
  readonly stderr: (text: string) => void;
  /** Absolute path of the running baton-proxy binary (what `wrap` writes into configs). */
  readonly execPath: string;
  readonly cwd: string;
  readonly platform: NodeJS.Platform;
  /** The user's home directory (from HOME / USERPROFILE, resolved by main.ts). */
  readonly homeDir: string;
}
