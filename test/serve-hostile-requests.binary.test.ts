// serve against hostile request targets and upstream answers, probed with raw sockets (an HTTP library would normalise what is sent).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

/** How a raw upstream answers one request head on its connection (default: `200 ok`). */
type Respond = (head: string, socket: Socket) => void;

const answerOk: Respond = (_head, socket) => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");

/** A raw HTTP/1.1 listener that records each request head it gets and answers each with `respond`. */
interface RawUpstream {
  readonly port: number;
  readonly heads: string[];
  stop(): Promise<void>;
}

async function rawUpstream(respond: () => Respond = () => answerOk): Promise<RawUpstream> {
  const heads: string[] = [];
  const server: Server = createServer((socket) => {
    const answer = respond(); // one per connection: it may keep state about what it sent there
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      let end = pending.indexOf("\r\n\r\n");
      while (end !== -1) {
        const head = pending.slice(0, end);
        heads.push(head);
        pending = pending.slice(end + 4);
        answer(head, socket);
        end = pending.indexOf("\r\n\r\n");
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    heads,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends `text` (one byte per char) on a new connection and returns everything read until the proxy closes it. */
function rawRequest(origin: string, text: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString("latin1")));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
    socket.write(Buffer.from(text, "latin1")); // one byte per char, as a raw client writes
  });
}

let upstream: RawUpstream;
let elsewhere: RawUpstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await rawUpstream();
  elsewhere = await rawUpstream();
  proxy = await startServe(["--upstream", `http://127.0.0.1:${upstream.port}/mcp`]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
  await elsewhere.stop();
});

describe("request targets never leave the upstream's origin", () => {
  test("a path that reads as another authority (//host, /..//host, /\\host, ///host) goes to that path on the upstream", async () => {
    const other = `127.0.0.1:${elsewhere.port}`;
    const targets = [
      `//${other}/x`,
      `/..//${other}/x`,
      `/%2e%2e//${other}/x`,
      `/\\${other}/x`,
      `//user@${other}/x`,
      `///${other}/x`,
      `/a/..//${other}/x`,
    ];
    for (const target of targets) {
      const before = upstream.heads.length;
      const answer = await rawRequest(
        proxy.origin,
        `GET ${target} HTTP/1.1\r\nhost: ${new URL(proxy.origin).host}\r\nconnection: close\r\n\r\n`,
      );
      expect(answer.startsWith("HTTP/1.1 200"), target).toBe(true);
      expect(upstream.heads.length, target).toBe(before + 1);
      const head = upstream.heads.at(-1) as string;
      expect(head.split("\r\n")[0], target).toMatch(
        new RegExp(`^GET //+(user@)?${other.replace(/\./g, "\\.")}/x HTTP/1\\.1$`),
      );
      expect(head, target).toContain(`\r\nhost: 127.0.0.1:${upstream.port}\r\n`);
    }
    expect(elsewhere.heads).toEqual([]);
  });

  test("an absolute-form target names the proxy, not where the request goes", async () => {
    const before = upstream.heads.length;
    const answer = await rawRequest(
      proxy.origin,
      `GET http://127.0.0.1:${elsewhere.port}/abs HTTP/1.1\r\nhost: 127.0.0.1:${elsewhere.port}\r\nconnection: close\r\n\r\n`,
    );
    expect(answer.startsWith("HTTP/1.1 200")).toBe(true);
    expect(upstream.heads.length).toBe(before + 1);
    expect(upstream.heads.at(-1)?.split("\r\n")[0]).toBe("GET /abs HTTP/1.1");
    expect(elsewhere.heads).toEqual([]);
  });
});

