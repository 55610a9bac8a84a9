import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../src/serve/metrics.ts";
import { createServeMetrics, MAX_ERROR_CODE_LABELS } from "../src/serve/serve-metrics.ts";

/** promtool comes from Debian's `prometheus` package (.ci/run installs it). */
function promtool(): string {
  const path = Bun.which("promtool");
  if (path === null) throw new Error("promtool not found: apt-get install -y prometheus (see .ci/run)");
  return path;
}

function sample() {
  const metrics = createServeMetrics({
    sessionsOpen: () => 3,
    draining: () => false,
    eventsBySink: () => [{ sink: "file:///tmp/x.jsonl", emitted: 10, dropped: 1 }],
  });
  metrics.httpRequests.inc({ route: "mcp", http_request_method: "POST", http_response_status_code: "200" }, 5);
  metrics.operationDuration.observe({ mcp_method_name: "tools/call" }, 0.0004);
  metrics.operationDuration.observe({ mcp_method_name: "tools/call", error_type: "tool_error" }, 0.2);
  metrics.operationDuration.observe({ mcp_method_name: "initialize" }, 1000);
  metrics.sessionDuration.observe({}, 42);
  metrics.toolCalls.inc({ outcome: "ok" });
  metrics.consentRejected.inc({ reason: "malformed" });
  metrics.refused.inc({ reason: 'odd"label\\with\nnewline' });
  return metrics;
}

describe("metrics", () => {
  test("histograms are cumulative with +Inf, _sum and _count", () => {
    const text = sample().registry.render();
    expect(text).toContain('mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",le="0.0005"} 1');
    expect(text).toContain('mcp_server_operation_duration_seconds_bucket{mcp_method_name="tools/call",le="300"} 1');
    expect(text).toContain('mcp_server_operation_duration_seconds_bucket{mcp_method_name="initialize",le="300"} 0');
    expect(text).toContain('mcp_server_operation_duration_seconds_bucket{mcp_method_name="initialize",le="+Inf"} 1');
    expect(text).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="tool_error"} 1',
    );
    expect(text).toContain("baton_sessions_open 3");
    expect(text).toContain('baton_events_dropped_total{sink="file:///tmp/x.jsonl"} 1');
    expect(text).toContain('reason="odd\\"label\\\\with\\nnewline"');
  });

  test("the exposition passes promtool check metrics", () => {
    const result = Bun.spawnSync([promtool(), "check", "metrics"], {
      stdin: new TextEncoder().encode(sample().registry.render()),
    });
    const output = `${result.stdout.toString()}${result.stderr.toString()}`;
    expect(output).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test("promtool does catch a broken exposition (the check can fail)", () => {
    const registry = new MetricsRegistry();
    registry.counter("bad_counter_without_suffix", "a counter not ending in _total").inc();
    const result = Bun.spawnSync([promtool(), "check", "metrics"], {
      stdin: new TextEncoder().encode(registry.render()),
    });
    expect(`${result.stdout.toString()}${result.stderr.toString()}`).toContain("_total");
  });
});

describe("bucket boundaries", () => {
  /** The MCP conventions' ExplicitBucketBoundaries advice, the same for all four mcp.* duration histograms. */
  const ADVICE = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
  const bounds = (text: string, family: string): number[] =>
    [
      ...new Set(
        [...text.matchAll(new RegExp(`^${family}_bucket\\{.*le="([^"]+)"\\}`, "gm"))].map((m) => m[1] as string),
      ),
    ]
      .filter((le) => le !== "+Inf")
      .map(Number);

  test("every boundary the MCP conventions advise is a bucket of both histograms (finer below 10 ms, longer for sessions)", () => {
    const text = sample().registry.render();
    for (const family of ["mcp_server_operation_duration_seconds", "mcp_server_session_duration_seconds"]) {
      const les = bounds(text, family);
      expect(les.length).toBeGreaterThan(0);
      for (const bound of ADVICE) expect(les).toContain(bound);
      expect([...les].sort((a, b) => a - b)).toEqual(les);
    }
  });
});

describe("mcp_method_name stays bounded", () => {
  test("method names outside the MCP spec count as _OTHER: a client inventing names cannot grow /metrics", () => {
    const metrics = createServeMetrics({ sessionsOpen: () => 0, draining: () => false, eventsBySink: () => [] });
    for (let i = 0; i < 100; i++) metrics.operationDuration.observe({ mcp_method_name: `invented-${i}` }, 0.001);
    metrics.operationDuration.observe({ mcp_method_name: "tools/call" }, 0.001);
    metrics.operationDuration.observe({ mcp_method_name: "server/discover", error_type: "-32601" }, 0.001);
    const text = metrics.registry.render();
    expect(text).not.toContain("invented-");
    expect(text).toContain('mcp_server_operation_duration_seconds_count{mcp_method_name="_OTHER"} 100');
    expect(text).toContain('mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call"} 1');
    expect(text).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="server/discover",error_type="-32601"} 1',
    );
  });
});

describe("JSON-RPC error codes stay bounded", () => {
  test("an upstream answering ever new integer codes cannot grow /metrics: codes past the cap count as _OTHER", () => {
    const metrics = createServeMetrics({ sessionsOpen: () => 0, draining: () => false, eventsBySink: () => [] });
    const observe = (code: number) =>
      metrics.operationDuration.observe(
        { mcp_method_name: "tools/call", error_type: String(code), rpc_response_status_code: String(code) },
        0.001,
      );
    for (let i = 0; i < MAX_ERROR_CODE_LABELS; i++) observe(1000 + i);
    for (let i = 0; i < 1000; i++) observe(100_000 + i);
    observe(1000); // a code kept before the cap was reached keeps its own series
    const counts = metrics.registry
      .render()
      .split("\n")
      .filter((l) => l.startsWith("mcp_server_operation_duration_seconds_count"));
    expect(counts.length).toBe(MAX_ERROR_CODE_LABELS + 1);
    expect(counts).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="1000",rpc_response_status_code="1000"} 2',
    );
    expect(counts).toContain(
      'mcp_server_operation_duration_seconds_count{mcp_method_name="tools/call",error_type="_OTHER",rpc_response_status_code="_OTHER"} 1000',
    );
    expect(counts.join("\n")).not.toContain("100000");
  });
});
