// One description per subcommand (synopsis, operands, options, exit statuses) that both parses its arguments and renders its help.

import { parseArgs } from "node:util";
import type { CommandContext } from "./command-context.ts";
import { closestName } from "./config-hints.ts";
import { LocalError } from "./errors.ts";

export interface OptionSpec {
  /** Long name without the dashes (`session` for `--session`). */
  readonly name: string;
  readonly short?: string;
  /** Placeholder of the option's value (`ID`); absent for a flag. */
  readonly value?: string;
  /** May be given more than once (`--header A --header B`): its value is then a string array. */
  readonly multiple?: boolean;
  readonly help: string;
}

export type OptionValue = string | boolean | string[] | undefined;

/** The node:util parseArgs option table for an OptionSpec list. */
export function toParseArgsOptions(
  table: readonly OptionSpec[],
): Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const o of table) {
    options[o.name] = {
      type: o.value === undefined ? "boolean" : "string",
      ...(o.short === undefined ? {} : { short: o.short }),
      ...(o.multiple === true ? { multiple: true } : {}),
    };
  }
  return options;
}

/** What a subcommand's runner gets: option values by long name (flags true when given) and the operands. */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, OptionValue>>;
  readonly positionals: readonly string[];
}

export type CommandRunner = (args: ParsedArgs, ctx: CommandContext) => Promise<number>;

export interface CommandSpec {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** Argument patterns after `baton-proxy <name>`, one per usage line. */
  readonly synopsis: readonly string[];
  readonly description: readonly string[];
  readonly operands: ReadonlyArray<readonly [string, string]>;
  readonly options: readonly OptionSpec[];
  readonly notes?: readonly string[];
  /** Said after "unexpected argument" when the command takes no operands: what the user likely meant. */
  readonly operandHint?: string;
  /** Exit statuses and their meaning in this command. */
  readonly exits: ReadonlyArray<readonly [number, string]>;
  /** Loads the implementation on demand: a proxy start must not pay for subcommand modules. */
  readonly load: () => Promise<CommandRunner>;
}

const HELP_OPTION: OptionSpec = { name: "help", short: "h", help: "show this help" };

/** Every option a command accepts, `-h/--help` included. */
function optionsOf(spec: CommandSpec): readonly OptionSpec[] {
  return [...spec.options, HELP_OPTION];
}

/**
 * Parses a subcommand's arguments with node:util's parseArgs (strict: unknown options, missing
 * values and an option given twice, unless it repeats, are errors; `--` ends the options). Throws LocalError `E_USAGE` with a short
 * reason; an empty or blank value (`--session=`, `--session " "`) counts as missing.
 */
export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedArgs {
  return parseOptionList(optionsOf(spec), args, spec.operands.length > 0, spec.operandHint);
}

/** parseArgs over a table of options; LocalError `E_USAGE` in our words for every misuse. */
export function parseOptionList(
  table: readonly OptionSpec[],
  args: readonly string[],
  allowPositionals: boolean,
  operandHint?: string,
): ParsedArgs {
  let parsed: {
    values: Record<string, OptionValue>;
    positionals: string[];
    tokens: Array<{ kind: string; name?: string }>;
  };
  try {
    parsed = parseArgs({
      args: [...args],
      options: toParseArgsOptions(table),
      allowPositionals: true,
      strict: true,
      tokens: true,
    }) as typeof parsed;
  } catch (error) {
    throw new LocalError("E_USAGE", describeParseError(error, table), { cause: error });
  }
  // parseArgs keeps the last of a repeated option: `--url A --url B` would silently drop A. The
  // values are not quoted (a URL may hold credentials). A flag given twice is refused by the same
  // rule (every option once, README), not read as something a second one could mean.
  for (const option of table) {
    if (option.multiple === true) continue;
    const times = parsed.tokens.filter((t) => t.kind === "option" && t.name === option.name).length;
    if (times > 1)
      throw new LocalError(
        "E_USAGE",
        `--${option.name} is given ${times} times${option.value === undefined ? "" : `; it takes one ${option.value}`}`,
      );
  }
  // Blank counts as empty: `--listen "$LISTEN"` with LISTEN unset must not quietly mean "the default".
  const blank = (text: string): boolean => text.trim() === "";
  for (const option of table) {
    const value = parsed.values[option.name];
    if (
      option.value !== undefined &&
      ((typeof value === "string" && blank(value)) || (Array.isArray(value) && value.some(blank)))
    )
      throw new LocalError("E_USAGE", `--${option.name} needs a value (${option.value})`);
  }
  if (!allowPositionals && parsed.positionals.length > 0)
    throw new LocalError(
      "E_USAGE",
      `unexpected argument "${parsed.positionals[0]}"${operandHint === undefined ? "" : `: ${operandHint}`}`,
    );
  return { values: parsed.values, positionals: parsed.positionals };
}

