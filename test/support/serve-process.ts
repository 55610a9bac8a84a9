// Test helper: runs `baton-proxy serve` on loopback port 0 and reports its MCP and admin URLs, log lines and exit code.

import { runServeCommand, type ExchangeFactory } from "../../src/serve/serve-command.ts";

export interface ServeHandle {
  /** The MCP endpoint, e.g. http://127.0.0.1:PORT/mcp. */
  readonly url: string;
  readonly origin: string;
  readonly adminUrl: string;
  /** Log lines so far (stderr of the proxy). */
  readonly log: string[];
  /** Event lines written to the stderr sink. */
  readonly events: string[];
  /** Sends SIGTERM (drain). */
  terminate(): void;
  readonly exited: Promise<number>;
  stop(): Promise<number>;
}

/**
 * Runs the serve command in this process (listeners on port 0; the signal is a function call).
 * `env` is the whole environment the command sees. Resolves once both listeners are up.
 */
export async function startServe(args: readonly string[], env: Record<string, string> = {}, createExchange?: ExchangeFactory): Promise<ServeHandle> {
  const log: string[] = [];
  const events: string[] = [];
  let handler: ((signal: NodeJS.Signals) => void) | undefined;
  let started!: (line: string) => void;
  const ready = new Promise<string>((resolve) => (started = resolve));
  const exited = runServeCommand(
    ["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", ...args],
    {
      env: { BATON_EVENT_SINK: "stderr:", ...env },
      stdout: () => undefined,
      stderr: (text) => {
        for (const line of text.split("\n").filter((l) => l !== "")) {
          log.push(line);
          if (line.includes("serving MCP on")) started(line);
        }
      },
      writeStderrEvents: (text) => {
        for (const line of text.split("\n").filter((l) => l !== "")) events.push(line);
      },
      now: () => performance.now(),
      onSignal: (h) => {
        handler = h;
        return () => (handler = undefined);
      },
    },
    createExchange,
  );
  const line = await Promise.race([ready, exited.then((code) => { throw new Error(`serve exited with ${code}: ${log.join("\n")}`); })]);
  const match = /serving MCP on (http:\/\/[^ ]+) -> .* admin on (http:\/\/[^ ]+) /.exec(line);
  if (match === null) throw new Error(`unexpected start line: ${line}`);
  const url = match[1] as string;
  const terminate = () => handler?.("SIGTERM");
  return {
    url,
    origin: new URL(url).origin,
    adminUrl: match[2] as string,
    log,
    events,
    terminate,
    exited,
    stop: async () => {
      terminate();
      return exited;
    },
  };
}
