// The s3:// and otlp: parts of loadConfig: locations, AWS_*/S3_* and OTEL_* variables, the consent guard, secrets.

import { describe, expect, test } from "bun:test";
import { loadConfig, sinkLabel } from "../src/config.ts";
import { VERSION } from "../src/version.ts";
import { DEFAULT_S3_BATCH_BYTES, DEFAULT_S3_BATCH_MS } from "../src/telemetry/sinks/s3-settings.ts";

const AWS = {
  AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI-secret",
  BATON_CONSENT_TOKEN: "ct_1",
};

function problems(env: Record<string, string>): string[] {
  const result = loadConfig(env);
  return result.ok ? [] : result.problems;
}

describe("BATON_S3_* and BATON_OTEL_* without their sink", () => {
  test("a bad value is named in a warning (a run with the sink would refuse it), never a refusal; good ones are quiet", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "stderr:",
      BATON_S3_GZIP: "yes",
      BATON_S3_BATCH_MS: "10s",
      BATON_S3_BATCH_BYTES: "1024",
      BATON_OTEL_PROPAGATE: "true",
      BATON_OTEL_CAPTURE_CONTENT: "on",
    });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.config.s3).toBeUndefined();
    expect(result.config.otlp).toBeUndefined();
    expect(result.config.warnings).toEqual([
      'BATON_S3_BATCH_MS must be a positive whole number of milliseconds, at most 2147483647 (got "10s"): ignored, as no s3:// sink is configured (one would refuse it)',
      'BATON_S3_GZIP must be "on" or "off" (got "yes"): ignored, as no s3:// sink is configured (one would refuse it)',
      'BATON_OTEL_PROPAGATE must be "on" or "off" (got "true"): ignored, as no otlp: sink is configured (one would refuse it)',
    ]);
    // With the sink configured the same values are refused, once each (no warning on top).
    const refused = loadConfig({
      ...AWS,
      BATON_EVENT_SINK: "s3://events,otlp:",
      BATON_S3_GZIP: "yes",
      BATON_OTEL_PROPAGATE: "true",
    });
    expect(refused.ok ? [] : refused.problems).toEqual([
      'BATON_S3_GZIP must be "on" or "off" (got "yes")',
      'BATON_OTEL_PROPAGATE must be "on" or "off" (got "true")',
    ]);
  });
});

