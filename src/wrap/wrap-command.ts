// `baton-proxy wrap|unwrap`: selects files and servers, plans every edit before writing any, prints diffs, writes safely. Output via ctx; files via load-configs and rewrite-file.

import { statSync } from "node:fs";
import path from "node:path";
import type { CommandContext } from "../command-context.ts";
import type { ParsedArgs } from "../command-spec.ts";
import { describeError, LocalError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { printable } from "../log.ts";
import { displayPath, knownConfigLocations, type ConfigLocation } from "./config-locations.ts";
import { renderEntryDiff } from "./diff.ts";
import { planFileEdit, readArgsHints, type EntryOutcome, type FilePlan, type WrapMode } from "./file-plan.ts";
import { loadConfigs, type LoadedConfig } from "./load-configs.ts";
import { describeFile, renderListing, renderServersFound } from "./render-listing.ts";
import { readBackup, writeBackupOnce, writeFileAtomic } from "./rewrite-file.ts";
import { describeJsonPath } from "./server-entries.ts";
import { toWrapOptions, type WrapOptions } from "./wrap-args.ts";

/** Runtimes that must never be written into a config as "the proxy" (wrap run from source). */
const NOT_A_PROXY = /^(?:bun|node|deno)(?:\.exe)?$/i;

/**
 * Runs `baton-proxy wrap …` or `baton-proxy unwrap …` with its parsed arguments and returns the
 * exit code: 0 done (or nothing to do), 1 a file could not be read, parsed or written (each
 * named; broken files are never touched). Misuse throws LocalError `E_USAGE`. Every file is
 * planned and checked before any is written.
 */
export async function runWrapCommand(args: ParsedArgs, ctx: CommandContext, mode: WrapMode): Promise<number> {
  const options = toWrapOptions(args);
  const execPath = stableProxyPath(ctx.execPath, isFile);
  const { loaded, missing, problems } = await loadConfigs(selectLocations(options, ctx), execPath, ctx.homeDir);
  for (const problem of problems) ctx.stderr(`baton-proxy ${mode}: ${printable(problem)}\n`);
  if (options.list) {
    ctx.stdout(renderListing(loaded, missing, ctx.homeDir));
    return problems.length > 0 ? EXIT.FAILED : EXIT.OK;
  }
  if (problems.length > 0) {
    ctx.stderr(
      `baton-proxy ${mode}: nothing was changed; fix the file(s) above or pick others with --client/--config\n`,
    );
    return EXIT.FAILED;
  }
  const selfProblem = mode === "wrap" ? checkExecPath(ctx) : undefined;
  if (selfProblem !== undefined) {
    ctx.stderr(`baton-proxy wrap: ${selfProblem}\n`);
    return EXIT.FAILED;
  }
  const found = renderServersFound(loaded, ctx.homeDir);
  if (!options.all && options.names.length === 0)
    throw new LocalError("E_USAGE", `name the servers to ${mode}, or use --all (servers found: ${found})`);
  const known = new Set(loaded.flatMap((config) => config.entries.map((entry) => entry.name)));
  const unknown = options.names.filter((name) => !known.has(name));
  if (unknown.length > 0)
    throw new LocalError(
      "E_USAGE",
      `no server named ${unknown.map((n) => `"${n}"`).join(", ")} (servers found: ${found})`,
    );

  const plans: Array<{ config: LoadedConfig; plan: FilePlan }> = [];
  for (const config of loaded) {
    const selected = config.entries.filter((entry) => options.all || options.names.includes(entry.name));
    if (selected.length === 0) continue;
    const backup = mode === "unwrap" ? await readBackup(config.file.path) : undefined;
    const argsHints = backup === undefined ? undefined : readArgsHints(backup, config.location.format, execPath);
    try {
      plans.push({
        config,
        plan: planFileEdit({
          text: config.file.text,
          root: config.root,
          selected,
          mode,
          execPath,
          argsHints,
        }),
      });
    } catch (error) {
      ctx.stderr(
        `baton-proxy ${mode}: ${displayPath(config.file.path, ctx.homeDir)}: ${describeError(error)}; nothing was changed\n`,
      );
      return EXIT.FAILED;
    }
  }
  return await carryOut(plans, options, ctx, mode);
}

/** Prints every outcome, then writes the changed files (unless --dry-run) and a summary. */
async function carryOut(
  plans: ReadonlyArray<{ config: LoadedConfig; plan: FilePlan }>,
  options: WrapOptions,
  ctx: CommandContext,
  mode: WrapMode,
): Promise<number> {
  let exitCode: number = EXIT.OK;
  let changedEntries = 0;
  /** Changed entries of files that could not be written: not wrapped, whatever the diff above showed. */
  let unwrittenEntries = 0;
  let writtenFiles = 0;
  for (const { config, plan } of plans) {
    const fileName = describeFile(config.location, ctx.homeDir);
    for (const outcome of plan.outcomes) {
      const where = `${fileName} ${describeJsonPath(outcome.entry.path)}`;
      if (outcome.kind === "changed") ctx.stdout(renderEntryDiff(where, outcome.before, outcome.after));
      else if (outcome.kind === "skipped") ctx.stdout(`${printable(`${where}: ${outcome.reason}`)}\n`);
      else {
        ctx.stderr(`baton-proxy ${mode}: ${printable(`${where}: ${outcome.reason}`)}\n`);
        exitCode = EXIT.FAILED;
      }
    }
    const changed = plan.outcomes.filter((outcome: EntryOutcome) => outcome.kind === "changed");
    if (changed.length === 0) continue;
    if (config.location.format === "claude-json") {
      ctx.stderr(
        `baton-proxy ${mode}: warning: ${displayPath(config.file.path, ctx.homeDir)} is Claude Code's state file and Claude Code rewrites it while running: quit Claude Code first, or it may overwrite this change\n`,
      );
    }
    if (options.dryRun) {
      changedEntries += changed.length;
      continue;
    }
    try {
      const backup = await writeBackupOnce(config.file);
      // A backup already there is not this file as it is now: say so, or the user takes it for this run's.
      const kept = backup.kept ? " already exists (from an earlier run): kept as it is, not replaced" : "";
      ctx.stdout(`${printable(`backup: ${displayPath(backup.path, ctx.homeDir)}${kept}`)}\n`);
      await writeFileAtomic(config.file, plan.newText);
      writtenFiles++;
      changedEntries += changed.length;
    } catch (error) {
      ctx.stderr(`baton-proxy ${mode}: ${describeError(error)}\n`);
      exitCode = EXIT.FAILED;
      unwrittenEntries += changed.length;
    }
  }
  ctx.stdout(`${renderSummary(mode, options.dryRun, changedEntries, writtenFiles, plans.length, unwrittenEntries)}\n`);
  return exitCode;
}

function renderSummary(
  mode: WrapMode,
  dryRun: boolean,
  entries: number,
  files: number,
  planned: number,
  unwritten: number,
): string {
  const past = mode === "wrap" ? "wrapped" : "unwrapped";
  const servers = (n: number): string => `${n} server${n === 1 ? "" : "s"}`;
  if (unwritten > 0) {
    const lost = `${servers(unwritten)} not ${past}: ${unwritten === 1 ? "its" : "their"} file could not be written (see above).`;
    if (entries === 0) return `No server was ${past}: ${lost}`;
    return `${servers(entries)} ${past} in ${files} file${files === 1 ? "" : "s"}; ${lost} Restart or reload the client(s) to apply.`;
  }
  if (entries === 0) {
    return planned === 0
      ? "Nothing to do: no servers selected."
      : `Nothing to do: every selected server is ${mode === "wrap" ? "already wrapped" : "not wrapped"} or remote.`;
  }
  if (dryRun) return `Dry run: ${servers(entries)} would be ${past}; nothing was written.`;
  return `${servers(entries)} ${past} in ${files} file${files === 1 ? "" : "s"}. Restart or reload the client(s) to apply.`;
}

/** `--config` (relative to cwd) wins, then `--client`, else every known location. */
function selectLocations(options: WrapOptions, ctx: CommandContext): ConfigLocation[] {
  if (options.configPath !== undefined) {
    const p = ctx.platform === "win32" ? path.win32 : path.posix;
    return [{ client: "custom", path: p.resolve(ctx.cwd, options.configPath), format: "mcpServers" }];
  }
  return knownConfigLocations(ctx, options.client);
}

/**
 * The proxy path to write into configs. Homebrew runs the binary from its versioned keg
 * (`<prefix>/Cellar/baton-proxy/0.1.0/bin/baton-proxy`, where the kernel resolves `bin/`'s links),
 * which `brew upgrade` deletes: every wrapped server would then fail to start. Its `opt/` link
 * follows upgrades; used when it is there.
 */
export function stableProxyPath(execPath: string, isFile: (path: string) => boolean): string {
  const keg = /^(.*)\/Cellar\/([^/]+)\/[^/]+\/bin\/([^/]+)$/.exec(execPath);
  if (keg === null) return execPath;
  const opt = `${keg[1]}/opt/${keg[2]}/bin/${keg[3]}`;
  return isFile(opt) ? opt : execPath;
}

function isFile(filePath: string): boolean {
  try {
    return statSync(filePath).isFile();
  } catch {
    return false;
  }
}

/** Hosts spawn without a shell or PATH search guarantees: the proxy path must be absolute and be the proxy. */
function checkExecPath(ctx: CommandContext): string | undefined {
  const p = ctx.platform === "win32" ? path.win32 : path.posix;
  if (!p.isAbsolute(ctx.execPath)) return `cannot wrap: this binary's path "${ctx.execPath}" is not absolute`;
  if (NOT_A_PROXY.test(p.basename(ctx.execPath))) {
    return `cannot wrap: running under ${p.basename(ctx.execPath)}, not the compiled baton-proxy binary (build it with "bun run build" and run dist/baton-proxy wrap)`;
  }
  return undefined;
}
