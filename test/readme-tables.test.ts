// The README's settings tables against the code: the Configuration table names every BATON_* variable the stdio
// proxy reads with the default loadConfig gives, and the Hosted mode table every serve flag, its variable and default.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { KNOWN_VARIABLES, SERVE_ONLY_VARIABLES } from "../src/config-variables.ts";
import {
  DEFAULT_ADMIN_LISTEN,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LISTEN,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_IDLE_MS,
  SERVE_FLAGS,
} from "../src/serve/serve-flags.ts";
import { DEFAULT_S3_BATCH_BYTES, DEFAULT_S3_BATCH_MS } from "../src/telemetry/sinks/s3-settings.ts";
import { ROOT } from "./support/binary.ts";

const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** The rows of the first table after `heading`, each as its cells (backticks kept). */
function tableRows(heading: string): string[][] {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`));
  const lines = section.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| "));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("| ")) break;
    rows.push(
      line
        .slice(2, -2)
        .split(" | ")
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}

const code = (cell: string): string => /^`([^`]*)`/.exec(cell)?.[1] ?? cell;

describe("README Configuration table", () => {
  const rows = tableRows("## Configuration");
  const defaults = new Map(rows.map((row) => [code(row[0] ?? ""), code(row[1] ?? "")]));

  test("names every BATON_* variable the proxy reads but serve's own (their table is under Hosted mode)", () => {
    const expected = KNOWN_VARIABLES.filter(
      (name) => !(SERVE_ONLY_VARIABLES as readonly string[]).includes(name) && name !== "BATON_WRAPPED_REMOTE",
    );
    expect([...defaults.keys()].sort()).toEqual([...expected].sort());
  });

  test("gives the defaults the configuration has when nothing is set", () => {
    const result = loadConfig({});
    if (!result.ok) throw new Error(result.problems.join("; "));
    const config = result.config;
    expect({
      BATON_CONSENT_TOKEN: defaults.get("BATON_CONSENT_TOKEN"),
      BATON_TENANT_ID: defaults.get("BATON_TENANT_ID"),
      BATON_VENDOR_ID: defaults.get("BATON_VENDOR_ID"),
      BATON_SCRUB: defaults.get("BATON_SCRUB"),
      BATON_SLOW_CALL_MS: defaults.get("BATON_SLOW_CALL_MS"),
      BATON_INTENT_PARAM: defaults.get("BATON_INTENT_PARAM"),
      BATON_CAPTURE: defaults.get("BATON_CAPTURE"),
      BATON_UPSTREAM_TIMEOUT: defaults.get("BATON_UPSTREAM_TIMEOUT"),
      BATON_CONSENT_MODE: defaults.get("BATON_CONSENT_MODE"),
      BATON_S3_BATCH_MS: defaults.get("BATON_S3_BATCH_MS"),
      BATON_S3_BATCH_BYTES: defaults.get("BATON_S3_BATCH_BYTES"),
    }).toEqual({
      BATON_CONSENT_TOKEN: config.consentToken,
      BATON_TENANT_ID: config.tenantId,
      BATON_VENDOR_ID: config.vendorId,
      BATON_SCRUB: config.scrub,
      BATON_SLOW_CALL_MS: String(config.slowCallMs),
      BATON_INTENT_PARAM: config.intentParam,
      BATON_CAPTURE: [...config.capture].join(","),
      BATON_UPSTREAM_TIMEOUT: String(config.upstreamTimeoutMs / 1000),
      BATON_CONSENT_MODE: config.consentMode,
      BATON_S3_BATCH_MS: String(DEFAULT_S3_BATCH_MS),
      BATON_S3_BATCH_BYTES: String(DEFAULT_S3_BATCH_BYTES),
    });
    const sinks = config.sinks.map((sink) => (sink.kind === "file" ? `file://${sink.path}` : `${sink.kind}:`));
    if (process.platform !== "win32") expect(defaults.get("BATON_EVENT_SINK")).toBe(sinks.join(","));
  });
});

describe("README Hosted mode table", () => {
  const rows = tableRows("## Hosted mode (`serve`)");

  test("has a row per serve flag, in order, with its value name and variable, then BATON_CONSENT_MODE", () => {
    const flags = Object.values(SERVE_FLAGS).map((spec) => [`${spec.flag} ${spec.value}`, spec.env]);
    expect(rows.map((row) => [code(row[0] ?? ""), code(row[1] ?? "")])).toEqual([
      ...flags,
      ["(env only)", "BATON_CONSENT_MODE"],
    ]);
  });

  test("gives each flag's default", () => {
    const defaults = Object.fromEntries(rows.map((row) => [code(row[1] ?? ""), code(row[2] ?? "")]));
    expect(defaults).toMatchObject({
      BATON_LISTEN: DEFAULT_LISTEN,
      BATON_ADMIN_LISTEN: DEFAULT_ADMIN_LISTEN,
      BATON_MAX_BODY_BYTES: String(DEFAULT_MAX_BODY_BYTES),
      BATON_BODY_TIMEOUT_MS: String(DEFAULT_BODY_TIMEOUT_MS),
      BATON_DRAIN_TIMEOUT_MS: String(DEFAULT_DRAIN_TIMEOUT_MS),
      BATON_SESSION_IDLE_MS: String(DEFAULT_SESSION_IDLE_MS),
      BATON_MAX_SESSIONS: String(DEFAULT_MAX_SESSIONS),
      BATON_IDLE_TIMEOUT_MS: String(DEFAULT_IDLE_TIMEOUT_MS),
    });
  });
});