describe("s3:// sink", () => {
  test.each([
    ["bucket only", "s3://events", { bucket: "events", prefix: "" }],
    ["prefix", "s3://events/baton/prod/", { bucket: "events", prefix: "baton/prod" }],
    ["percent-encoded prefix", "s3://events/a%20b", { bucket: "events", prefix: "a b" }],
  ])("%s", (_name, sink, expected) => {
    const result = loadConfig({ ...AWS, BATON_EVENT_SINK: sink });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.config.sinks).toEqual([{ kind: "s3", ...expected }]);
    expect(result.config.allSinksLocal).toBe(false);
    expect(sinkLabel(result.config.sinks[0] as never)).toBe(
      expected.prefix === "" ? "s3://events" : `s3://events/${expected.prefix}`,
    );
  });

  test("settings: AWS_* first, then S3_*; defaults; endpoint normalised", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "s3://events",
      BATON_CONSENT_TOKEN: "ct_1",
      S3_ACCESS_KEY_ID: "minio",
      S3_SECRET_ACCESS_KEY: "minio-secret",
      AWS_SESSION_TOKEN: "session-token-1",
      S3_REGION: "eu-west-3",
      AWS_ENDPOINT_URL: "http://127.0.0.1:9000/",
    });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.config.s3).toEqual({
      accessKeyId: "minio",
      secretAccessKey: "minio-secret",
      sessionToken: "session-token-1",
      region: "eu-west-3",
      endpoint: "http://127.0.0.1:9000",
      batchMs: DEFAULT_S3_BATCH_MS,
      batchBytes: DEFAULT_S3_BATCH_BYTES,
      gzip: false,
    });
    expect(result.config.secrets).toContain("minio-secret");
    expect(result.config.secrets).toContain("session-token-1");
    expect(result.config.secrets).not.toContain("minio");
  });

  test("batch knobs and gzip", () => {
    const result = loadConfig({
      ...AWS,
      BATON_EVENT_SINK: "s3://events",
      BATON_S3_BATCH_MS: "500",
      BATON_S3_BATCH_BYTES: "1024",
      BATON_S3_GZIP: "on",
    });
    expect(result.ok && result.config.s3).toMatchObject({
      batchMs: 500,
      batchBytes: 1024,
      gzip: true,
      region: "us-east-1",
      endpoint: undefined,
    });
    // The batch timer is a setTimeout: past its limit it would fire after 1 ms, over and over.
    const most = loadConfig({ ...AWS, BATON_EVENT_SINK: "s3://events", BATON_S3_BATCH_MS: "2147483647" });
    expect(most.ok && most.config.s3?.batchMs).toBe(2_147_483_647);
    const over = loadConfig({ ...AWS, BATON_EVENT_SINK: "s3://events", BATON_S3_BATCH_MS: "2147483648" });
    expect(over.ok ? [] : over.problems).toEqual([
      'BATON_S3_BATCH_MS must be a positive whole number of milliseconds, at most 2147483647 (got "2147483648")',
    ]);
  });

  test("bad locations: one problem each, never a credential in them", () => {
    const list = problems({ ...AWS, BATON_EVENT_SINK: "s3://Bad_Bucket/x,s3://user:pw@events/x,s3://events/x?y=1" });
    const text = list.join("\n");
    expect(text).toContain('"s3://Bad_Bucket/x" is missing a valid bucket name');
    expect(text).toContain("s3://***@events/x");
    expect(text).toContain("must be s3://bucket/prefix");
    expect(list).toHaveLength(3);
    expect(text).not.toContain("wJalrXUtnFEMI-secret");
    expect(text).not.toContain("pw");
  });

  test("settings problems: missing credentials, bad endpoint, bad knobs; the consent guard applies", () => {
    const text = problems({
      BATON_EVENT_SINK: "s3://events",
      AWS_ENDPOINT_URL: "ftp://minio",
      BATON_S3_BATCH_MS: "10s",
      BATON_S3_GZIP: "yes",
    }).join("\n");
    expect(text).toContain("needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
    expect(text).toContain("S3 endpoint");
    expect(text).toContain(
      'BATON_S3_BATCH_MS must be a positive whole number of milliseconds, at most 2147483647 (got "10s")',
    );
    expect(text).toContain("BATON_S3_GZIP");
    expect(text).toContain("BATON_CONSENT_TOKEN is still the placeholder");
    expect(text).not.toContain("BATON_API_KEY"); // only http(s) sinks need it
  });
});

