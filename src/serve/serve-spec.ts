// The `serve` subcommand's arguments, help and exit statuses (parsed and rendered by src/command-spec.ts; flags from serve-flags.ts).

import type { CommandContext } from "../command-context.ts";
import { type CommandSpec, fill } from "../command-spec.ts";
import { KNOWN_VARIABLES, URL_ONLY_VARIABLES } from "../config.ts";
import { LocalError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { SERVE_FLAGS, SERVE_OPTIONS } from "./serve-flags.ts";
import type { ServeIo } from "./serve-command.ts";
import { STDIO_SERVER_HINT } from "./serve-values.ts";

/** Variables of `--url` and `wrap`: serve does not read them. */
const URL_ONLY = new Set<string>(URL_ONLY_VARIABLES);
const SERVE_ENV = new Set<string>(Object.values(SERVE_FLAGS).map((spec) => spec.env));
/** The stdio proxy's settings that apply to serve too (sinks, tenant, scrubbing...). */
const SHARED_VARIABLES = KNOWN_VARIABLES.filter(
  // BATON_PRINCIPAL is the one user of a stdio proxy: serve takes each request's own (engine-exchange.ts).
  (name) => !SERVE_ENV.has(name) && !URL_ONLY.has(name) && name !== "BATON_PRINCIPAL",
);

export const SERVE_SPEC: CommandSpec = {
  name: "serve",
  summary: "a Streamable HTTP proxy in front of a hosted MCP server, with telemetry",
  synopsis: ["--upstream URL [--listen HOST:PORT] [--path PATH] [--admin-listen HOST:PORT] [options]"],
  description: [
    "Serves MCP over Streamable HTTP on --path and forwards it to --upstream: one telemetry session per",
    "Mcp-Session-Id, SSE relayed event by event, the proxy's tools and instructions injected as over stdio.",
    "Every other path goes byte for byte to the same path on the upstream's origin (OAuth discovery,",
    "/authorize, /token, /register): configure the upstream with this proxy's public URL as its resource.",
    "/healthz, /readyz and /metrics (Prometheus) are on the separate --admin-listen address.",
  ],
  operands: [],
  // `baton-proxy serve -- npx server`: a stdio server's command, which serve does not run.
  operandHint: STDIO_SERVER_HINT,
  options: SERVE_OPTIONS,
  notes: [
    "Every flag has an environment form (named after it); the flag wins (a variable it overrides is warned about).",
    "The stdio proxy's settings apply too:",
    fill(
      `${SHARED_VARIABLES.join(", ")} (see README). BATON_PRINCIPAL is not used: each request names its own ` +
        "user (the BATON_PRINCIPAL_HEADER header, or the bearer JWT's sub and iss), and one without is nobody's.",
    ),
    fill(
      "BATON_CONSENT_MODE=static (default: BATON_CONSENT_TOKEN for every event) or per-request: each " +
        'request\'s Baton-Consent-Token header, or its params._meta["baton/consent_token"], decides whether ' +
        "its events are recorded; no token, no events; a session whose handshake had none sees the upstream " +
        "unchanged. Remote sinks need no BATON_CONSENT_TOKEN in that mode.",
    ),
    "SIGTERM/SIGINT: readiness 503 at once, no new sessions, requests in flight finish (--drain-timeout-ms),",
    "open GET and subscriptions/listen streams are closed, events flushed, exit 0. After SIGTERM the listener stays open (unready)",
    "for min(--drain-timeout-ms, 5000) ms while load balancers stop routing here; a second signal stops at once",
    "(ended by that signal: 143 for SIGTERM, 130 for SIGINT as a shell reports it; events not yet flushed are lost).",
  ],
  exits: [
    [EXIT.OK, "drained after SIGTERM or SIGINT"],
    [EXIT.FAILED, "cannot listen on an address"],
    [EXIT.USAGE, "usage error"],
    [EXIT.CONFIG, "configuration refused"],
  ],
  load: async () => {
    const { runServeCommand } = await import("./serve-command.ts");
    return (args, ctx) => runServeCommand(args.values, serveIo(ctx));
  },
};

/** The entry point's context carries signals, a clock and the event writer too (src/run.ts RunIo); say so if it does not. */
function serveIo(ctx: CommandContext): ServeIo {
  const io = ctx as CommandContext & Partial<ServeIo>;
  if (typeof io.onSignal !== "function" || typeof io.now !== "function" || typeof io.writeStderrEvents !== "function") {
    throw new LocalError("E_USAGE", "serve needs the process context (signals, clock, stderr writer) from src/main.ts");
  }
  return io as ServeIo;
}