describe("a fragment in the request target (no client sends one; Bun takes it)", () => {
  test("is dropped on the MCP path as on other paths, not forwarded as part of the query (`q%23f`)", async () => {
    for (const [target, forwarded] of [
      ["/mcp?q=1#f&x=2", "GET /mcp?q=1 HTTP/1.1"],
      ["/mcp#f", "GET /mcp HTTP/1.1"],
      ["/doc?q=1#f&x=2", "GET /doc?q=1 HTTP/1.1"],
    ]) {
      const before = upstream.heads.length;
      const answer = await rawRequest(
        proxy.origin,
        `GET ${target} HTTP/1.1\r\nhost: h\r\naccept: text/event-stream\r\nconnection: close\r\n\r\n`,
      );
      expect(answer.split("\r\n")[0], target).toBe("HTTP/1.1 200 OK");
      expect(upstream.heads.length, target).toBe(before + 1);
      expect(upstream.heads.at(-1)?.split("\r\n")[0], target).toBe(forwarded);
    }
  });
});

describe("forwarding headers a client wrote itself (README: what the upstream may trust)", () => {
  test("X-Forwarded-For gets the client's address after the client's own chain, and so does a Forwarded the client wrote; its -Proto/-Host are kept; fields Connection names are dropped", async () => {
    const before = upstream.heads.length;
    const host = new URL(proxy.origin).host;
    await rawRequest(
      proxy.origin,
      `GET /h HTTP/1.1\r\nhost: ${host}\r\nx-forwarded-for: 203.0.113.9\r\nx-forwarded-proto: https\r\nx-forwarded-host: forged.example\r\nforwarded: for=203.0.113.9\r\nx-secret: s\r\nconnection: close, x-secret\r\n\r\n`,
    );
    expect(upstream.heads.length).toBe(before + 1);
    const fields = (upstream.heads.at(-1) as string).split("\r\n").slice(1);
    expect(fields).toContain("x-forwarded-for: 203.0.113.9, 127.0.0.1");
    expect(fields).toContain("x-forwarded-proto: https");
    expect(fields).toContain("x-forwarded-host: forged.example");
    expect(fields).toContain(`forwarded: for=203.0.113.9, for=127.0.0.1;proto=http;host="${host}"`);
    expect(fields).toContain("via: 1.1 baton-proxy");
    expect(fields.filter((f) => f.startsWith("x-secret") || f.startsWith("connection"))).toEqual([]);
  });
});

