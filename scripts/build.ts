// Builds the standalone baton-proxy binary for this host (default) or for every release target (--all) plus SHA256SUMS.

import { mkdirSync, writeFileSync, statSync } from "node:fs";
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
    "build", ENTRY, "--compile", "--minify", "--bytecode", "--sourcemap=none",
    "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
    "--no-compile-autoload-tsconfig", "--no-compile-autoload-package-json",
    `--define=BATON_BUILD_VERSION=${JSON.stringify(pkg.version)}`,
    `--outfile=${outfile}`,
  ];
  if (target !== undefined) args.push(`--target=${target}`);
  const proc = Bun.spawn([process.execPath, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`bun build failed for ${target ?? "host"} (exit ${code}):\n${out}${err}`);
}

async function sha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  hasher.update(await Bun.file(path).arrayBuffer());
  return hasher.digest("hex");
}

async function main(argv: readonly string[]): Promise<void> {
  mkdirSync(DIST, { recursive: true });
  if (!argv.includes("--all")) {
    const outfile = join(DIST, "baton-proxy");
    await compile(outfile);
    process.stderr.write(`built ${outfile} (baton-proxy ${pkg.version}, ${(statSync(outfile).size / 1048576).toFixed(1)} MiB)\n`);
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
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
