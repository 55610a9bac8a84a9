// Black-box: the compiled binary run with exactly the image's default command and the chart's environment before a real upstream (server-everything, streamableHttp) answers the probe and scrape paths, proxies MCP and drains on SIGTERM; serve accepts every example's environment.

import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binaryPath, ROOT } from "./support/binary.ts";
import { badValues, CHART_DIR, chartValues, examples, readYaml } from "./support/chart.ts";
import { DOCKERFILE, execForm, parseDockerfile } from "./support/dockerfile.ts";
import { findHelm, runHelm } from "./support/helm.ts";
import { LONG_CALL_S, type ProbeRunConfig, type ProbeRunReport } from "./support/serve-probe-run.ts";
import { startServe } from "./support/serve-process.ts";

const RUNNER = join(ROOT, "test", "support", "serve-probe-run.ts");
const containerCmd = execForm(parseDockerfile(readFileSync(DOCKERFILE, "utf8")), "CMD");
const helpers = readFileSync(join(CHART_DIR, "templates", "_helpers.tpl"), "utf8");

/** The chart's probes as its template writes them: kind -> { path, port name }. */
const probes: Record<string, { path: string; port: string }> = Object.fromEntries(
  [
    ...helpers.matchAll(/(startupProbe|livenessProbe|readinessProbe):\n\s+httpGet:\n\s+path: (\S+)\n\s+port: (\S+)/g),
  ].map((m) => [m[1], { path: m[2] ?? "", port: m[3] ?? "" }]),
);
const scrapePath =
  readFileSync(join(CHART_DIR, "templates", "servicemonitor.yaml"), "utf8").match(/path: (\S+)/)?.[1] ?? "";
const adminPortValue = (chartValues().serve as { adminPort: number }).adminPort;

/** A fresh network namespace (so the exact 0.0.0.0:8080/9464 of the image can be bound without touching the host's ports). */
const netns =
  process.platform === "linux" &&
  Bun.which("unshare") !== null &&
  Bun.which("ip") !== null &&
  Bun.spawnSync(["unshare", "-rn", "true"]).exitCode === 0;

type Rendered = {
  kind: string;
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: { name: string; env: { name: string; value: string }[] }[] } } };
};

/**
 * The proxy's environment as the chart renders it for `args`: its plain env plus the chart's
 * Secret (what envFrom adds). Undefined when no helm can run here.
 */
function chartEnv(
  args: readonly string[] = ["--set", "upstream.url=http://placeholder:1/mcp"],
  chartDir = CHART_DIR,
): Record<string, string> | undefined {
  const helm = findHelm();
  if (helm === undefined) return undefined;
  const home = mkdtempSync(join(tmpdir(), "baton-helm-home-"));
  try {
    const result = runHelm(helm, ["template", "rel", chartDir, ...args], home);
    if (result.code !== 0) throw new Error(result.stderr);
    const docs = (Bun.YAML.parse(result.stdout) as (Rendered | null)[]).filter((d): d is Rendered => d !== null);
    const proxy = docs
      .find((d) => d.kind === "Deployment")
      ?.spec?.template.spec.containers.find((c) => c.name === "baton-proxy");
    const secret = Object.entries(docs.find((d) => d.kind === "Secret")?.data ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v, "base64").toString(),
    ]);
    return { ...Object.fromEntries((proxy?.env ?? []).map((e) => [e.name, e.value])), ...Object.fromEntries(secret) };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function freePort(): number {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

describe("the image's command and the chart's probes against the real serve", () => {
  test("the chart probes /healthz and /readyz on the admin port, the port --admin-listen opens, and scrapes /metrics", () => {
    expect(probes).toEqual({
      startupProbe: { path: "/healthz", port: "admin" },
      livenessProbe: { path: "/healthz", port: "admin" },
      readinessProbe: { path: "/readyz", port: "admin" },
    });
    expect(helpers).toMatch(/- name: admin\n\s+containerPort: \{\{ \.Values\.serve\.adminPort \}\}/);
    expect(containerCmd[containerCmd.indexOf("--admin-listen") + 1]).toBe(`0.0.0.0:${adminPortValue}`);
    expect(scrapePath).toBe("/metrics");
  });

  const mode = netns
    ? "exactly the image's CMD, in a private network namespace"
    : "the image's CMD with loopback ports (no network namespace here)";
  test(`serve runs ${mode}: probes answer, MCP passes, SIGTERM drains a call in flight`, async () => {
    const env = chartEnv() ?? { BATON_EVENT_SINK: "stderr:" };
    const upstreamPort = netns ? 3001 : freePort();
    let argv = [...containerCmd];
    let listenUrl = "http://127.0.0.1:8080";
    let adminUrl = `http://127.0.0.1:${adminPortValue}`;
    if (!netns) {
      const [listen, admin] = [freePort(), freePort()];
      argv = argv.map((a) =>
        a === "0.0.0.0:8080" ? `127.0.0.1:${listen}` : a === `0.0.0.0:${adminPortValue}` ? `127.0.0.1:${admin}` : a,
      );
      listenUrl = `http://127.0.0.1:${listen}`;
      adminUrl = `http://127.0.0.1:${admin}`;
    }
    const config: ProbeRunConfig = {
      netns,
      binary: await binaryPath(),
      argv,
      env: {
        ...env,
        BATON_UPSTREAM: `http://127.0.0.1:${upstreamPort}/mcp`,
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: tmpdir(),
      },
      upstreamPort,
      listenUrl,
      adminUrl,
      mcpPath: "/mcp",
      probePaths: [...new Set([...Object.values(probes).map((p) => p.path), scrapePath])],
    };
    const command = [...(netns ? ["unshare", "-rn"] : []), process.execPath, RUNNER, JSON.stringify(config)];
    const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    const report = JSON.parse(out.trim() || "{}") as ProbeRunReport;
    const context = `runner stderr:\n${err}\nproxy stderr:\n${report.stderr}`;

    expect(report.error, context).toBeUndefined();
    expect(report.probes["/healthz"]?.status).toBe(200);
    expect(report.probes["/readyz"]?.status).toBe(200);
    expect(report.probes["/metrics"]?.body).toContain("# TYPE ");
    expect(report.mcpStatus, context).toBe(200);
    expect(report.mcpBody).toContain('"serverInfo"');
    // SIGTERM during a call: unready at once, the call still completes (drain), then exit 0.
    expect(report.readyAfterSigterm, context).toBe(503);
    expect(report.inFlightStatus).toBe(200);
    expect(report.inFlightBody, context).toContain(
      `Long running operation completed. Duration: ${LONG_CALL_S} seconds`,
    );
    expect(report.exitCode, context).toBe(0);
    // Every variable the chart sets is one serve knows, and none was refused.
    expect(report.stderr).not.toContain("ignoring unknown variable");
    if (chartEnv() !== undefined)
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining(["BATON_CONSENT_MODE", "BATON_DRAIN_TIMEOUT_MS", "BATON_EVENT_SINK"]),
      );
  });
});