describe("otlp: sink", () => {
  // Required on the resource of any telemetry SDK; one that is not OpenTelemetry's names itself (semconv: telemetry.sdk.*).
  const SDK_RESOURCE = {
    "telemetry.sdk.name": "baton-proxy",
    "telemetry.sdk.language": "nodejs",
    "telemetry.sdk.version": VERSION,
  };
  test("defaults: local collector, protobuf, service name baton-proxy", () => {
    const result = loadConfig({ BATON_EVENT_SINK: "file:///tmp/x.jsonl,otlp:", BATON_CONSENT_TOKEN: "ct_1" });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.config.sinks).toEqual([{ kind: "file", path: "/tmp/x.jsonl" }, { kind: "otlp" }]);
    expect(result.config.allSinksLocal).toBe(false);
    expect(result.config.otlp).toEqual({
      endpoint: "http://localhost:4318/v1/traces",
      protocol: "http/protobuf",
      headers: {},
      gzip: false,
      timeoutMs: 1800,
      resource: { ...SDK_RESOURCE, "service.name": "baton-proxy" },
      captureContent: false,
      propagate: false,
    });
  });

  test("standard OTEL_* variables: signal-specific wins, headers and resource percent-decoded, header values are secrets", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "otlp:",
      BATON_CONSENT_TOKEN: "ct_1",
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://collector.example:4318/",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example/custom/path",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=abc%3D%3Dxyz, x-team = infra",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=payments",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
      OTEL_EXPORTER_OTLP_TIMEOUT: "500",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attrs,deployment.environment=prod%20eu",
      OTEL_SERVICE_NAME: "invoices",
      BATON_OTEL_CAPTURE_CONTENT: "on",
      BATON_OTEL_PROPAGATE: "ON",
    });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.config.otlp).toEqual({
      endpoint: "https://traces.example/custom/path",
      protocol: "http/json",
      headers: { "x-api-key": "abc==xyz", "x-team": "payments" },
      gzip: true,
      timeoutMs: 500,
      resource: { ...SDK_RESOURCE, "service.name": "invoices", "deployment.environment": "prod eu" },
      captureContent: true,
      propagate: true,
    });
    expect(result.config.secrets).toContain("abc==xyz");
    expect(result.config.warnings).toEqual([]);
  });

  test("the generic endpoint gets /v1/traces appended", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "otlp:",
      BATON_CONSENT_TOKEN: "ct_1",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/prefix",
    });
    expect(result.ok && result.config.otlp?.endpoint).toBe("http://collector:4318/prefix/v1/traces");
  });

  test("problems: grpc, bad endpoint, credentials in the URL, malformed headers, bad switches, placeholder consent", () => {
    const text = problems({
      BATON_EVENT_SINK: "otlp:",
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://user:hunter22@collector/v1/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "just-a-token-hunter22,x=%E0%A4%A",
      OTEL_EXPORTER_OTLP_TIMEOUT: "-1",
      BATON_OTEL_PROPAGATE: "yes",
    }).join("\n");
    expect(text).toContain("grpc is not supported");
    expect(text).toContain("must not carry credentials");
    expect(text).toContain('OTEL_EXPORTER_OTLP_HEADERS has an entry without "key=value"');
    expect(text).toContain("badly percent-encoded");
    expect(text).toContain("OTEL_EXPORTER_OTLP_TIMEOUT");
    expect(text).toContain("BATON_OTEL_PROPAGATE");
    expect(text).toContain("BATON_CONSENT_TOKEN is still the placeholder");
    expect(text).not.toContain("hunter22");
  });

  test("headers fetch would refuse at every export are refused at start (name never echoed when malformed, value never)", () => {
    const text = problems({
      BATON_EVENT_SINK: "otlp:",
      BATON_CONSENT_TOKEN: "ct_1",
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%0Ahunter22,my%20hunter33=v,x-ok=fine",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-wide=%C4%80hunter44",
    });
    expect(text).toEqual([
      "OTEL_EXPORTER_OTLP_HEADERS: header api-key has a line break, NUL or a character beyond U+00FF in its value",
      "OTEL_EXPORTER_OTLP_HEADERS has a header name that is not a valid HTTP header name",
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS: header x-wide has a line break, NUL or a character beyond U+00FF in its value",
    ]);
    expect(text.join("\n")).not.toContain("hunter");
    const ok = loadConfig({
      BATON_EVENT_SINK: "otlp:",
      BATON_CONSENT_TOKEN: "ct_1",
      OTEL_EXPORTER_OTLP_HEADERS: "x-ok=caf%C3%A9%09tab",
    });
    expect(ok.ok && ok.config.otlp?.headers).toEqual({ "x-ok": "café\ttab" });
  });

  test("a bad _TRACES_ value is named by its own variable (the one the user set)", () => {
    const text = problems({
      BATON_EVENT_SINK: "otlp:",
      BATON_CONSENT_TOKEN: "ct_1",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc",
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "zstd",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "soon",
    });
    expect(text).toHaveLength(3);
    expect(text[0]).toStartWith("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be");
    expect(text[1]).toStartWith("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION must be");
    expect(text[2]).toStartWith("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT must be");
  });

  test("OTEL_* variables are not read without an otlp: sink", () => {
    const result = loadConfig({ BATON_EVENT_SINK: "stderr:", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(result.ok && result.config.otlp).toBeUndefined();
    expect(result.ok && result.config.s3).toBeUndefined();
  });
});
