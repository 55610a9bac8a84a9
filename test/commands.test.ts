// Tests of the subcommand dispatcher (src/commands.ts): how a command's LocalError reaches stderr.

import { describe, expect, test } from "bun:test";
import type { CommandContext } from "../src/command-context.ts";
import type { CommandSpec } from "../src/command-spec.ts";
import { runSubcommand } from "../src/commands.ts";
import { LocalError } from "../src/errors.ts";

/** A command that fails with `error`, as `auth login` does with an authorization server's own error text. */
function failingSpec(error: LocalError): CommandSpec {
  return {
    name: "demo",
    summary: "fails",
    synopsis: [""],
    description: [],
    operands: [],
    options: [],
    exits: [],
    load: async () => async () => {
      throw error;
    },
  };
}

async function stderrOf(error: LocalError): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const ctx: CommandContext = {
    env: {},
    stdout: () => undefined,
    stderr: (text) => void (stderr += text),
    execPath: "/usr/local/bin/baton-proxy",
    cwd: "/",
    platform: "linux",
    homeDir: "/home/me",
  };
  const code = await runSubcommand(failingSpec(error), [], ctx);
  return { code, stderr };
}

describe("a failing subcommand's message", () => {
  test("quotes a peer's text as one printable line: no escape sequence, no forged line", async () => {
    const remote = "invalid_client\u001b]0;pwned\u0007\nbaton-proxy: signed in to https://evil.example\u202e";
    const result = await stderrOf(new LocalError("E_AUTH", `login to https://a.example failed: ${remote}`));
    expect(result).toEqual({
      code: 1,
      stderr:
        "baton-proxy demo: login to https://a.example failed: invalid_client\\u001b]0;pwned\\u0007\\nbaton-proxy: signed in to https://evil.example\\u202e\n",
    });
  });

  test("a configuration refusal keeps its one problem per line", async () => {
    const message = 'refusing to run, the configuration has 2 problem(s):\n  - A is bad\n  - B is "x\\u001b"';
    const result = await stderrOf(new LocalError("E_CONFIG", message));
    expect(result).toEqual({ code: 78, stderr: `baton-proxy demo: ${message}\n` });
  });
});
