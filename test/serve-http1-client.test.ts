// serve's HTTP/1.1 upstream client against scripted loopback servers (reuse, stale-connection retry, streaming, abort, large bodies, decoding); fetch when a forward proxy is set.

import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import type { Socket, TCPSocketListener } from "bun";
import { requestHttp1 } from "../src/serve/http1-client.ts";
import { Http1Pool, IDLE_CLOSE_MS, idleLimitMs } from "../src/serve/http1-pool.ts";
import {
  fetchUpstream,
  UpstreamUnreachable,
  type UpstreamAnswer,
  type UpstreamRequest,
} from "../src/serve/upstream-client.ts";
import { freePort, waitFor } from "./support/serve-harness.ts";
import { startServe } from "./support/serve-process.ts";

/** What the scripted server saw on one connection. */
interface Seen {
  requests: string[];
  closed: boolean;
}

type Script = (socket: Socket<Seen>, request: string, index: number, connection: number) => void;

let listeners: TCPSocketListener<Seen>[] = [];
let pools: Http1Pool[] = [];

afterEach(() => {
  for (const pool of pools) pool.close();
  for (const listener of listeners) listener.stop(true);
  listeners = [];
  pools = [];
});

/** A TCP server that hands each complete request head (and its Content-Length body) to `script`. */
function scriptedServer(script: Script) {
  const connections: Seen[] = [];
  const buffers = new Map<Seen, string>();
  const listener = Bun.listen<Seen>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { requests: [], closed: false };
        connections.push(socket.data);
      },
      data(socket, chunk) {
        let text = (buffers.get(socket.data) ?? "") + Buffer.from(chunk).toString("latin1");
        for (;;) {
          const end = text.indexOf("\r\n\r\n");
          if (end === -1) break;
          const length = Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? "0");
          if (text.length < end + 4 + length) break;
          const request = text.slice(0, end + 4 + length);
          text = text.slice(end + 4 + length);
          socket.data.requests.push(request);
          script(socket, request, socket.data.requests.length - 1, connections.indexOf(socket.data));
        }
        buffers.set(socket.data, text);
      },
      close(socket) {
        socket.data.closed = true;
      },
    },
  });
  listeners.push(listener);
  const pool = new Http1Pool("127.0.0.1", listener.port);
  pools.push(pool);
  return { url: new URL(`http://127.0.0.1:${listener.port}/mcp?x=1`), connections, pool };
}

const OK = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

function request(url: URL, init: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    url,
    method: "POST",
    headers: new Headers({ "content-type": "application/json", authorization: "Bearer t" }),
    body: new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}'),
    hop: { remoteAddress: "10.0.0.7", proto: "http", host: "proxy.example" },
    signal: new AbortController().signal,
    decompress: true,
    ...init,
  };
}

const text = async (answer: UpstreamAnswer) => new TextDecoder().decode(await answer.bytes());
const json = async (answer: UpstreamAnswer) => JSON.parse(await text(answer)) as unknown;

describe("idleLimitMs: how long a connection is kept idle", () => {
  test.each([
    [undefined, IDLE_CLOSE_MS],
    ["timeout=5", 4_000],
    ["timeout=5, max=1000", 4_000],
    ["max=5, timeout=3", 2_000],
    ["Timeout = 2", 1_000],
    ['timeout="3"', 2_000],
    ["timeout=1", 0],
    ["timeout=0", 0],
    ["timeout=600", IDLE_CLOSE_MS],
    ["max=5", IDLE_CLOSE_MS],
    ["xtimeout=1", IDLE_CLOSE_MS],
    ["timeout=abc", IDLE_CLOSE_MS],
  ])("Keep-Alive %p -> %p ms", (field, expected) => {
    expect(idleLimitMs(field)).toBe(expected);
  });
});

