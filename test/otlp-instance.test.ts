// The OTLP resource's service.instance.id: one per process (shared by its sinks, distinct from another process's), and OTEL_RESOURCE_ATTRIBUTES' value wins. Decoded with OpenTelemetry's generated code.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { createOtlpSink } from "../src/telemetry/sinks/otlp-sink.ts";
import { makeCall } from "./fixtures/report/build-events.ts";
import { ROOT } from "./support/binary.ts";
import { decodeRequest } from "./support/otlp-receiver.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The resource of what one sink built from `env` exports for one tool call. */
async function exportedResource(env: Record<string, string>): Promise<Record<string, unknown>> {
  const loaded = loadConfig({
    BATON_EVENT_SINK: "otlp:",
    BATON_CONSENT_TOKEN: "consent-for-tests",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector.test:4318",
    ...env,
  });
  const settings = loaded.ok ? loaded.config.otlp : undefined;
  if (settings === undefined) throw new Error(`no OTLP settings: ${JSON.stringify(loaded)}`);
  const bodies: { headers: Headers; body: Uint8Array }[] = [];
  const sink = createOtlpSink({
    settings,
    transport: "pipe",
    fetch: async (_url, init) => {
      bodies.push({ headers: new Headers(init.headers), body: init.body as Uint8Array });
      return new Response(null, { status: 200 });
    },
  });
  for (const e of makeCall(1, "c1", "t", {}, { durationMs: 1 })) sink.write(e, JSON.stringify(e));
  await sink.flush();
  const spans = bodies.flatMap(decodeRequest);
  expect(spans).toHaveLength(2);
  return spans[0]?.resource ?? {};
}

describe("otlp: service.instance.id", () => {
  test("every export carries a random UUID for this process; two sinks of one process (serve's sessions) share it", async () => {
    const first = await exportedResource({ OTEL_SERVICE_NAME: "svc" });
    const second = await exportedResource({ OTEL_SERVICE_NAME: "svc" });
    expect(first["service.instance.id"]).toMatch(UUID);
    expect(second["service.instance.id"]).toBe(first["service.instance.id"] as string);
    expect(first["service.name"]).toBe("svc");
  });

  test("two processes with the same OTEL_SERVICE_NAME export different ids", async () => {
    const sink = join(ROOT, "src", "telemetry", "sinks", "otlp-sink.ts");
    const script = `const { PROCESS_INSTANCE_ID } = await import(${JSON.stringify(sink)}); console.log(PROCESS_INSTANCE_ID);`;
    const run = (): string => Bun.spawnSync([process.execPath, "-e", script], { cwd: ROOT }).stdout.toString().trim();
    const [a, b] = [run(), run()];
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
    expect(a).not.toBe((await exportedResource({}))["service.instance.id"] as string);
  });

  test("a service.instance.id given in OTEL_RESOURCE_ATTRIBUTES wins", async () => {
    const resource = await exportedResource({ OTEL_RESOURCE_ATTRIBUTES: "service.instance.id=pod-7,team=a" });
    expect(resource["service.instance.id"]).toBe("pod-7");
    expect(resource.team).toBe("a");
  });
});
