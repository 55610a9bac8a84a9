// Runs scripts/install-test-tools.sh on made-up machines (a PATH of logging stand-ins for apt-get, brew, sudo, systemctl,
// id and the tools themselves): what it installs, how, and that it never fails its caller.

import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/binary.ts";
import { tempDir } from "./support/temp.ts";

const SCRIPT = join(ROOT, "scripts", "install-test-tools.sh");

interface Machine {
  /** Commands on PATH besides `id`: each logs its arguments and exits 0 (apt-get, brew, sudo, systemctl, promtool…). */
  readonly commands: readonly string[];
  /** The user id `id -u` prints. */
  readonly uid: number;
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  /** One line per stand-in run: its name and arguments. */
  readonly calls: string[];
}

function runOn(machine: Machine): Outcome {
  const dir = tempDir("baton-tools-");
  const log = join(dir, "calls.log");
  const stub = (name: string, body: string): void => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub("id", `echo ${machine.uid}`);
  for (const name of machine.commands) {
    // sudo runs what it is given (as a real one would), after logging it.
    stub(name, `echo "${name} $*" >> "${log}"${name === "sudo" ? '\nexec "$@"' : ""}`);
  }
  const proc = Bun.spawnSync(["/bin/bash", SCRIPT], {
    env: { PATH: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
  return { code: proc.exitCode ?? -1, stdout: proc.stdout.toString(), calls };
}

describe("scripts/install-test-tools.sh", () => {
  test("with promtool, prometheus and ruby there: installs nothing, says nothing", () => {
    const out = runOn({ commands: ["apt-get", "promtool", "prometheus", "ruby"], uid: 0 });
    expect(out).toEqual({ code: 0, stdout: "", calls: [] });
  });

  test("Debian as root: prometheus without its recommends (node-exporter), and its service is not left running", () => {
    // Debian's prometheus package starts and enables a Prometheus server on :9090 (all interfaces) where
    // systemd runs, and recommends prometheus-node-exporter (:9100, the same): the tests need only the binaries.
    const out = runOn({ commands: ["apt-get", "systemctl", "ruby"], uid: 0 });
    expect(out.code).toBe(0);
    expect(out.calls).toEqual([
      "apt-get update -qq",
      "apt-get install -y -qq --no-install-recommends prometheus",
      "systemctl disable --now prometheus.service",
    ]);
  });

  test("Debian as a user with sudo: every apt-get and systemctl goes through sudo", () => {
    const out = runOn({ commands: ["apt-get", "sudo", "systemctl"], uid: 1000 });
    expect(out.code).toBe(0);
    expect(out.calls.filter((call) => call.startsWith("sudo "))).toEqual([
      "sudo apt-get update -qq",
      "sudo apt-get install -y -qq --no-install-recommends prometheus ruby",
      "sudo systemctl disable --now prometheus.service",
    ]);
  });

  test("only ruby missing: no service is touched", () => {
    const out = runOn({ commands: ["apt-get", "systemctl", "promtool", "prometheus"], uid: 0 });
    expect(out.calls).toEqual(["apt-get update -qq", "apt-get install -y -qq --no-install-recommends ruby"]);
  });

  test("a user without sudo: nothing is tried, the reason is named, the caller goes on", () => {
    const out = runOn({ commands: ["apt-get"], uid: 1000 });
    expect(out.code).toBe(0);
    expect(out.calls).toEqual([]);
    expect(out.stdout).toContain("not root and no sudo");
    expect(out.stdout).toContain("prometheus ruby");
  });

  test("Homebrew: brew install, no sudo", () => {
    const out = runOn({ commands: ["brew", "ruby"], uid: 501 });
    expect(out.code).toBe(0);
    expect(out.calls).toEqual(["brew install prometheus"]);
  });

  test("neither apt-get nor brew: named, and the caller goes on", () => {
    const out = runOn({ commands: [], uid: 1000 });
    expect(out.code).toBe(0);
    expect(out.calls).toEqual([]);
    expect(out.stdout).toContain("no apt-get or brew to install prometheus ruby");
  });
});