describe("requests and reuse", () => {
  test("one buffer per request: request line with path and query, Host, the given fields, Content-Length; the connection is reused", async () => {
    const server = scriptedServer((socket, _request, index) => socket.write(OK(`{"n":${index}}`)));
    for (let i = 0; i < 3; i++) {
      const response = await requestHttp1(server.pool, request(server.url), true);
      expect(response.status).toBe(200);
      expect(response.header("content-type")).toBe("application/json");
      expect(await json(response)).toEqual({ n: i });
    }
    expect(server.connections).toHaveLength(1);
    const [first] = server.connections[0]?.requests ?? [];
    expect(first).toStartWith(`POST /mcp?x=1 HTTP/1.1\r\nhost: 127.0.0.1:${server.url.port}\r\n`);
    expect(first).toContain("authorization: Bearer t\r\n");
    expect(first).toContain("via: 1.1 baton-proxy\r\nx-forwarded-for: 10.0.0.7\r\n");
    expect(first).toContain("content-length: 40\r\n\r\n{");
  });

  test("a GET carries no body and no Content-Length; Connection: close from the upstream retires the connection", async () => {
    const server = scriptedServer((socket) => socket.write(OK("{}", "connection: close\r\n")));
    await text(await requestHttp1(server.pool, request(server.url, { method: "GET", body: undefined }), true));
    await text(await requestHttp1(server.pool, request(server.url, { method: "GET", body: undefined }), true));
    expect(server.connections).toHaveLength(2);
    expect(server.connections[0]?.requests[0]).not.toContain("content-length");
  });

  test("a reused connection the upstream closed without answering is retried on a new one for an idempotent request (GET)", async () => {
    // Connection 0 answers its first request, then closes at the next: the race with a keep-alive timeout, made certain.
    const server = scriptedServer((socket, _request, index, connection) => {
      if (connection === 0 && index === 1) socket.terminate();
      else socket.write(OK(`{"connection":${connection}}`));
    });
    const get = { method: "GET", body: undefined };
    expect(await json(await fetchUpstream(request(server.url, get)))).toEqual({ connection: 0 });
    const response = await fetchUpstream(request(server.url, get));
    expect(await json(response)).toEqual({ connection: 1 });
    expect(server.connections).toHaveLength(2);
  });

  test("a POST is never sent twice: a reused connection closed after the request reached the upstream is an error", async () => {
    // The upstream read the call (and may have run the tool) before the connection closed: sending it again could run it twice.
    const server = scriptedServer((socket, _request, index, connection) => {
      if (connection === 0 && index === 1) socket.terminate();
      else socket.write(OK(`{"connection":${connection}}`));
    });
    expect(await json(await fetchUpstream(request(server.url)))).toEqual({ connection: 0 });
    const error = await fetchUpstream(request(server.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnreachable);
    expect((error as UpstreamUnreachable).kind).toBe("reset");
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]?.requests).toHaveLength(2);
  });

  test("a pooled connection the upstream closed while idle is dropped from the pool: the next POST goes on a new one and succeeds", async () => {
    const server = scriptedServer((socket, _request, _index, connection) => {
      socket.write(OK(`{"connection":${connection}}`));
      setTimeout(() => socket.end(), 20); // a short keep-alive timeout
    });
    // The pool the requests use is the one watched (fetchUpstream's own pool is another).
    expect(await json(await requestHttp1(server.pool, request(server.url), true))).toEqual({ connection: 0 });
    expect(server.pool.idleCount).toBe(1);
    await waitFor(
      () => server.connections[0]?.closed === true && server.pool.idleCount === 0,
      "the upstream closed the idle connection and the pool dropped it",
    );
    expect(await json(await requestHttp1(server.pool, request(server.url), true))).toEqual({ connection: 1 });
  });

  test("an idle timeout the upstream announces (Keep-Alive: timeout=N) is met first: such a connection is not reused past N - 1 s", async () => {
    const announced = (seconds: string) =>
      scriptedServer((socket, _request, _index, connection) =>
        socket.write(OK(`{"connection":${connection}}`, `keep-alive: ${seconds}\r\n`)),
      );
    // timeout=1: 1 s minus our margin leaves nothing: the connection is closed, not kept; the next request opens another.
    const short = announced("timeout=1");
    expect(await json(await requestHttp1(short.pool, request(short.url), true))).toEqual({ connection: 0 });
    expect(short.pool.idleCount).toBe(0);
    expect(await json(await requestHttp1(short.pool, request(short.url), true))).toEqual({ connection: 1 });
    // timeout=5 (Node's default): kept and reused.
    const node = announced("timeout=5, max=100");
    expect(await json(await requestHttp1(node.pool, request(node.url), true))).toEqual({ connection: 0 });
    expect(await json(await requestHttp1(node.pool, request(node.url), true))).toEqual({ connection: 0 });
    expect(node.connections).toHaveLength(1);
  });

  test("a new connection closed without an answer is an error (not retried): the request may have been acted on", async () => {
    const server = scriptedServer((socket) => socket.terminate());
    const error = await fetchUpstream(request(server.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnreachable);
    expect((error as UpstreamUnreachable).kind).toBe("reset");
    expect(server.connections).toHaveLength(1);
  });

  test("a refused connection is UpstreamUnreachable(refused); a malformed answer is (other)", async () => {
    const port = await freePort();
    const refused = await fetchUpstream(request(new URL(`http://127.0.0.1:${port}/mcp`))).catch((e: unknown) => e);
    expect((refused as UpstreamUnreachable).kind).toBe("refused");
    const server = scriptedServer((socket) =>
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    );
    const bad = await fetchUpstream(request(server.url)).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UpstreamUnreachable);
    expect((bad as UpstreamUnreachable).kind).toBe("other");
  });

  test("a body larger than the socket takes in one write is sent whole", async () => {
    const size = 8 * 1024 * 1024;
    const server = scriptedServer((socket, request) => socket.write(OK(`{"got":${request.length}}`)));
    const body = new Uint8Array(size).fill(0x61);
    const response = await requestHttp1(server.pool, request(server.url, { body }), true);
    const got = ((await json(response)) as { got: number }).got;
    expect(got).toBeGreaterThan(size);
  });
});

