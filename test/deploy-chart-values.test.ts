// Checks the Helm chart without Helm: values.yaml and the documented examples satisfy values.schema.json (ajv), bad values fail with the expected message, templates only use values that exist, and the README's values table is current.

import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import pkg from "../package.json" with { type: "json" };
import { ROOT } from "./support/binary.ts";
import {
  badValues,
  CHART_DIR,
  chartValues,
  examples,
  hasPath,
  leafPaths,
  mergeValues,
  readYaml,
  schemaProblems,
  templateValueReferences,
} from "./support/chart.ts";

describe("values.schema.json", () => {
  test("accepts the chart's own values.yaml once a gateway has its upstream", () => {
    // The defaults alone are deliberately incomplete: gateway mode needs upstream.url.
    expect(schemaProblems(chartValues())).toEqual([
      "/upstream/url must NOT have fewer than 1 characters",
      '/upstream/url must match pattern "^https?://[^\\s/?#@]+([/?][^\\s#]*)?$"',
      'must match "then" schema',
    ]);
    expect(
      schemaProblems(mergeValues(chartValues(), { upstream: { url: "http://mcp.default.svc:3000/mcp" } })),
    ).toEqual([]);
  });

  const documented = [...examples()];
  test("there are documented examples for both topologies and both consent modes", () => {
    const modes = documented.map(([, path]) => mergeValues(chartValues(), readYaml(path)));
    expect(new Set(modes.map((v) => v.mode))).toEqual(new Set(["gateway", "sidecar"]));
    expect(new Set(modes.map((v) => (v.consent as { mode: string }).mode))).toEqual(new Set(["static", "per-request"]));
  });

  test.each(documented)("example %s validates", (_name, path) => {
    expect(schemaProblems(mergeValues(chartValues(), readYaml(path)))).toEqual([]);
  });

  const bad = badValues();
  test.each(bad.filter((b) => b.ajv !== undefined).map((b) => [b.name, b] as const))(
    "bad values %s fail with the expected message",
    (_name, b) => {
      const problems = schemaProblems(mergeValues(chartValues(), b.values));
      expect(problems.length).toBeGreaterThan(0);
      expect(
        problems.some((p) => p.includes(b.ajv ?? "")),
        `expected "${b.ajv}" among:\n${problems.join("\n")}`,
      ).toBe(true);
    },
  );

  test.each(bad.filter((b) => b.ajv === undefined).map((b) => [b.name, b] as const))(
    "%s is valid for the schema (the templates refuse it)",
    (_name, b) => {
      expect(b.helm).toBeDefined();
      expect(schemaProblems(mergeValues(chartValues(), b.values))).toEqual([]);
    },
  );
});

