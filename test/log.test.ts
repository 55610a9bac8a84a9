// Tests of the proxy's own log lines (src/log.ts): one line per message, and nothing a quoted peer wrote can drive the terminal.

import { describe, expect, test } from "bun:test";
import { printable } from "../src/log.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

/** A server's error message as an attacker would write it: set the title, erase the line, forge a log line, reverse the text. */
const HOSTILE =
  "boom\u001b]0;PWNED\u0007\u001b[2K\rbaton-proxy: error: forged\nbaton-proxy: info: \u202eforged\u009b31m";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("log lines", () => {
  test("a quoted message cannot inject escape sequences, line breaks or bidi overrides", () => {
    const logger = createMemoryLogger();
    logger.warn(`a message was not delivered: ${HOSTILE}`);
    const written = logger.lines.join("\n");
    expect(logger.lines).toHaveLength(1);
    expect(written).not.toMatch(TERMINAL_CONTROLS);
    // Still readable: the escapes are shown, not dropped.
    expect(written).toContain("boom\\u001b]0;PWNED\\u0007\\u001b[2K\\rbaton-proxy: error: forged\\nbaton-proxy");
    expect(written).toContain("\\u202eforged\\u009b31m");
  });

  test("printable keeps ordinary text, tabs and non-Latin scripts as they are", () => {
    const text = "tab\there: café, 日本語, עברית, emoji 🎉, a\\b";
    expect(printable(text)).toBe(text);
  });

  test("every C0/C1 control, DEL, line and paragraph separator and bidi control is escaped", () => {
    const controls = [
      ...Array.from({ length: 32 }, (_, i) => i).filter((i) => i !== 9),
      ...Array.from({ length: 33 }, (_, i) => 0x7f + i),
      0x2028,
      0x2029,
      0x202a,
      0x202b,
      0x202c,
      0x202d,
      0x202e,
      0x2066,
      0x2067,
      0x2068,
      0x2069,
    ];
    for (const code of controls) {
      const out = printable(`a${String.fromCharCode(code)}b`);
      expect(out).toMatch(/^a\\(u[0-9a-f]{4}|[nr])b$/);
    }
  });
});