describe("an empty request body", () => {
  test("a POST or PUT with Content-Length: 0 reaches the upstream with it (RFC 9110 §8.6; servers such as Google's front end answer 411 without it)", async () => {
    for (const method of ["POST", "PUT"]) {
      const before = upstream.heads.length;
      const answer = await rawRequest(
        proxy.origin,
        `${method} /empty HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      );
      expect(answer.split("\r\n")[0], method).toBe("HTTP/1.1 200 OK");
      expect(upstream.heads.length, method).toBe(before + 1);
      expect(upstream.heads.at(-1)?.split("\r\n"), method).toContain("content-length: 0");
    }
  });
});

describe("requests whose URL Bun cannot make absolute (HTTP/1.0 without Host, a malformed Host)", () => {
  test("HTTP/1.0 without Host (HAProxy's default health check): the admin listener answers, the MCP listener forwards", async () => {
    const health = await rawRequest(proxy.adminUrl, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(health.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    const metrics = await rawRequest(proxy.adminUrl, "GET /metrics HTTP/1.0\r\n\r\n");
    expect(metrics.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    const before = upstream.heads.length;
    const passed = await rawRequest(proxy.origin, "GET /old-client HTTP/1.0\r\n\r\n");
    expect(passed.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(upstream.heads.length).toBe(before + 1);
    expect(upstream.heads.at(-1)?.split("\r\n")[0]).toBe("GET /old-client HTTP/1.1");
  });

  test("a Host no URL can hold gets 400 on both listeners, and nothing is logged", async () => {
    const logged = proxy.log.length;
    for (const origin of [proxy.origin, proxy.adminUrl]) {
      const answer = await rawRequest(origin, "GET /healthz HTTP/1.1\r\nhost: [::1\r\nconnection: close\r\n\r\n");
      expect(answer.split("\r\n")[0], origin).toBe("HTTP/1.1 400 Bad Request");
    }
    await Bun.sleep(100); // a log line would be written before the answer; this only lets stderr be read
    expect(proxy.log.slice(logged)).toEqual([]);
  });
});

describe("an upstream that sends a body after a HEAD answer's head (non-conforming, but met)", () => {
  test("the next request is not answered with those bytes: a connection is not reused after a HEAD whose head announced a body", async () => {
    // The late body goes out when the next request arrives on that connection: ahead of that request's own answer.
    const quirky = await rawUpstream(() => {
      let owesBody = false;
      return (head, socket) => {
        if (head.startsWith("HEAD ")) {
          socket.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n");
          owesBody = true;
          return;
        }
        socket.write(`${owesBody ? "late" : ""}HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nmine`);
        owesBody = false;
      };
    });
    const quirkyProxy = await startServe(["--upstream", `http://127.0.0.1:${quirky.port}/mcp`]);
    try {
      const head = await fetch(`${quirkyProxy.origin}/doc`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe("4");
      const next = await fetch(`${quirkyProxy.origin}/doc`);
      expect(next.status).toBe(200);
      expect(await next.text()).toBe("mine");
    } finally {
      expect(await quirkyProxy.stop()).toBe(0);
      await quirky.stop();
    }
  });
});

describe("field values with bytes past ASCII (obs-text, RFC 9110 §5.5)", () => {
  test("an upstream's UTF-8 field value (✓, whose bytes include 0x9C) reaches the client byte for byte, not a 500; a client's reaches the upstream so", async () => {
    const mark = Buffer.from("✓ é", "utf8").toString("latin1"); // as bytes, one char each
    const marked = await rawUpstream(
      () => (_head, socket) =>
        socket.write(Buffer.from(`HTTP/1.1 200 OK\r\nx-mark: ${mark}\r\ncontent-length: 2\r\n\r\nok`, "latin1")),
    );
    const markedProxy = await startServe(["--upstream", `http://127.0.0.1:${marked.port}/mcp`]);
    try {
      const answer = await rawRequest(
        markedProxy.origin,
        `GET /doc HTTP/1.1\r\nhost: h\r\nx-mark: ${mark}\r\nconnection: close\r\n\r\n`,
      );
      expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
      expect(answer.split("\r\n")).toContain(`x-mark: ${mark}`);
      expect(marked.heads.at(-1)?.split("\r\n")).toContain(`x-mark: ${mark}`);
    } finally {
      expect(await markedProxy.stop()).toBe(0);
      await marked.stop();
    }
  });
});

describe("an answer without Content-Type (the SDK's HTTP+SSE transport answers a POST `202 Accepted` so)", () => {
  test("reaches the client without one: the proxy adds no application/octet-stream of its own", async () => {
    const untyped = await rawUpstream(
      () => (_head, socket) => socket.write("HTTP/1.1 202 Accepted\r\ncontent-length: 8\r\n\r\nAccepted"),
    );
    const untypedProxy = await startServe(["--upstream", `http://127.0.0.1:${untyped.port}/mcp`]);
    try {
      const answer = await rawRequest(
        untypedProxy.origin,
        "POST /messages?sessionId=1 HTTP/1.1\r\nhost: h\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
      );
      const [head, body] = answer.split("\r\n\r\n");
      const fields = (head as string).toLowerCase().split("\r\n");
      expect(fields[0]).toBe("http/1.1 202 accepted");
      expect(fields.filter((field) => field.startsWith("content-type"))).toEqual([]);
      expect(fields).toContain("content-length: 8");
      expect(body).toBe("Accepted");
    } finally {
      expect(await untypedProxy.stop()).toBe(0);
      await untyped.stop();
    }
  });
});

describe("a browser client's call of the proxy's own tools (CORS)", () => {
  test("is answered with the CORS fields the upstream's answers on that session carry (or its answer to the proxy's ping on a session unseen here), so the browser may read it; its 502 for an upstream gone too", async () => {
    const initialized = JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } },
    });
    // An upstream with the SDK examples' CORS setup (cors({ origin: "*", exposedHeaders: ["Mcp-Session-Id"] })).
    const corsUpstream = await rawUpstream(
      () => (_head, socket) =>
        socket.end(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: s-1\r\naccess-control-allow-origin: *\r\naccess-control-expose-headers: Mcp-Session-Id\r\nconnection: close\r\ncontent-length: ${initialized.length}\r\n\r\n${initialized}`,
        ),
    );
    const corsProxy = await startServe(["--upstream", `http://127.0.0.1:${corsUpstream.port}/mcp`]);
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      origin: "http://localhost:6274",
    };
    try {
      const init = await fetch(corsProxy.url, {
        method: "POST",
        headers,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "browser", version: "1" } },
        }),
      });
      expect(init.headers.get("access-control-allow-origin")).toBe("*");
      await init.body?.cancel();
      const asked = corsUpstream.heads.length;
      const own = await fetch(corsProxy.url, {
        method: "POST",
        headers: { ...headers, "mcp-session-id": "s-1" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "baton_annotate", arguments: { note: "the search tool returned stale results" } },
        }),
      });
      expect(corsUpstream.heads.length).toBe(asked); // answered by the proxy itself
      expect(own.status).toBe(200);
      expect(own.headers.get("access-control-allow-origin")).toBe("*");
      expect(own.headers.get("access-control-expose-headers")).toBe("Mcp-Session-Id");
      expect(((await own.json()) as { id: number }).id).toBe(1);
      // A session this replica never saw (a restart): the upstream's answer to the proxy's ping on it carries them.
      const unseen = await fetch(corsProxy.url, {
        method: "POST",
        headers: { ...headers, "mcp-session-id": "s-2" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "tools/call",
          params: { name: "baton_annotate", arguments: { note: "asked on a session another replica opened" } },
        }),
      });
      expect(corsUpstream.heads.length).toBe(asked + 1); // the ping
      expect(unseen.status).toBe(200);
      expect(unseen.headers.get("access-control-allow-origin")).toBe("*");
      await unseen.body?.cancel();
      // The upstream gone: the proxy's 502 answering the call with -32001 is readable too.
      await corsUpstream.stop();
      const down = await fetch(corsProxy.url, {
        method: "POST",
        headers: { ...headers, "mcp-session-id": "s-1" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: {} } }),
      });
      expect(down.status).toBe(502);
      expect(down.headers.get("access-control-allow-origin")).toBe("*");
      expect(((await down.json()) as { error: { code: number } }).error.code).toBe(-32001);
    } finally {
      expect(await corsProxy.stop()).toBe(0);
      await corsUpstream.stop();
    }
  });
});