describe("streamed answers", () => {
  test("an SSE answer arrives event by event: the first is read before the upstream writes the second", async () => {
    let socketOf: Socket<Seen> | undefined;
    const server = scriptedServer((socket) => {
      socketOf = socket;
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      socket.write(chunk("event: message\ndata: 1\n\n"));
    });
    const response = await requestHttp1(server.pool, request(server.url), true);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: message\ndata: 1\n\n");
    socketOf?.write(chunk("event: message\ndata: 2\n\n"));
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("event: message\ndata: 2\n\n");
    socketOf?.write("0\r\n\r\n");
    expect((await reader.read()).done).toBe(true);
    await waitFor(() => server.pool.idleCount === 1, "the connection back in the pool");
  });

  test("a streamed body that outran its reader (socket paused) leaves a connection that still answers when reused", async () => {
    const server = scriptedServer((socket, _request, index) => {
      if (index > 0) {
        socket.write(OK('{"again":true}'));
        return;
      }
      const events = Array.from({ length: 40 }, (_, i) => chunk(`data: ${i}\n\n`)).join("");
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${events}0\r\n\r\n`,
      );
    });
    const streamed = await requestHttp1(server.pool, request(server.url), true);
    await Bun.sleep(20); // everything arrives and is queued before anyone reads
    expect((await text(streamed)).split("\n\n").length).toBe(41);
    expect(await json(await requestHttp1(server.pool, request(server.url), true))).toEqual({ again: true });
    expect(server.connections).toHaveLength(1);
  });

  test("the upstream breaking mid-stream errors the body; a close-delimited body ends cleanly", async () => {
    const broken = scriptedServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${chunk("data: 1\n\n")}`,
      );
      setTimeout(() => socket.terminate(), 20);
    });
    const response = await requestHttp1(broken.pool, request(broken.url), true);
    expect(await text(response).catch((e: unknown) => `error: ${String(e)}`)).toStartWith("error:");
    const delimited = scriptedServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it");
      setTimeout(() => socket.end(), 20);
    });
    expect(await text(await requestHttp1(delimited.pool, request(delimited.url), true))).toBe("all of it");
    expect(delimited.pool.idleCount).toBe(0);
  });

  test("aborting before the answer rejects and closes the connection; cancelling a stream closes it too", async () => {
    const silent = scriptedServer(() => undefined);
    const aborter = new AbortController();
    const pending = requestHttp1(silent.pool, request(silent.url, { signal: aborter.signal }), true);
    await waitFor(() => (silent.connections[0]?.requests.length ?? 0) === 1, "the request to arrive");
    aborter.abort(new Error("client left"));
    expect(String(await pending.catch((e: unknown) => e))).toContain("client left");
    await waitFor(() => silent.connections[0]?.closed === true, "the upstream connection to close");

    const streaming = scriptedServer((socket) =>
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n${chunk(": hi\n\n")}`,
      ),
    );
    const response = await requestHttp1(streaming.pool, request(streaming.url), true);
    await (response.body as ReadableStream<Uint8Array>).cancel();
    await waitFor(() => streaming.connections[0]?.closed === true, "the upstream connection to close");
  });

  test("a gzip body is decoded when asked (the fields still name it) and passed as sent otherwise", async () => {
    const packed = gzipSync('{"packed":true}');
    const server = scriptedServer((socket) => {
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: ${packed.length}\r\n\r\n`,
      );
      socket.write(packed);
    });
    const decoded = await requestHttp1(server.pool, request(server.url, { decompress: true }), true);
    expect(decoded.header("content-encoding")).toBe("gzip");
    expect(await json(decoded)).toEqual({ packed: true });
    const raw = await requestHttp1(server.pool, request(server.url, { decompress: false }), true);
    expect(Buffer.from(await raw.bytes()).equals(packed)).toBe(true);
  });

  test("a transfer coding besides chunked (Transfer-Encoding: gzip, chunked) is always undone, the content coding only when asked; one the proxy cannot undo is an error, never bytes passed unmarked", async () => {
    const inner = gzipSync('{"inner":true}');
    const outer = gzipSync(inner);
    const server = scriptedServer((socket, _request, index) => {
      if (index === 0)
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ntransfer-encoding: gzip, chunked\r\n\r\n${outer.length.toString(16)}\r\n`,
        );
      else
        socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: gzip, chunked\r\n\r\n");
      if (index <= 1) {
        if (index === 1) socket.write(`${outer.length.toString(16)}\r\n`);
        socket.write(outer);
        socket.write("\r\n0\r\n\r\n");
      }
    });
    // Transfer coding undone, content coding kept as the passthrough forwards it (the field still names it).
    const kept = await requestHttp1(server.pool, request(server.url, { decompress: false }), true);
    expect(Buffer.from(await kept.bytes()).equals(inner)).toBe(true);
    // No content coding: the transfer coding alone is undone (decompress asked or not).
    const plain = await requestHttp1(server.pool, request(server.url, { decompress: false }), true);
    expect(Buffer.from(await plain.bytes()).equals(inner)).toBe(true);
    const unknown = scriptedServer((socket) =>
      socket.write(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: compress, chunked\r\n\r\n0\r\n\r\n",
      ),
    );
    const refused = await fetchUpstream(request(unknown.url)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UpstreamUnreachable);
    expect(String((refused as Error).message)).toMatch(/transfer coding "compress"/);
    // fetch (https://, or a forward proxy set) hands a transfer-coded body on still gzipped: refused there.
    const viaFetch = await fetchUpstream(request(server.url, { viaFetch: true })).catch((e: unknown) => e);
    expect(viaFetch).toBeInstanceOf(UpstreamUnreachable);
    expect(String((viaFetch as Error).message)).toMatch(/transfer coding "gzip"/);
  });
});

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

describe("with a forward proxy configured, serve sends http:// through fetch (which honours HTTP_PROXY)", () => {
  test("a pass-through request reaches the forward proxy in absolute form instead of the upstream directly", async () => {
    const seen: string[] = [];
    const forwardProxy = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) => {
        seen.push(request.url);
        return new Response("via the forward proxy", { status: 200 });
      },
    });
    const unusedPort = await freePort();
    const proxy = await startServe(["--upstream", `http://127.0.0.1:${unusedPort}/mcp`], {
      HTTP_PROXY: `http://127.0.0.1:${forwardProxy.port}`,
      NO_PROXY: "",
    });
    try {
      const response = await fetch(`${proxy.origin}/health/check`);
      expect(await response.text()).toBe("via the forward proxy");
      expect(seen).toEqual([`http://127.0.0.1:${unusedPort}/health/check`]);
    } finally {
      expect(await proxy.stop()).toBe(0);
      forwardProxy.stop(true);
    }
  });
});
