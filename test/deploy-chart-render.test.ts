// Renders the chart with a real Helm (pinned, from the npm registry) for the defaults and every documented example: lint, secure pod specs, secrets only in a Secret, probes and args as serve expects; bad values refused with their message.

import { describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { badValues, CHART_DIR, examples, readYaml } from "./support/chart.ts";
import { DOCKERFILE, execForm, parseDockerfile } from "./support/dockerfile.ts";
import { findHelm, runHelm } from "./support/helm.ts";
import { tempDir } from "./support/temp.ts";

const helm = findHelm();
const home = tempDir("baton-helm-home-");

type Manifest = Record<string, any>;

/** `helm template` of the chart with `args`; throws with Helm's stderr when it refuses. */
function render(args: readonly string[], release = "rel"): Manifest[] {
  const result = runHelm(helm ?? "helm", ["template", release, CHART_DIR, "--namespace", "mcp", ...args], home);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`);
  const parsed = Bun.YAML.parse(result.stdout) as Manifest[] | Manifest;
  return (Array.isArray(parsed) ? parsed : [parsed]).filter((m) => m !== null);
}

/** The one rendered manifest of `kind` (and `name`); throws when it is missing. */
function one(docs: Manifest[], kind: string, name?: string): Manifest {
  const found = docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind}${name === undefined ? "" : ` ${name}`} rendered`);
  return found;
}

const GATEWAY = ["--set", "upstream.url=http://mcp.vendor.svc:3000/mcp"];
const cases: [string, string[]][] = [
  ["defaults (gateway)", GATEWAY],
  ...[...examples()].map(([name, path]): [string, string[]] => [`example ${name}`, ["-f", path]]),
];
const containerCmd = execForm(parseDockerfile(readFileSync(DOCKERFILE, "utf8")), "CMD");
/** Environment variables whose values are secrets: never a literal `value` in a pod spec. */
const SECRET_VARIABLES = ["BATON_API_KEY", "BATON_CONSENT_TOKEN"];