describe("templates and values.yaml agree", () => {
  const values = chartValues();
  const refs = templateValueReferences();

  test("every .Values path a template uses exists in values.yaml", () => {
    expect(refs.size).toBeGreaterThan(40);
    const missing = [...refs]
      .filter(([path]) => !hasPath(values, path))
      .map(([path, files]) => `${path} (${[...new Set(files)].join(", ")})`);
    expect(missing).toEqual([]);
  });

  test("every value in values.yaml is used by a template", () => {
    const used = [...refs.keys()];
    const unused = leafPaths(values).filter((leaf) => !used.some((ref) => leaf === ref || leaf.startsWith(`${ref}.`)));
    expect(unused).toEqual([]);
  });

  test("every value is documented with @param (the README table is generated from them)", () => {
    const text = readFileSync(join(CHART_DIR, "values.yaml"), "utf8");
    const documented = new Set([...text.matchAll(/^## @param ([\w.]+)/gm)].map((m) => m[1]));
    const undocumented = leafPaths(values).filter(
      (leaf) => !documented.has(leaf) && ![...documented].some((d) => leaf.startsWith(`${d}.`)),
    );
    expect(undocumented).toEqual([]);
  });

  test("the chart's appVersion is package.json's version (the image tag it runs by default)", () => {
    const chart = readYaml(join(CHART_DIR, "Chart.yaml"));
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.apiVersion).toBe("v2");
  });

  test("the versions the READMEs give to copy (the download, the container to paste) are package.json's", () => {
    // Hand-written in the text: a version bump that forgot them would send users to the previous release.
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const download = [...readme.matchAll(/^VERSION=([^;\s]+);/gm)].map((m) => m[1]);
    expect(download).toEqual([pkg.version]);
    const chartReadme = readFileSync(join(CHART_DIR, "README.md"), "utf8");
    const pasted = [...chartReadme.matchAll(/image: ghcr\.io\/baton-dev\/baton-proxy:(\S+)/g)].map((m) => m[1]);
    expect(pasted).toEqual([pkg.version]);
  });
});

test("the chart README's values table is what readme-generator-for-helm makes from values.yaml", () => {
  const dir = mkdtempSync(join(tmpdir(), "baton-chart-readme-"));
  try {
    const committed = readFileSync(join(CHART_DIR, "README.md"), "utf8");
    const copy = join(dir, "README.md");
    writeFileSync(copy, committed);
    const bin = join(ROOT, "node_modules", "@bitnami", "readme-generator-for-helm", "bin", "index.js");
    const proc = Bun.spawnSync(["node", bin, "--values", join(CHART_DIR, "values.yaml"), "--readme", copy], {
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(proc.exitCode, proc.stderr.toString()).toBe(0);
    expect(readFileSync(copy, "utf8"), "run `npm run helm:readme` and commit the README").toBe(committed);
    expect(committed).toContain("| `upstream.url`");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("NOTES.txt", () => {
  test("the event-file debug command runs as the proxy's user: the pod refuses root containers (runAsNonRoot), and /proc/1/root needs the same uid", () => {
    const notes = readFileSync(join(CHART_DIR, "templates", "NOTES.txt"), "utf8");
    const debug = notes.split("\n").find((line) => line.includes(" debug -it "));
    expect(debug).toBeDefined();
    expect(chartValues().podSecurityContext).toMatchObject({ runAsNonRoot: true });
    // busybox runs as root unless told otherwise: kubelet then refuses the ephemeral container (CreateContainerConfigError).
    const custom = /--custom=(\S+)/.exec(debug as string)?.[1];
    expect(custom).toBeDefined();
    const profile = notes.split("\n").find((line) => line.includes(`> ${custom}`)) ?? "";
    expect(profile).toContain('"runAsUser":{{ .Values.securityContext.runAsUser }}');
    expect(profile).toContain('"runAsNonRoot":true');
  });
});

describe("session affinity behind an ingress", () => {
  test("the examples' ingress-nginx hash key is the same for a session's initialize and its later requests (a real SDK client)", async () => {
    const keys = [...examples().values()]
      .map((path) => (readYaml(path).ingress as { annotations?: Record<string, string> } | undefined)?.annotations)
      .map((annotations) => annotations?.["nginx.ingress.kubernetes.io/upstream-hash-by"])
      .filter((key): key is string => key !== undefined);
    expect(keys.length).toBeGreaterThan(0);
    // What ingress-nginx hashes for each request the client sends (the session id is minted in the initialize answer).
    const seen: { headers: Headers; address: string }[] = [];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (request, self) => {
        seen.push({ headers: request.headers, address: self.requestIP(request)?.address ?? "" });
        if (request.method !== "POST") return new Response(null, { status: 405 });
        const message = (await request.json()) as { id?: number; method: string };
        if (message.id === undefined) return new Response(null, { status: 202 });
        const result =
          message.method === "initialize"
            ? { protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } }
            : { tools: [] };
        return Response.json(
          { jsonrpc: "2.0", id: message.id, result },
          { headers: { "mcp-session-id": "affinity-1" } },
        );
      },
    });
    try {
      const client = new Client({ name: "affinity", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${server.port}/mcp`)));
      await client.listTools();
      await client.close();
    } finally {
      server.stop(true);
    }
    const nginxValue = (key: string, request: { headers: Headers; address: string }): string => {
      if (key === "$binary_remote_addr" || key === "$remote_addr") return request.address;
      if (key.startsWith("$http_")) return request.headers.get(key.slice("$http_".length).replaceAll("_", "-")) ?? "";
      throw new Error(`no model of the nginx variable ${key}`);
    };
    expect(seen.length).toBeGreaterThan(2);
    for (const key of keys) expect(new Set(seen.map((request) => nginxValue(key, request)))).toHaveLength(1);
  });
});
