// Black-box: an https upstream whose certificate no CA of this machine signed (a private CA, a self-signed
// development server), under --url and serve: the failure says how to trust it, and that way works.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "./support/binary.ts";
import { INIT_PARAMS, startProxy } from "./support/proxy-process.ts";
import { startServe } from "./support/serve-process.ts";

// Test-only: a self-signed certificate for localhost and 127.0.0.1, valid for a century.
const CERT = join(ROOT, "test", "fixtures", "tls", "self-signed-cert.pem");
const KEY = join(ROOT, "test", "fixtures", "tls", "self-signed-key.pem");

let upstream: ReturnType<typeof Bun.serve>;
let url: string;

beforeAll(() => {
  upstream = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: { cert: Bun.file(CERT), key: Bun.file(KEY) },
    async fetch(request) {
      const message = (await request.json()) as { id?: number };
      const result = {
        protocolVersion: "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "tls", version: "1" },
      };
      return Response.json({ jsonrpc: "2.0", id: message.id ?? null, result });
    },
  });
  url = `https://127.0.0.1:${upstream.port}/mcp`;
});
afterAll(() => {
  upstream.stop(true);
});

test("--url: an untrusted certificate's failure names NODE_EXTRA_CA_CERTS, and with it set the server is reached", async () => {
  const refused = await startProxy([], { args: ["--url", url] });
  try {
    const answer = await refused.request(0, "initialize", INIT_PARAMS);
    expect(answer.error.data["baton/error_type"]).toBe("upstream_tls");
    expect(answer.error.message).toContain("NODE_EXTRA_CA_CERTS");
  } finally {
    await refused.close();
  }
  const trusted = await startProxy([], { args: ["--url", url], env: { NODE_EXTRA_CA_CERTS: CERT } });
  try {
    expect((await trusted.request(0, "initialize", INIT_PARAMS)).result.serverInfo.name).toBe("tls");
  } finally {
    await trusted.close();
  }
});

test("serve: the log says why the upstream is not reached (its certificate) and how to trust it", async () => {
  const serve = await startServe(["--upstream", url]);
  try {
    const response = await fetch(serve.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 0, method: "initialize", params: INIT_PARAMS }),
    });
    expect(response.status).toBe(502);
    await response.text();
    expect(serve.log.join("\n")).toContain("NODE_EXTRA_CA_CERTS");
  } finally {
    await serve.stop();
  }
});
