// Checks `baton-proxy wrap|unwrap` arguments (parsed by src/command-spec.ts from WRAP_SPEC) into WrapOptions. Pure.

import type { ParsedArgs } from "../command-spec.ts";
import { LocalError } from "../errors.ts";
import { CLIENT_NAMES, isClientName, type ClientName } from "./config-locations.ts";

export interface WrapOptions {
  readonly list: boolean;
  readonly all: boolean;
  readonly dryRun: boolean;
  readonly client: ClientName | undefined;
  readonly configPath: string | undefined;
  /** Server names to act on (empty with `--all` or `--list`). */
  readonly names: readonly string[];
}

/** The options, or LocalError `E_USAGE` naming the first misuse (combinations that cannot mean anything). */
export function toWrapOptions(args: ParsedArgs): WrapOptions {
  const { values, positionals: names } = args;
  const text = (name: string): string | undefined =>
    typeof values[name] === "string" ? (values[name] as string) : undefined;
  // The names are fixed identifiers: `Cursor` or `VSCode` names the client as its lower-case spelling does.
  const given = text("client");
  const client = given?.toLowerCase();
  if (client !== undefined && !isClientName(client))
    throw usage(`unknown client "${given}" (known: ${CLIENT_NAMES.join(", ")})`);
  const options: WrapOptions = {
    list: values.list === true,
    all: values.all === true,
    dryRun: values["dry-run"] === true,
    client,
    configPath: text("config"),
    names,
  };
  if (options.client !== undefined && options.configPath !== undefined)
    throw usage("give either --client or --config, not both");
  if (options.all && names.length > 0) throw usage("give either server names or --all, not both");
  if (options.list && (options.all || names.length > 0 || options.dryRun))
    throw usage("--list takes no server names, --all or --dry-run");
  return options;
}

function usage(reason: string): LocalError {
  return new LocalError("E_USAGE", reason);
}
