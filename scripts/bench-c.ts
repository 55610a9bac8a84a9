// The benches' C floors: compiled with the system's `cc` when there is one, skipped with a note when not.

import { basename, join } from "node:path";

const SCRIPTS = import.meta.dir;

/** Compiles scripts/`source` into `dir`; undefined path (with the reason) when `PATH` has no C compiler or it fails. */
export async function compileC(
  dir: string,
  source: string,
  what: string,
  PATH = process.env.PATH ?? "",
): Promise<{ path?: string; note?: string }> {
  const cc = Bun.which("cc", { PATH }) ?? Bun.which("gcc", { PATH }) ?? Bun.which("clang", { PATH });
  if (cc === null) return { note: `${what} skipped: no C compiler (cc) on this machine` };
  const out = join(dir, basename(source, ".c"));
  const proc = Bun.spawn([cc, "-O2", "-o", out, join(SCRIPTS, source)], { stdout: "ignore", stderr: "pipe" });
  const [error, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  return code === 0 ? { path: out } : { note: `${what} skipped: ${cc} failed: ${error.trim().split("\n")[0]}` };
}
