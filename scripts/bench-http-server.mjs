// A minimal Streamable HTTP MCP server on Node for `bench-http.ts`: answers at once, so the proxy's own cost shows.
// Tools: echo (JSON answer), stream {events, bytes} (an SSE answer: `events` progress notifications of `bytes` each, then the result).
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";

const server = createServer((req, res) => {
  if (req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const message = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (message.id === undefined) {
      res.writeHead(202).end();
      return;
    }
    const answer = (result, headers = {}) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: message.id, result });
      res
        .writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers })
        .end(body);
    };
    if (message.method === "initialize") {
      answer(
        {
          protocolVersion: "2025-11-25",
          capabilities: { tools: {} },
          serverInfo: { name: "bench-http-server", version: "1.0.0" },
        },
        { "mcp-session-id": randomUUID() },
      );
    } else if (message.method === "tools/list") {
      answer({
        tools: [
          { name: "echo", inputSchema: { type: "object" } },
          { name: "stream", inputSchema: { type: "object" } },
        ],
      });
    } else if (message.method === "tools/call" && message.params?.name === "stream") {
      const { events = 1000, bytes = 200 } = message.params.arguments ?? {};
      const pad = "x".repeat(Math.max(0, bytes - 90));
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let i = 0;
      const write = () => {
        while (i < events) {
          i++;
          const note = JSON.stringify({
            jsonrpc: "2.0",
            method: "notifications/progress",
            params: { progressToken: "t", progress: i, message: pad },
          });
          if (!res.write(`event: message\nid: ${i}\ndata: ${note}\n\n`)) return void res.once("drain", write);
        }
        res.end(
          `event: message\ndata: ${JSON.stringify({ jsonrpc: "2.0", id: message.id, result: { content: [{ type: "text", text: `streamed ${events}` }] } })}\n\n`,
        );
      };
      write();
    } else if (message.method === "tools/call") {
      answer({ content: [{ type: "text", text: String(message.params?.arguments?.message ?? "") }] });
    } else {
      answer({});
    }
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
