// Reads deploy/container/Dockerfile's instructions for tests (no Docker needed).

import { join } from "node:path";
import { ROOT } from "./binary.ts";

export const DOCKERFILE = join(ROOT, "deploy", "container", "Dockerfile");

export interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Instructions of a Dockerfile: comments dropped, backslash continuations joined. */
export function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  return logical.map((line) => {
    const [op = "", ...rest] = line.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(" ") };
  });
}

/** The exec-form array of the last `op` instruction (ENTRYPOINT, CMD). */
export function execForm(instructions: Instruction[], op: string): string[] {
  const last = instructions.filter((i) => i.op === op).at(-1);
  if (last === undefined) throw new Error(`no ${op}`);
  return JSON.parse(last.args) as string[];
}
