// The registry of subcommands (report, wrap, unwrap, serve, auth) and the one way each is dispatched: parse, help, run, map errors to exit codes.

import type { CommandContext } from "./command-context.ts";
import { type CommandSpec, parseCommandArgs, renderCommandHelp, renderSynopsis } from "./command-spec.ts";
import { LocalError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { printable } from "./log.ts";
import { AUTH_SPEC } from "./remote/auth-spec.ts";
import { REPORT_SPEC } from "./report/report-spec.ts";
import { SERVE_SPEC } from "./serve/serve-spec.ts";
import { UNWRAP_SPEC, WRAP_SPEC } from "./wrap/wrap-spec.ts";

/**
 * Every subcommand, in help order. Adding one: write its CommandSpec (its `load` imports the
 * implementation lazily) and list it here; its name becomes reserved on the command line.
 */
export const SUBCOMMANDS: readonly CommandSpec[] = [REPORT_SPEC, WRAP_SPEC, UNWRAP_SPEC, SERVE_SPEC, AUTH_SPEC];

export function findSubcommand(name: string): CommandSpec | undefined {
  return SUBCOMMANDS.find((spec) => spec.name === name);
}

/**
 * Runs one subcommand and returns its exit code. A LocalError `E_USAGE` from parsing or from the
 * command prints the reason and the synopsis (exit 2); `E_CONFIG` carries the configuration
 * refusal (exit 78); any other LocalError is a failure of the command (exit 1).
 */
export async function runSubcommand(spec: CommandSpec, args: readonly string[], ctx: CommandContext): Promise<number> {
  try {
    const parsed = parseCommandArgs(spec, args);
    if (parsed.values.help === true) {
      ctx.stdout(renderCommandHelp(spec));
      return EXIT.OK;
    }
    const run = await spec.load();
    return await run(parsed, ctx);
  } catch (error) {
    if (!(error instanceof LocalError)) throw error;
    // A message may quote a peer (an authorization server's error, a file's text): one printable
    // line. A configuration refusal is one problem per line, each already printable.
    const message = error.code === "E_CONFIG" ? error.message : printable(error.message);
    if (error.code === "E_USAGE") {
      ctx.stderr(
        `baton-proxy ${spec.name}: ${message}\n${renderSynopsis(spec)}\nRun "baton-proxy ${spec.name} --help" for details.\n`,
      );
      return EXIT.USAGE;
    }
    ctx.stderr(`baton-proxy ${spec.name}: ${message}\n`);
    return error.code === "E_CONFIG" ? EXIT.CONFIG : EXIT.FAILED;
  }
}