describe.skipIf(findHelm() === undefined)("serve accepts the environment of every documented example", () => {
  test.each([...examples()])("%s", async (_name, path) => {
    const env = chartEnv(["-f", path]) ?? {};
    // What the cluster would add: secret.existingSecret's keys, and the events emptyDir (here a temp dir).
    if ((readYaml(path).secret as { existingSecret?: string } | undefined)?.existingSecret) {
      Object.assign(env, { BATON_API_KEY: "test-api-key-123", BATON_CONSENT_TOKEN: "test-consent-token-123" });
    }
    const dir = mkdtempSync(join(tmpdir(), "baton-example-env-"));
    try {
      env.BATON_EVENT_SINK = (env.BATON_EVENT_SINK ?? "").replace(/file:\/\/[^,]*\//g, `file://${dir}/`);
      delete env.BATON_UPSTREAM;
      const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], env); // throws with serve's refusal if any
      // As the startup probe would (serve installs its SIGTERM handler just after the "serving" line).
      expect((await fetch(`${serve.adminUrl}/healthz`)).status).toBe(200);
      expect(await serve.stop()).toBe(0);
      expect(serve.log.join("\n")).not.toContain("ignoring unknown variable");
      expect(serve.log.join("\n")).toContain(`(consent: ${env.BATON_CONSENT_MODE})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(findHelm() === undefined)("serve's other remote sinks through the chart", () => {
  test("an s3:// and an otlp: sink, credentials in the chart's Secret: rendered, serve starts with them", async () => {
    const env =
      chartEnv([
        "--set",
        "upstream.url=http://placeholder:1/mcp",
        "--set",
        "events.sinks={s3://baton-events/prod,otlp:}",
        "--set",
        "consent.token=consent-token-123",
        "--set",
        "secret.extraEnv.AWS_ACCESS_KEY_ID=test-key-id",
        "--set",
        "secret.extraEnv.AWS_SECRET_ACCESS_KEY=test-secret-key",
        "--set",
        "secret.extraEnv.OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer test-otlp-token",
        "--set",
        "extraEnv.AWS_ENDPOINT_URL=http://127.0.0.1:9",
        "--set",
        "extraEnv.OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9",
      ]) ?? {};
    expect(env.BATON_EVENT_SINK).toBe("s3://baton-events/prod,otlp:");
    delete env.BATON_UPSTREAM;
    const serve = await startServe(["--upstream", "http://127.0.0.1:9/mcp"], env); // throws with serve's refusal if any
    expect((await fetch(`${serve.adminUrl}/healthz`)).status).toBe(200);
    expect(await serve.stop()).toBe(0);
    expect(serve.log.join("\n")).not.toContain("ignoring unknown variable");
  });
});

// The schema refuses these values (deploy-chart-render checks that); rendered without it, they give a pod whose
// serve refuses to start (exit 78, CrashLoopBackOff): so the schema's rule is the binary's, not an extra one.
const refusedAtStart = badValues().filter((b) => b.serve !== undefined);
describe.skipIf(findHelm() === undefined)(
  "values the schema refuses because serve would refuse them at pod start",
  () => {
    test.each(refusedAtStart.map((b) => [b.name, b] as const))("%s", async (_name, b) => {
      const chart = mkdtempSync(join(tmpdir(), "baton-chart-noschema-"));
      try {
        cpSync(CHART_DIR, chart, { recursive: true });
        rmSync(join(chart, "values.schema.json"));
        const env = chartEnv(["-f", b.path], chart) ?? {};
        const run = Bun.spawnSync(
          [await binaryPath(), "serve", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"],
          { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 20_000 },
        );
        expect(run.exitCode, run.stderr.toString()).toBe(78);
        expect(run.stderr.toString()).toContain(b.serve ?? "");
      } finally {
        rmSync(chart, { recursive: true, force: true });
      }
    });
  },
);