/** node:util's messages are long and name the fix for another tool's conventions: keep the fact, in our words. */
function describeParseError(error: unknown, table: readonly OptionSpec[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const named =
    /Option '(?:-\w, )?(-{1,2}[^' <,]+)/.exec(message)?.[1] ?? /Unknown option '([^']+)'/.exec(message)?.[1];
  const option = named === undefined ? undefined : named.startsWith("-") ? named : `-${named}`;
  const known = table.find((o) => option === `--${o.name}` || option === `-${o.short}`);
  if (message.startsWith("Unknown option")) {
    // A near miss names the option meant, as a misspelt BATON_* variable does (`--lisen` → --listen).
    const meant = option?.startsWith("--")
      ? closestName(
          option.slice(2).toLowerCase(),
          table.map((o) => o.name),
        )
      : undefined;
    return `unknown option ${option ?? message}${meant === undefined ? "" : ` (did you mean --${meant}?)`}`;
  }
  if (message.includes("does not take an argument")) return `${option} takes no value`;
  if (message.includes("argument missing") || message.includes("argument is ambiguous")) {
    return `${option} needs a value${known?.value === undefined ? "" : ` (${known.value})`}`;
  }
  return message.split("\n")[0] ?? message;
}

/** `Usage:` lines of a command (also printed after a usage error). */
export function renderSynopsis(spec: CommandSpec): string {
  return spec.synopsis
    .map((line, i) => `${i === 0 ? "Usage:" : "      "} baton-proxy ${spec.name}${line === "" ? "" : ` ${line}`}`)
    .join("\n");
}

/** Aligned `  -h, --help  text` lines for an option table, plus extra `[label, text]` rows (operands). */
export function renderOptionRows(
  table: readonly OptionSpec[],
  extra: ReadonlyArray<readonly [string, string]> = [],
): string {
  const label = (o: OptionSpec): string =>
    `${o.short === undefined ? "    " : `-${o.short}, `}--${o.name}${o.value === undefined ? "" : ` ${o.value}`}`;
  const rows: Array<readonly [string, string]> = [...extra, ...table.map((o) => [label(o), o.help] as const)];
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, help]) => `  ${name.padEnd(width)}  ${help}`).join("\n");
}

/** The full `baton-proxy <name> --help` text. */
export function renderCommandHelp(spec: CommandSpec): string {
  const sections = [renderSynopsis(spec), spec.description.join("\n")];
  if (spec.operands.length > 0) sections.push(`Arguments:\n${renderOptionRows([], spec.operands)}`);
  sections.push(`Options:\n${renderOptionRows(optionsOf(spec))}`);
  if (spec.notes !== undefined) sections.push(spec.notes.join("\n"));
  sections.push(fill(`Exit status: ${spec.exits.map(([code, meaning]) => `${code} ${meaning}`).join(", ")}.`));
  return `${sections.join("\n\n")}\n`;
}

/** Breaks a paragraph into lines of at most `width` characters at spaces. */
export function fill(text: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return [...lines, line].join("\n");
}
