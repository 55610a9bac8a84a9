// Gives black-box tests the compiled binary, building dist/baton-proxy once per test run when it is missing or stale.

import { resolve } from "node:path";
import { buildIfStale, HOST_BINARY } from "../../scripts/build.ts";

export const ROOT = resolve(import.meta.dir, "../..");

let building: Promise<string> | undefined;

/** Absolute path of the compiled binary, rebuilt first if anything under src/ is newer. */
export function binaryPath(): Promise<string> {
  building ??= buildIfStale().then(() => HOST_BINARY);
  return building;
}
