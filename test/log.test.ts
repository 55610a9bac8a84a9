// Tests of the proxy's own log lines (src/log.ts): one line per message, nothing a quoted peer wrote can drive the terminal, and no configured secret is printed.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createLogger, printable } from "../src/log.ts";
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

describe("configured secrets", () => {
  test("every secret of 4 characters or more is [redacted] in every level's line, each time it occurs", () => {
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), ["sk-live-123456", "ct_consent_token", "abc"]);
    logger.info("sent with sk-live-123456");
    logger.warn("token=ct_consent_token&again=ct_consent_token\nsk-live-123456");
    logger.error("abc is too short to hide: sk-live-123456");
    expect(lines).toEqual([
      "baton-proxy: info: sent with [redacted]\n",
      "baton-proxy: warn: token=[redacted]&again=[redacted]\\n[redacted]\n",
      "baton-proxy: error: abc is too short to hide: [redacted]\n",
    ]);
  });

  test("the secrets the configuration collects are the ones hidden (the API key, the consent token, the user id HMAC key)", () => {
    const loaded = loadConfig({
      BATON_EVENT_SINK: "https://console.example/",
      BATON_API_KEY: "k-live-4242",
      BATON_CONSENT_TOKEN: "ct_consent_9999",
      BATON_USER_ID_HMAC_KEY: "uid-key-7777",
    });
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    const lines: string[] = [];
    const logger = createLogger((line) => lines.push(line), loaded.config.secrets);
    logger.warn("k-live-4242 ct_consent_9999 uid-key-7777");
    expect(lines).toEqual(["baton-proxy: warn: [redacted] [redacted] [redacted]\n"]);
  });
});