describe("a HEAD answer for a body of unknown length (its GET is chunked)", () => {
  test("does not reach the client as Content-Length: 0 (RFC 9110 §8.6: a HEAD's length must be its GET's); it stays chunked", async () => {
    const chunked = await rawUpstream(
      () => (_head, socket) =>
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"),
    );
    const chunkedProxy = await startServe(["--upstream", `http://127.0.0.1:${chunked.port}/mcp`]);
    try {
      const answer = await rawRequest(
        chunkedProxy.origin,
        "HEAD /sse HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n",
      );
      const fields = answer.toLowerCase().split("\r\n");
      expect(fields[0]).toBe("http/1.1 200 ok");
      expect(fields.filter((field) => field.startsWith("content-length"))).toEqual([]);
      expect(fields).toContain("transfer-encoding: chunked");
      expect(answer.endsWith("\r\n\r\n")).toBe(true); // and no body
    } finally {
      expect(await chunkedProxy.stop()).toBe(0);
      await chunked.stop();
    }
  });
});

describe("a browser client's refused request on the MCP path (CORS)", () => {
  test("the proxy's refusals on a session's MCP path (415, 400, 413, 405, 503 draining) carry the CORS fields its upstream gave that session when they allow the request's Origin; a foreign Origin's 403 and a session unknown here get none", async () => {
    const initialized = JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      result: { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "s", version: "1" } },
    });
    // Allows one browser origin only (cors({ origin: "http://localhost:6274" }) echoes it); never answers /slow (a request in flight holds the drain).
    const corsUpstream = await rawUpstream(() => (head, socket) => {
      if (head.startsWith("POST /slow")) return;
      socket.end(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nmcp-session-id: s-1\r\naccess-control-allow-origin: http://localhost:6274\r\naccess-control-expose-headers: Mcp-Session-Id\r\nvary: Origin\r\nconnection: close\r\ncontent-length: ${initialized.length}\r\n\r\n${initialized}`,
      );
    });
    const corsProxy = await startServe([
      "--upstream",
      `http://127.0.0.1:${corsUpstream.port}/mcp`,
      "--max-body-bytes",
      "1024",
      "--drain-timeout-ms",
      "2000",
    ]);
    const browser = "http://localhost:6274";
    const headers = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      origin: browser,
    };
    const cors = (response: Response) => ({
      status: response.status,
      allowOrigin: response.headers.get("access-control-allow-origin"),
      expose: response.headers.get("access-control-expose-headers"),
      vary: response.headers.get("vary"),
    });
    const readable = (status: number) => ({ status, allowOrigin: browser, expose: "Mcp-Session-Id", vary: "Origin" });
    const unreadable = (status: number) => ({ status, allowOrigin: null, expose: null, vary: null });
    try {
      const init = await fetch(corsProxy.url, {
        method: "POST",
        headers,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "browser", version: "1" } },
        }),
      });
      expect(init.headers.get("access-control-allow-origin")).toBe(browser);
      await init.body?.cancel();
      const onSession = { ...headers, "mcp-session-id": "s-1" };
      const refusals: [string, RequestInit, number][] = [
        ["415", { method: "POST", headers: { ...onSession, "content-type": "text/plain" }, body: "{}" }, 415],
        ["400 malformed", { method: "POST", headers: onSession, body: "{not json" }, 400],
        ["400 not JSON-RPC", { method: "POST", headers: onSession, body: "[]" }, 400],
        ["413", { method: "POST", headers: onSession, body: JSON.stringify({ pad: "x".repeat(2000) }) }, 413],
        ["405", { method: "PUT", headers: onSession, body: "{}" }, 405],
      ];
      for (const [label, init, status] of refusals) {
        const response = await fetch(corsProxy.url, init);
        await response.body?.cancel();
        expect([label, cors(response)]).toEqual([label, readable(status)]);
      }
      // An origin the upstream did not allow (the loopback default lets it past the proxy) is granted nothing.
      const other = await fetch(corsProxy.url, {
        method: "POST",
        headers: { ...onSession, origin: "http://127.0.0.1:3000" },
        body: "{not json",
      });
      await other.body?.cancel();
      expect(cors(other)).toEqual(unreadable(400));
      // No session named, or one never seen here: no upstream answer to go by.
      for (const named of [{}, { "mcp-session-id": "s-unseen" }] as Record<string, string>[]) {
        const response = await fetch(corsProxy.url, { method: "POST", headers: { ...headers, ...named }, body: "{x" });
        await response.body?.cancel();
        expect(cors(response)).toEqual(unreadable(400));
      }
      // A foreign Origin stays refused without CORS.
      const foreign = await fetch(corsProxy.url, {
        method: "POST",
        headers: { ...onSession, origin: "https://evil.example" },
        body: "{}",
      });
      await foreign.body?.cancel();
      expect(cors(foreign)).toEqual(unreadable(403));
      // Draining: a new stream on the session is refused with 503, readable too.
      const held = fetch(`${corsProxy.origin}/slow`, { method: "POST", body: "x" }).catch(() => undefined);
      const slowSeen = Date.now() + 10_000;
      while (!corsUpstream.heads.some((h) => h.startsWith("POST /slow")) && Date.now() < slowSeen) await Bun.sleep(20);
      corsProxy.process.kill("SIGTERM");
      const readyBy = Date.now() + 10_000;
      while ((await fetch(`${corsProxy.adminUrl}/readyz`)).status !== 503 && Date.now() < readyBy) await Bun.sleep(20);
      const draining = await fetch(corsProxy.url, { headers: { ...onSession, accept: "text/event-stream" } });
      await draining.body?.cancel();
      expect(cors(draining)).toEqual(readable(503));
      await corsUpstream.stop();
      await held;
    } finally {
      await corsProxy.stop();
      await corsUpstream.stop();
    }
  }, 30_000);
});
