// Gives black-box tests the compiled binary, building dist/baton-proxy once per test run when it is missing or stale.

import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { compile } from "../../scripts/build.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist", process.platform === "win32" ? "baton-proxy.exe" : "baton-proxy");

let building: Promise<string> | undefined;

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Absolute path of the compiled binary, rebuilt first if any file under src/ is newer. */
export function binaryPath(): Promise<string> {
  building ??= (async () => {
    const stale = !existsSync(BINARY) || statSync(BINARY).mtimeMs < Math.max(newestSourceMtime(join(ROOT, "src")), statSync(join(ROOT, "package.json")).mtimeMs);
    if (stale) await compile(BINARY);
    return BINARY;
  })();
  return building;
}
