// Settings against the mode they are documented for, black-box: one the README says applies to a mode takes effect there.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startServe } from "./support/serve-process.ts";
import { tempDir } from "./support/temp.ts";

describe("BATON_PROXY_LOG_FILE in serve (README: every stdio setting applies; serve --help lists it)", () => {
  test("serve's own log lines are appended to the file as well as to stderr", async () => {
    const log = join(tempDir(), "proxy.log");
    const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], { BATON_PROXY_LOG_FILE: log });
    expect(await serve.stop()).toBe(0);
    const lines = readFileSync(log, "utf8");
    expect(lines).toContain("baton-proxy: info: serving MCP on http://127.0.0.1:");
    expect(lines).toContain("baton-proxy: info: drained; exiting");
  });
});
