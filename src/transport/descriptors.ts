// The process's file descriptors as the operating system sees them: a probe for one more (I/O at the edge; errors.ts words what it finds).

import { closeSync, openSync } from "node:fs";

/**
 * Whether this process can open one more file descriptor now (one open and close of the null device).
 * True where there is none to try (Windows).
 */
export function canOpenDescriptor(): boolean {
  try {
    closeSync(openSync("/dev/null", "r"));
    return true;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code !== "EMFILE" && code !== "ENFILE";
  }
}
