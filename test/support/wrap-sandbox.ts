// Temp home and project directories holding copies of client config fixtures, for the wrap/unwrap tests.

import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { removeAfterwards } from "./temp.ts";

export const WRAP_FIXTURES = join(import.meta.dir, "..", "fixtures", "wrap");

export interface WrapDirs {
  readonly home: string;
  readonly project: string;
  /** Copies a fixture to a path relative to home (`~/…`) or the project (`./…`); returns the absolute path. */
  put(fixture: string, where: string, mode?: number): string;
}

/** Fresh `home/` and `project/` under a temp root (resolved: macOS tmpdir is behind a symlink), removed after the test (or file) that made them. */
export function createWrapDirs(prefix: string): WrapDirs {
  const root = removeAfterwards(realpathSync(mkdtempSync(join(tmpdir(), prefix))));
  const home = join(root, "home");
  const project = join(root, "project");
  mkdirSync(home);
  mkdirSync(project);
  return {
    home,
    project,
    put(fixture, where, mode = 0o644) {
      const target = where.startsWith("~/") ? join(home, where.slice(2)) : join(project, where);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(WRAP_FIXTURES, fixture), target);
      chmodSync(target, mode);
      return target;
    },
  };
}
