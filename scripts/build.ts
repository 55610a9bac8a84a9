// Builds the standalone baton-proxy binary for this host (default) or for every release target (--all) plus SHA256SUMS.

import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import pkg from "../package.json" with { type: "json" };

/** Release targets: output file suffix → Bun compile target. */
export const RELEASE_TARGETS: Readonly<Record<string, string>> = {
  "linux-x64": "bun-linux-x64",
  "linux-arm64": "bun-linux-arm64",
  "darwin-x64": "bun-darwin-x64",
  "darwin-arm64": "bun-darwin-arm64",
  "windows-x64": "bun-windows-x64",
};

const ROOT = resolve(import.meta.dir, "..");
const DIST = join(ROOT, "dist");
const ENTRY = join(ROOT, "src", "main.ts");

/**
 * Compiles one binary. The binary must behave the same wherever a host starts it, so it never
 * autoloads `.env`, `bunfig.toml`, `tsconfig.json` or `package.json` from its working directory.
 */
export async function compile(outfile: string, target?: string): Promise<void> {
  const args = [
    // --bytecode: precompiled JS saves ~10 ms of start-up, paid on every server launch by the host.
    "build",
    ENTRY,
    "--compile",
    "--minify",
    "--bytecode",
    "--sourcemap=none",
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    "--no-compile-autoload-tsconfig",
    "--no-compile-autoload-package-json",
    `--define=BATON_BUILD_VERSION=${JSON.stringify(pkg.version)}`,
    `--outfile=${outfile}`,
  ];
  if (target !== undefined) args.push(`--target=${target}`);
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`bun build failed for ${target ?? "host"} (exit ${code}):\n${out}${err}`);
}

/** The host binary that `npm run build` writes and tests, the demo and the bench run (Bun names a Windows one *.exe). */
export const HOST_BINARY = join(DIST, process.platform === "win32" ? "baton-proxy.exe" : "baton-proxy");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when `outfile` is missing or older than anything that goes into it (src/, package.json, this script). */
export function isStale(outfile: string = HOST_BINARY): boolean {
  if (!existsSync(outfile)) return true;
  const inputs = Math.max(
    newestMtime(join(ROOT, "src")),
    statSync(join(ROOT, "package.json")).mtimeMs,
    statSync(import.meta.path).mtimeMs,
  );
  return statSync(outfile).mtimeMs < inputs;
}

/**
 * The file to compile `outfile` into before renaming it: beside it, ending as it does. Bun appends
 * ".exe" to a Windows outfile that lacks it, so `baton-proxy.exe.partial-1` would come out as
 * `baton-proxy.exe.partial-1.exe` and the rename would find nothing.
 */
export function partialPath(outfile: string, pid: number): string {
  return outfile.replace(/(\.exe)?$/, `.partial-${pid}$1`);
}

/**
 * Builds the host binary when stale; returns whether it built. Compiles next to it and renames,
 * so a proxy that is running meanwhile (tests, the demo) never sees a half-written file.
 */
export async function buildIfStale(outfile: string = HOST_BINARY): Promise<boolean> {
  if (!isStale(outfile)) return false;
  mkdirSync(DIST, { recursive: true });
  const partial = partialPath(outfile, process.pid);
  try {
    await compile(partial);
    renameSync(partial, outfile);
  } finally {
    rmSync(partial, { force: true });
  }
  return true;
}

async function sha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await Bun.file(path).arrayBuffer());
  return hasher.digest("hex");
}

async function main(argv: readonly string[]): Promise<void> {
  mkdirSync(DIST, { recursive: true });
  if (!argv.includes("--all")) {
    // HOST_BINARY, not dist/baton-proxy: on Windows Bun writes baton-proxy.exe.
    const outfile = HOST_BINARY;
    await compile(outfile);
    process.stderr.write(
      `built ${outfile} (baton-proxy ${pkg.version}, ${(statSync(outfile).size / 1048576).toFixed(1)} MiB)\n`,
    );
    return;
  }
  const lines: string[] = [];
  for (const [suffix, target] of Object.entries(RELEASE_TARGETS)) {
    const name = `baton-proxy-${suffix}${suffix.startsWith("windows") ? ".exe" : ""}`;
    const outfile = join(DIST, name);
    await compile(outfile, target);
    lines.push(`${await sha256(outfile)}  ${name}`);
    process.stderr.write(`built ${name} (${(statSync(outfile).size / 1048576).toFixed(1)} MiB)\n`);
  }
  writeFileSync(join(DIST, "SHA256SUMS"), `${lines.join("\n")}\n`);
  process.stderr.write(`wrote ${join(DIST, "SHA256SUMS")}\n`);
  const failures = await smokeCheck();
  if (failures > 0) throw new Error(`${failures} release binary(ies) failed the --version smoke check`);
}

/**
 * How a Linux binary can be run here: natively, or the other architecture through qemu-user with
 * that architecture's C library (without it qemu cannot start the binary: a false failure).
 */
export function runnerFor(
  suffix: string,
  native = `${process.platform}-${process.arch}`,
  which: (command: string) => string | null = Bun.which,
  exists: (path: string) => boolean = existsSync,
): string[] | undefined {
  if (suffix === native) return [];
  const qemu = suffix === "linux-arm64" ? which("qemu-aarch64") : suffix === "linux-x64" ? which("qemu-x86_64") : null;
  const sysroot = suffix === "linux-arm64" ? "/usr/aarch64-linux-gnu" : "/usr/x86_64-linux-gnu";
  if (!qemu || !exists(sysroot)) return undefined;
  return [qemu, "-L", sysroot];
}

/**
 * Runs every Linux release binary with --version (the other architecture through qemu-user
 * when installed: apt-get install qemu-user libc6-arm64-cross) and reports every artifact's size.
 * Returns how many binaries failed; one that cannot be run here is reported, not failed.
 */
async function smokeCheck(): Promise<number> {
  let failures = 0;
  const rows = ["artifact                      size      --version"];
  for (const suffix of Object.keys(RELEASE_TARGETS)) {
    const name = `baton-proxy-${suffix}${suffix.startsWith("windows") ? ".exe" : ""}`;
    const path = join(DIST, name);
    const size = `${(statSync(path).size / 1048576).toFixed(1)} MiB`;
    const runner = suffix.startsWith("linux") ? runnerFor(suffix) : undefined;
    let verdict = suffix.startsWith("linux")
      ? "not run (no qemu-user or no C library for this architecture)"
      : "not run (not a Linux binary)";
    if (runner !== undefined) {
      const proc = Bun.spawn([...runner, path, "--version"], { stdout: "pipe", stderr: "pipe", env: {} });
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      const ok = code === 0 && out.trim() === `baton-proxy ${pkg.version}`;
      if (!ok) failures++;
      verdict = ok ? `ok: ${out.trim()}` : `FAILED (exit ${code}): ${out.trim().slice(0, 80)}`;
    }
    rows.push(`${name.padEnd(30)}${size.padStart(9)}  ${verdict}`);
  }
  process.stderr.write(`${rows.join("\n")}\n`);
  return failures;
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