describe.skipIf(helm === undefined)(`chart rendered by helm (${helm ?? "no helm on this platform"})`, () => {
  test.each(cases)("helm lint --strict: %s", (_name, args) => {
    const result = runHelm(helm ?? "helm", ["lint", "--strict", CHART_DIR, ...args], home);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  test.each(cases)("%s renders a hardened pod whose proxy container matches serve", (_name, args) => {
    const docs = render(args);
    const kinds = docs.map((d) => d.kind);
    expect(kinds).not.toContain("ConfigMap");
    const deployment = one(docs, "Deployment");
    const pod = deployment?.spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(20000 + 2000);

    const proxy = pod.containers.find((c: Manifest) => c.name === "baton-proxy");
    expect(proxy.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(proxy.args).toEqual(containerCmd); // the chart's default ports give exactly the image's CMD
    const admin = proxy.ports.find((p: Manifest) => p.name === "admin");
    expect(admin.containerPort).toBe(9464);
    expect(proxy.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "admin" });
    expect(proxy.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
    expect(proxy.startupProbe.httpGet).toEqual({ path: "/healthz", port: "admin" });
    expect(proxy.resources.requests.memory).toBeDefined();
    expect(proxy.resources.limits.memory).toBeDefined();

    const env = new Map<string, Manifest>(proxy.env.map((e: Manifest) => [e.name, e]));
    for (const name of SECRET_VARIABLES) expect(env.has(name), `${name} must come from the Secret`).toBe(false);
    expect(env.get("BATON_UPSTREAM")?.value).toMatch(/^https?:\/\//);
    expect(env.get("BATON_CONSENT_MODE")?.value).toMatch(/^(static|per-request)$/);
    // A file sink is only ever on a mounted emptyDir: the root filesystem is read-only.
    for (const sink of String(env.get("BATON_EVENT_SINK")?.value).split(",")) {
      if (!sink.startsWith("file://")) continue;
      const dir = new URL(sink).pathname.replace(/\/[^/]+$/, "");
      const mount = proxy.volumeMounts.find((m: Manifest) => m.mountPath === dir);
      expect(mount, `${sink} is on a mounted volume`).toBeDefined();
      expect(pod.volumes.find((v: Manifest) => v.name === mount.name)?.emptyDir).toBeDefined();
    }
    expect(proxy.volumeMounts.find((m: Manifest) => m.mountPath === "/tmp")).toBeDefined();

    const service = one(docs, "Service", "rel-baton-proxy");
    expect(service.spec.ports.map((p: Manifest) => p.targetPort)).toEqual(["http"]); // the admin port is never on the MCP Service
  });

  test("sidecar mode: the proxy forwards to the server's port on 127.0.0.1, in the same pod", () => {
    const docs = render(["-f", join(CHART_DIR, "examples", "sidecar.yaml")]);
    const pod = one(docs, "Deployment").spec.template.spec;
    expect(pod.containers.map((c: Manifest) => c.name)).toEqual(["baton-proxy", "mcp-server"]);
    const server = pod.containers[1];
    const upstream = pod.containers[0].env.find((e: Manifest) => e.name === "BATON_UPSTREAM").value;
    expect(upstream).toBe(`http://127.0.0.1:${server.ports[0].containerPort}/mcp`);
  });

  test("secrets from values land in a Secret read with envFrom, and pods roll when it changes", () => {
    const args = [
      ...GATEWAY,
      "--set",
      "events.sinks[0]=https://console.example",
      "--set",
      "events.apiKey=key-abc-123",
      "--set",
      "consent.token=consent-xyz-789",
    ];
    const docs = render(args);
    const secret = one(docs, "Secret");
    expect(Object.keys(secret.data).sort()).toEqual(["BATON_API_KEY", "BATON_CONSENT_TOKEN"]);
    expect(Buffer.from(secret.data.BATON_API_KEY, "base64").toString()).toBe("key-abc-123");
    const deployment = one(docs, "Deployment");
    expect(deployment.spec.template.spec.containers[0].envFrom).toEqual([
      { secretRef: { name: secret.metadata.name } },
    ]);
    expect(JSON.stringify(docs.filter((d) => d.kind !== "Secret"))).not.toContain("key-abc-123");
    const before = deployment.spec.template.metadata.annotations["checksum/secret"];
    const after = one(render([...args.slice(0, -1), "consent.token=consent-xyz-790"]), "Deployment").spec.template
      .metadata.annotations["checksum/secret"];
    expect(after).not.toBe(before);
  });

  test("an upstream URL with a query (hosted servers that take their API key there) goes into the Secret, never the pod spec or the notes", () => {
    const args = ["--set", "upstream.url=https://mcp.vendor.example/mcp?api_key=sk-query-secret-42&region=eu"];
    const docs = render(args);
    const secret = one(docs, "Secret");
    expect(Buffer.from(secret.data.BATON_UPSTREAM, "base64").toString()).toBe(
      "https://mcp.vendor.example/mcp?api_key=sk-query-secret-42&region=eu",
    );
    const proxy = one(docs, "Deployment").spec.template.spec.containers[0];
    expect(proxy.env.map((e: Manifest) => e.name)).not.toContain("BATON_UPSTREAM");
    expect(proxy.envFrom).toEqual([{ secretRef: { name: secret.metadata.name } }]);
    expect(JSON.stringify(docs.filter((d) => d.kind !== "Secret"))).not.toContain("sk-query-secret-42");
    const text = notes(args);
    expect(text).not.toContain("sk-query-secret-42");
    expect(text).toContain("MCP traffic goes to https://mcp.vendor.example/mcp (its query is kept in the Secret)");
    // Without a query the URL stays plain env, as before (nothing secret in it).
    const plain = one(render(GATEWAY), "Deployment").spec.template.spec.containers[0];
    expect(plain.env).toContainEqual({ name: "BATON_UPSTREAM", value: "http://mcp.vendor.svc:3000/mcp" });
  });

  test("an upstream URL with a query and secret.existingSecret is refused: the chart would have no Secret to keep it in", () => {
    expect(() =>
      render([
        "--set",
        "upstream.url=https://mcp.vendor.example/mcp?api_key=sk-query-secret-42",
        "--set",
        "secret.existingSecret=mine",
      ]),
    ).toThrow(/upstream\.url has a query/);
  });

  test("with existingSecret the chart creates no Secret and reads that one", () => {
    const docs = render(["-f", join(CHART_DIR, "examples", "console.yaml")]);
    expect(docs.map((d) => d.kind)).not.toContain("Secret");
    expect(one(docs, "Deployment").spec.template.spec.containers[0].envFrom).toEqual([
      { secretRef: { name: "baton-proxy-credentials" } },
    ]);
    expect(docs.map((d) => d.kind).sort()).toEqual([
      "Deployment",
      "HorizontalPodAutoscaler",
      "Ingress",
      "NetworkPolicy",
      "PodDisruptionBudget",
      "Service",
      "Service",
      "ServiceAccount",
      "ServiceMonitor",
    ]);
  });

  test("the longest release name Helm allows (53) still gives names Kubernetes accepts (Services: at most 63)", () => {
    const release = `r${"x".repeat(52)}`;
    const args = [
      ...GATEWAY,
      "--set",
      "metrics.serviceMonitor.enabled=true",
      "--set",
      "podDisruptionBudget.enabled=true",
    ];
    for (const extra of [[], ["--set", `fullnameOverride=${"f".repeat(63)}`]]) {
      for (const doc of render([...args, ...extra], release)) {
        expect(doc.metadata.name.length, `${doc.kind} ${doc.metadata.name}`).toBeLessThanOrEqual(63);
        expect(doc.metadata.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      }
    }
  });

  test("an example's Ingress also routes the paths serve passes through (OAuth discovery, /authorize, /token, /register)", () => {
    const passThrough = [
      "/mcp",
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-authorization-server",
      "/authorize",
      "/token",
      "/register",
    ];
    const routed = (paths: Manifest[], path: string) =>
      paths.some((p) =>
        p.pathType === "Exact"
          ? p.path === path
          : p.path === "/" || path === p.path || path.startsWith(`${p.path.replace(/\/$/, "")}/`),
      );
    const withIngress = [...examples()].filter(([, path]) => (readYaml(path).ingress as Manifest | undefined)?.enabled);
    expect(withIngress.length).toBeGreaterThan(0);
    for (const [name, path] of withIngress) {
      for (const rule of one(render(["-f", path]), "Ingress").spec.rules) {
        for (const p of passThrough) expect(routed(rule.http.paths, p), `${name}: ${rule.host}${p}`).toBe(true);
      }
    }
  });

  /** The install notes for `args`: helm template leaves NOTES.txt out, so a copy of it is rendered as an ordinary template (--debug prints it although it is no YAML). */
  function notes(args: readonly string[]): string {
    const chart = mkdtempSync(join(tmpdir(), "baton-chart-notes-"));
    try {
      cpSync(CHART_DIR, chart, { recursive: true });
      cpSync(join(chart, "templates", "NOTES.txt"), join(chart, "templates", "notes-as-template.txt"));
      const result = runHelm(helm ?? "helm", ["template", "rel", chart, "--debug", ...args], home);
      // Helm then fails on the notes (no YAML) after printing them: what matters is that they were rendered.
      const at = result.stdout.indexOf("notes-as-template.txt");
      expect(at, result.stderr).toBeGreaterThanOrEqual(0);
      return result.stdout.slice(at);
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  }

  test("the install notes give the Ingress URL with the MCP path clients must use", () => {
    const text = notes(["-f", join(CHART_DIR, "examples", "console.yaml")]);
    expect(text).toContain("In the cluster:  http://rel-baton-proxy.default.svc:8080/mcp");
    expect(text).toMatch(/Ingress: +https:\/\/mcp\.example\.com\/mcp\n/);
  });

  test("the install notes warn of several replicas without session affinity, counting the autoscaler's replicas when it is on", () => {
    const noAffinity = [...GATEWAY, "--set", "service.sessionAffinity=None"];
    const warning = "replicas without session affinity";
    expect(notes([...noAffinity, "--set", "replicaCount=3"])).toContain(`WARNING: 3 ${warning}`);
    expect(notes([...noAffinity, "--set", "replicaCount=1"])).not.toContain(warning);
    // With autoscaling the Deployment has no replica count: the HPA runs up to maxReplicas, whatever replicaCount says.
    const autoscaled = [...noAffinity, "--set", "replicaCount=1", "--set", "autoscaling.enabled=true"];
    expect(notes([...autoscaled, "--set", "autoscaling.maxReplicas=4"])).toContain(`WARNING: up to 4 ${warning}`);
    const single = [
      "--set",
      "autoscaling.minReplicas=1",
      "--set",
      "autoscaling.maxReplicas=1",
      "--set",
      "replicaCount=3",
    ];
    expect(notes([...autoscaled, ...single])).not.toContain(warning);
    expect(notes([...GATEWAY, "--set", "replicaCount=3"])).not.toContain(warning); // ClientIP affinity, the default
  });

  test("extraEnv and secret.extraEnv refuse every variable the chart sets itself (a second entry of the same name: which one wins is not the value's)", () => {
    const args = [...GATEWAY, "--set", "serve.path=/mcp", "--set", "tenantId=t", "--set", "vendorId=v"];
    const names = one(render(args), "Deployment").spec.template.spec.containers[0].env.map((e: Manifest) => e.name);
    expect(names).toContain("BATON_MAX_SESSIONS");
    for (const name of names) {
      const result = runHelm(
        helm ?? "helm",
        ["template", "rel", CHART_DIR, ...args, "--set", `extraEnv.${name}=1`],
        home,
      );
      expect(result.code, `extraEnv.${name} was accepted`).not.toBe(0);
      expect(result.stderr).toContain("extraEnv");
      // In the Secret it would be silently ignored: Kubernetes lets a container's env win over its envFrom.
      const hidden = runHelm(
        helm ?? "helm",
        ["template", "rel", CHART_DIR, ...args, "--set", `secret.extraEnv.${name}=1`],
        home,
      );
      expect(hidden.code, `secret.extraEnv.${name} was accepted`).not.toBe(0);
      expect(hidden.stderr).toContain("secret.extraEnv");
    }
  });

  test("an image tag keeps its spelling: quoted in a values file, or an integer from --set (which Helm keeps as one)", () => {
    const image = (args: string[]) =>
      one(render([...GATEWAY, ...args]), "Deployment").spec.template.spec.containers[0].image;
    expect(image(["--set", "image.tag=20240101"])).toBe("ghcr.io/baton-dev/baton-proxy:20240101");
    expect(image(["--set", "image.tag=1.10"])).toBe("ghcr.io/baton-dev/baton-proxy:1.10");
    const dir = mkdtempSync(join(tmpdir(), "baton-chart-tag-"));
    try {
      writeFileSync(join(dir, "values.yaml"), 'image:\n  tag: "1.10"\n');
      expect(image(["-f", join(dir, "values.yaml")])).toBe("ghcr.io/baton-dev/baton-proxy:1.10");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("extraEnv reaches the container as plain env (for BATON_* variables this chart predates)", () => {
    const docs = render([...GATEWAY, "--set", "extraEnv.BATON_PROXY_LOG_FILE=/tmp/proxy.log"]);
    const env = one(docs, "Deployment").spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "BATON_PROXY_LOG_FILE", value: "/tmp/proxy.log" });
  });

  test("a whole number in extraEnv or secret.extraEnv keeps its digits (Helm reads a values file's numbers as doubles: 8388608 rendered 8.388608e+06)", () => {
    const file = join(tempDir(), "numbers.yaml");
    writeFileSync(
      file,
      "extraEnv:\n  BATON_S3_BATCH_BYTES: 8388608\n  BATON_S3_BATCH_MS: 2500\n  OTEL_BSP_SCHEDULE_DELAY: 0.5\n" +
        "secret:\n  extraEnv:\n    AWS_ACCESS_KEY_ID: 1234567890123\n",
    );
    const docs = render([...GATEWAY, "-f", file, "--set", "extraEnv.OTEL_BSP_MAX_QUEUE_SIZE=4096000"]);
    const env = one(docs, "Deployment").spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "BATON_S3_BATCH_BYTES", value: "8388608" });
    expect(env).toContainEqual({ name: "BATON_S3_BATCH_MS", value: "2500" });
    expect(env).toContainEqual({ name: "OTEL_BSP_SCHEDULE_DELAY", value: "0.5" });
    expect(env).toContainEqual({ name: "OTEL_BSP_MAX_QUEUE_SIZE", value: "4096000" });
    const data = one(docs, "Secret").data as Record<string, string>;
    expect(Buffer.from(data.AWS_ACCESS_KEY_ID ?? "", "base64").toString()).toBe("1234567890123");
  });

  test.each(badValues().map((b) => [b.name, b] as const))(
    "bad values %s are refused by helm with a message naming the problem",
    (_name, b) => {
      const result = runHelm(helm ?? "helm", ["template", "rel", CHART_DIR, "-f", b.path], home);
      expect(result.code).not.toBe(0);
      if (b.helm !== undefined) expect(result.stderr).toContain(b.helm);
      if (b.field !== undefined) {
        // Helm 3 names a field `a.b`, Helm 4 `/a/b`; additional keys by their own name.
        const forms = [b.field, `/${b.field.replaceAll(".", "/")}`];
        expect(
          forms.some((f) => result.stderr.includes(f)),
          result.stderr,
        ).toBe(true);
      }
    },
  );
});
