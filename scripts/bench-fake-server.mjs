// Minimal stdio MCP server for benchmarks (ported from the neutral ../shared/bench/fake-server.mjs): newline-delimited JSON-RPC.
// tools: echo (returns its args), blob (returns a text of `bytes` length), fail (isError result), boom (JSON-RPC error)
import { createInterface } from "node:readline";
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
const out = (m) => process.stdout.write(JSON.stringify(m) + "\n");
const tools = [
  { name: "echo", description: "echo args", inputSchema: { type: "object", properties: { text: { type: "string" } } } },
  {
    name: "blob",
    description: "return N bytes",
    inputSchema: { type: "object", properties: { bytes: { type: "number" } } },
  },
  { name: "fail", description: "tool-level error", inputSchema: { type: "object", properties: {} } },
  { name: "boom", description: "protocol error", inputSchema: { type: "object", properties: {} } },
];
const blobs = new Map();
rl.on("line", (line) => {
  if (!line.trim()) return;
  const m = JSON.parse(line);
  if (m.id === undefined) return; // notification
  switch (m.method) {
    case "initialize":
      return out({
        jsonrpc: "2.0",
        id: m.id,
        result: {
          protocolVersion: m.params?.protocolVersion ?? "2025-06-18",
          capabilities: { tools: {} },
          serverInfo: { name: "bench-fake", version: "1.0.0" },
          instructions: "fake server for benchmarks",
        },
      });
    case "tools/list":
      return out({ jsonrpc: "2.0", id: m.id, result: { tools } });
    case "ping":
      return out({ jsonrpc: "2.0", id: m.id, result: {} });
    case "tools/call": {
      const { name, arguments: a = {} } = m.params ?? {};
      if (name === "echo")
        return out({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: String(a.text ?? "") }] } });
      if (name === "blob") {
        const n = a.bytes | 0;
        let s = blobs.get(n);
        if (!s) {
          s = "x".repeat(n);
          blobs.set(n, s);
        }
        return out({ jsonrpc: "2.0", id: m.id, result: { content: [{ type: "text", text: s }] } });
      }
      if (name === "fail")
        return out({ jsonrpc: "2.0", id: m.id, result: { isError: true, content: [{ type: "text", text: "nope" }] } });
      return out({ jsonrpc: "2.0", id: m.id, error: { code: -32000, message: "boom" } });
    }
    default:
      return out({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
  }
});
rl.on("close", () => process.exit(0));
