// Unit tests of the pure parts of --url: the SSE parser, request headers, body-to-line framing, target checks, failure naming.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { StreamableHttpUpstream } from "../src/remote/streamable-http.ts";
import {
  bodyToLine,
  encodeHeaderValue,
  postHeaders,
  sessionHeaders,
  type SessionFacts,
} from "../src/remote/http-wire.ts";
import { resolveRemoteTarget } from "../src/remote/remote-options.ts";
import { SseParser, type SseEvent } from "../src/remote/sse-parser.ts";
import { ResponseReader } from "../src/remote/response-reader.ts";
import type { UpstreamSink } from "../src/remote/upstream-types.ts";
import { resumeDelayMs } from "../src/remote/sse-stream.ts";
import { jsonRpcLine, picker } from "./support/jsonrpc-fuzz.ts";
import { fetchFailure, httpFailure, unauthorizedFailure, UpstreamTimeout } from "../src/remote/upstream-failure.ts";
import { createKeyMatcher } from "../src/telemetry/scrub-keys.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));
/** What a dispatched event says, its data also as bytes (they must agree). */
const said = (events: readonly SseEvent[]) =>
  events.map((e) => {
    expect(text(e.dataBytes)).toBe(e.data);
    return { event: e.event, data: e.data, id: e.id };
  });

describe("SseParser", () => {
  test("events split across chunks, CRLF/CR/LF endings, comments, multi-line data, sticky ids, retry", () => {
    const parser = new SseParser();
    const chunks = [
      ": keep-alive\r\nid: 1\r\ndata:\r\n\r",
      '\nevent: message\nid: 2\ndata: {"a":',
      "1}\n\n",
      "data: line1\rdata: line2\r\rretry: 1500\n",
      "event: ping\ndata: x\n\n",
    ];
    const events = said(chunks.flatMap((c) => parser.push(bytes(c))));
    expect(events).toEqual([
      { event: "message", data: "", id: "1" },
      { event: "message", data: '{"a":1}', id: "2" },
      { event: "message", data: "line1\nline2", id: "2" },
      { event: "ping", data: "x", id: "2" },
    ]);
    expect(parser.lastEventId).toBe("2");
    expect(parser.retryMs).toBe(1500);
  });

  test("a multi-byte character split between chunks survives; an event without its blank line is dropped at the end", () => {
    const parser = new SseParser();
    const all = bytes('data: {"t":"é😀"}\n\ndata: unfinished\n');
    const out = [...parser.push(all.subarray(0, 14)), ...parser.push(all.subarray(14)), ...parser.end()];
    expect(said(out)).toEqual([{ event: "message", data: '{"t":"é😀"}', id: undefined }]);
  });

  test("any chunking gives the same events: byte by byte, with empty chunks, a line longer than many chunks", () => {
    const stream = `id: 1\r\ndata: ${"a".repeat(5_000)}\r\ndata: é\r\n\r\nevent: x\rdata: 2\r\r: c\ndata: 3\n\n`;
    const whole = new SseParser().push(bytes(stream));
    expect(whole.map((e) => [e.event, e.data.length, e.id])).toEqual([
      ["message", 5_000 + 1 + 1, "1"],
      ["x", 1, "1"],
      ["message", 1, "1"],
    ]);
    const all = bytes(stream);
    for (const size of [1, 7, 64, 1_000]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < all.length; i += size) {
        events.push(...parser.push(all.subarray(i, i + size)));
        events.push(...parser.push(new Uint8Array(0))); // empty reads happen; a CR before one still meets its LF
      }
      events.push(...parser.end());
      expect(said(events)).toEqual(said(whole));
    }
  });

  test("a byte order mark at the stream's start is dropped, as UTF-8 decoding of the stream does; later ones are text", () => {
    const parser = new SseParser();
    const all = [
      ...parser.push(new Uint8Array([0xef])), // the mark split across reads
      ...parser.push(new Uint8Array([0xbb, 0xbf, ...bytes("data: a\n\n")])),
      ...parser.push(bytes("\uFEFFdata: b\n\ndata: c\n\n")), // not at the start: part of a field name
    ];
    expect(said(all)).toEqual([
      { event: "message", data: "a", id: undefined },
      { event: "message", data: "c", id: undefined },
    ]);
  });

  test("an id holding NUL is ignored; a field without a colon has an empty value", () => {
    const parser = new SseParser();
    expect(said(parser.push(bytes("id: a\0b\ndata\n\n")))).toEqual([{ event: "message", data: "", id: undefined }]);
  });
});

describe("ResponseReader", () => {
  test("finds its answers among notifications and requests (a method key inside a result is no method); every line goes on", () => {
    const facts = { protocolVersion: undefined as string | undefined } as SessionFacts;
    const lines: string[] = [];
    const reader = new ResponseReader([1, 2, 3], true, facts, {
      line: (l: Uint8Array) => void lines.push(text(l) as string),
    } as UpstreamSink);
    const event = (type: string, data: string): SseEvent => ({
      event: type,
      data,
      dataBytes: bytes(data),
      id: undefined,
    });
    const message = (value: unknown) => event("message", JSON.stringify(value));
    reader.event(message({ jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } }));
    reader.event(message({ method: "sampling/createMessage", id: 1, params: {}, jsonrpc: "2.0" })); // the server's request, same id
    expect(reader.unanswered()).toEqual([1, 2, 3]);
    reader.event(message({ jsonrpc: "2.0", id: 1, result: { method: "x", protocolVersion: "2025-11-25" } }));
    reader.event(
      message([
        { jsonrpc: "2.0", id: 2, result: {} },
        { jsonrpc: "2.0", method: "n" },
      ]),
    );
    reader.event(event("ping", "{}"));
    expect(reader.unanswered()).toEqual([3]);
    expect(facts.protocolVersion).toBe("2025-11-25");
    expect(lines).toHaveLength(4);
    expect(reader.events).toBe(4);
  });
});

describe("request headers", () => {
  const base = { "User-Agent": "baton-proxy/1.0.0" };
  test("legacy era: no version on initialize; session id and negotiated version afterwards", () => {
    const facts = { sessionId: undefined, protocolVersion: undefined };
    const init = postHeaders(base, facts, { jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    expect(init).toEqual({
      "User-Agent": "baton-proxy/1.0.0",
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
    });
    const later = postHeaders(
      base,
      { sessionId: "s-1", protocolVersion: "2025-06-18" },
      { jsonrpc: "2.0", id: 1, method: "tools/list" },
    );
    expect(later["Mcp-Session-Id"]).toBe("s-1");
    expect(later["MCP-Protocol-Version"]).toBe("2025-06-18");
  });

  test("stateless era: version from the body, Mcp-Method, Mcp-Name (Base64 sentinel when not plain ASCII)", () => {
    const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28" };
    const headers = postHeaders(
      base,
      { sessionId: undefined, protocolVersion: undefined },
      { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "café", _meta: meta } },
    );
    expect(headers["MCP-Protocol-Version"]).toBe("2026-07-28");
    expect(headers["Mcp-Method"]).toBe("tools/call");
    expect(headers["Mcp-Name"]).toBe(`=?base64?${Buffer.from("café").toString("base64")}?=`);
    expect(encodeHeaderValue("plain_name")).toBe("plain_name");
    expect(encodeHeaderValue(" padded")).toStartWith("=?base64?");
  });

  test("stateless era: a call's x-mcp-header arguments (as listed, nested too) become Mcp-Param-* headers; absent, null and non-primitive ones none", () => {
    const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28" };
    const facts: SessionFacts = { sessionId: undefined, protocolVersion: undefined };
    const listing = {
      jsonrpc: "2.0",
      id: 1,
      result: {
        tools: [
          {
            name: "q",
            inputSchema: {
              type: "object",
              properties: {
                region: { type: "string", "x-mcp-header": "Region" },
                n: { type: "integer", "x-mcp-header": "N" },
                on: { type: "boolean", "x-mcp-header": "On" },
                gone: { type: "string", "x-mcp-header": "Gone" },
                bad: { type: "string", "x-mcp-header": "Not a token" },
                where: { type: "object", properties: { zone: { type: "string", "x-mcp-header": "Zone" } } },
                list: { type: "array", items: { type: "string", "x-mcp-header": "Item" } },
              },
            },
          },
          { name: "plain", inputSchema: { type: "object", properties: { region: { type: "string" } } } },
        ],
      },
    };
    const reader = new ResponseReader([1], false, facts, {
      line: () => {},
      failure: () => {},
    } as unknown as UpstreamSink);
    reader.line(bytes(JSON.stringify(listing)));
    const call = (name: string, args: unknown) =>
      postHeaders(base, facts, {
        jsonrpc: "2.0",
        id: 2,
        method: "tools/call",
        params: { name, arguments: args, _meta: meta },
      });
    const headers = call("q", {
      region: "Zürich",
      n: 42,
      on: false,
      gone: null,
      bad: "x",
      where: { zone: "a" },
      list: ["i"],
    });
    expect(Object.entries(headers).filter(([key]) => key.startsWith("Mcp-Param-"))).toEqual([
      ["Mcp-Param-Region", `=?base64?${Buffer.from("Zürich").toString("base64")}?=`],
      ["Mcp-Param-N", "42"],
      ["Mcp-Param-On", "false"],
      ["Mcp-Param-Zone", "a"],
    ]);
    expect(Object.keys(call("plain", { region: "r" })).some((key) => key.startsWith("Mcp-Param-"))).toBe(false);
  });

  test("resumption GET carries Last-Event-ID and the session", () => {
    expect(
      sessionHeaders(base, { sessionId: "s", protocolVersion: "2025-11-25" }, "text/event-stream", "ev-9"),
    ).toEqual({
      ...base,
      Accept: "text/event-stream",
      "Mcp-Session-Id": "s",
      "MCP-Protocol-Version": "2025-11-25",
      "Last-Event-ID": "ev-9",
    });
  });
});

describe("bodies become single lines", () => {
  test("a compact JSON body is forwarded byte for byte plus a newline; pretty-printed ones are flattened", () => {
    expect(text(bodyToLine(bytes('{"id":1,"result":{}}')))).toBe('{"id":1,"result":{}}\n');
    expect(text(bodyToLine(bytes('{\r\n  "id": 1,\n  "result": {"s": "a\\nb"}\n}\n')))).toBe(
      '{    "id": 1,   "result": {"s": "a\\nb"} }\n',
    );
    expect(bodyToLine(bytes("  \n"))).toBeUndefined();
    expect(text(bodyToLine(bytes('{"a":\r\n1}')))).toBe('{"a":  1}\n');
    expect(text(bodyToLine(bytes('{"a":\r1}')))).toBe('{"a": 1}\n');
    expect(text(bodyToLine(bytes('\t{"a":"é"} ')))).toBe('{"a":"é"}\n');
  });

  test("seeded generated bodies (any spacing, CR and LF between tokens, escapes): one line that parses to the body's value", () => {
    const pick = picker(65);
    for (let n = 0; n < 2000; n++) {
      const body = jsonRpcLine(pick);
      const line = text(bodyToLine(bytes(body))) ?? "";
      expect({ body, breaks: line.slice(0, -1).search(/[\r\n]/), end: line.at(-1) }).toEqual({
        body,
        breaks: -1,
        end: "\n",
      });
      expect({ body, value: JSON.parse(line) }).toEqual({ body, value: JSON.parse(body) });
    }
  });
});

describe("the --url target", () => {
  test("${NAME} references resolve from the environment; problems name headers, never values", () => {
    const ok = resolveRemoteTarget(
      {
        url: "https://mcp.example.com/mcp?x=1#frag",
        headers: ["X-Api-Key: ${KEY}", "X-Team: red-${TEAM}"],
        allowHttp: false,
      },
      { KEY: "s3cret-value", TEAM: "7" },
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.target.headers).toEqual({ "X-Api-Key": "s3cret-value", "X-Team": "red-7" });
    expect(ok.target.origin).toBe("https://mcp.example.com");
    expect(ok.target.url.href).toBe("https://mcp.example.com/mcp?x=1");
    expect(ok.target.secrets).toContain("s3cret-value");
    const bad = resolveRemoteTarget(
      {
        url: "http://mcp.example.com/mcp",
        headers: ["X-Api-Key: ${MISSING}", "Accept: x", "no colon", "Bad Name: v", "ghp_pastedTokenNoColon1234"],
        allowHttp: false,
      },
      {},
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems).toEqual([
      "--url http://mcp.example.com is plain http to a non-local host: use https, or add --allow-http if you accept sending credentials in clear",
      "--header X-Api-Key refers to ${MISSING}, which is not set in the environment",
      "--header Accept is set by the proxy itself and cannot be overridden",
      // A line without a colon may be a pasted secret: it is not echoed.
      '--header "…" must look like "Name: value"',
      '--header "…" must look like "Name: value"',
      // A token pasted alone is shaped like a header name: still not echoed (stderr lands in the host's log).
      '--header "…" must look like "Name: value"',
    ]);
    expect(bad.problems.join("\n")).not.toContain("ghp_");
  });

  test("--header-env NAME=VARIABLE sends the variable's value as is; problems name headers and variables, never values", () => {
    const ok = resolveRemoteTarget(
      {
        url: "https://mcp.example.com/mcp",
        headers: ["X-Team: red"],
        headerEnv: ["X-Api-Key=MCP_HEADER_X_API_KEY", "X-Empty=EMPTY", "X-Raw=RAW"],
        allowHttp: false,
      },
      // Taken as is: a ${…} left in a value (a host that did not expand it) is not resolved a second time.
      { MCP_HEADER_X_API_KEY: "s3cret-value", EMPTY: "", RAW: "${OTHER}", OTHER: "no" },
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.target.headers).toEqual({
      "X-Team": "red",
      "X-Api-Key": "s3cret-value",
      "X-Empty": "",
      "X-Raw": "${OTHER}",
    });
    expect(ok.target.secrets).toContain("s3cret-value");
    const bad = resolveRemoteTarget(
      {
        url: "https://mcp.example.com/mcp",
        headers: [],
        headerEnv: [
          "X-Api-Key=MISSING",
          "X-Api-Key: MCP_HEADER_X_API_KEY",
          "sk-live-pasted-secret",
          "Bad Name=V",
          "X-Token=sk-live-not-a-name",
          "X-Token=",
          "Accept=V",
          "X-Multi=LINES",
        ],
        allowHttp: false,
      },
      { V: "v", LINES: "a\r\nInjected: b" },
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems).toEqual([
      "--header-env X-Api-Key names MISSING, which is not set in the environment",
      '--header-env "…" must look like "Name=VARIABLE"',
      '--header-env "…" must look like "Name=VARIABLE"',
      '--header-env "…" must look like "Name=VARIABLE"',
      // What follows "=" may be a pasted secret rather than a variable name: it is not echoed.
      '--header-env X-Token must name an environment variable after "=" (letters, digits, _)',
      '--header-env X-Token must name an environment variable after "=" (letters, digits, _)',
      "--header-env Accept is set by the proxy itself and cannot be overridden",
      "--header-env X-Multi has a line break or NUL in its value",
    ]);
    expect(bad.problems.join("\n")).not.toContain("sk-live");
  });

  test("a header value HTTP cannot carry (a character beyond U+00FF) is refused at start, never quoted: every request failed as 'unreachable'", () => {
    const headers = new Headers();
    expect(() => headers.set("X-Key", "k\u2192secret")).toThrow(); // what fetch does with it at each request
    const bad = resolveRemoteTarget(
      { url: "https://mcp.example.com/mcp", headers: ["X-Emoji: a😀b"], headerEnv: ["X-Key=KEY"], allowHttp: false },
      { KEY: "k\u2192secret" },
    );
    expect(!bad.ok && bad.problems).toEqual([
      "--header X-Emoji has a character beyond U+00FF in its value (an HTTP header cannot carry it)",
      "--header-env X-Key has a character beyond U+00FF in its value (an HTTP header cannot carry it)",
    ]);
    const latin1 = resolveRemoteTarget(
      { url: "https://mcp.example.com/mcp", headers: [], headerEnv: ["X-Key=KEY"], allowHttp: false },
      { KEY: "caf\u00e9" },
    );
    expect(latin1.ok && latin1.target.headers).toEqual({ "X-Key": "caf\u00e9" });
  });

  test("a header name given twice (--header or --header-env, any case) is refused naming it: fetch merged them as 'a, b', or the last silently won", () => {
    const merged = new Headers({ "x-k": "a", "X-K": "b" });
    expect(merged.get("x-k")).toBe("a, b"); // what the server got before
    const bad = resolveRemoteTarget(
      {
        url: "https://mcp.example.com/mcp",
        headers: ["x-k: a-secret-1", "X-K: b-secret-2", "X-Same: one", "X-Same: two", "Authorization: Bearer t-1"],
        headerEnv: ["authorization=TOKEN", "X-Other=OTHER"],
        allowHttp: false,
      },
      { TOKEN: "t-2", OTHER: "o" },
    );
    expect(!bad.ok && bad.problems).toEqual([
      "--header X-K is given twice (also as --header x-k; header names ignore case): give it once",
      "--header X-Same is given twice (also as --header X-Same; header names ignore case): give it once",
      "--header-env authorization is given twice (also as --header Authorization; header names ignore case): give it once",
    ]);
    expect(JSON.stringify(bad)).not.toContain("secret");
    // A first spelling that is refused for another reason still counts: every problem comes at once.
    const both = resolveRemoteTarget(
      { url: "https://mcp.example.com/mcp", headers: ["X-K: ${MISSING}", "x-k: b"], allowHttp: false },
      {},
    );
    expect(!both.ok && both.problems).toEqual([
      "--header X-K refers to ${MISSING}, which is not set in the environment",
      "--header x-k is given twice (also as --header X-K; header names ignore case): give it once",
    ]);
  });

  test("--url-env VARIABLE reads the URL from the environment, with every --url rule; problems never quote the URL", () => {
    const ok = resolveRemoteTarget(
      { urlEnv: "MCP_URL", headers: [], allowHttp: false },
      { MCP_URL: "https://user:pw-secret-1@mcp.example.com/mcp/sk-path-secret?api_key=QUERYSECRET123#frag" },
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.target.url.href).toBe(
      "https://user:pw-secret-1@mcp.example.com/mcp/sk-path-secret?api_key=QUERYSECRET123",
    );
    expect(ok.target.origin).toBe("https://mcp.example.com");
    expect(ok.target.secrets).toEqual(["user", "pw-secret-1"]);
    const problems = (urlEnv: string, value: string | undefined, allowHttp = false): string[] => {
      const result = resolveRemoteTarget({ urlEnv, headers: [], allowHttp }, { MCP_URL: value });
      return result.ok ? [] : result.problems;
    };
    expect(problems("MCP_URL", undefined)).toEqual(["--url-env names MCP_URL, which is not set in the environment"]);
    expect(problems("MCP_URL", "")).toEqual(["--url-env names MCP_URL, which is empty"]);
    // The URL itself given where the variable's name goes: not echoed.
    expect(problems("https://mcp.example.com/mcp?api_key=QUERYSECRET123", "https://x.example/mcp")).toEqual([
      "--url-env must name an environment variable (letters, digits, _)",
    ]);
    expect(problems("MCP_URL", "mcp.example.com/mcp?api_key=QUERYSECRET123")).toEqual([
      "--url-env MCP_URL is not a valid URL (expected https://host/path)",
    ]);
    expect(problems("MCP_URL", "ws://mcp.example.com/mcp?api_key=QUERYSECRET123")).toEqual([
      '--url-env MCP_URL must be http(s):// (got "ws:")',
    ]);
    // host:port without a scheme is read as the scheme "localhost:": say what is missing, not that scheme.
    expect(problems("MCP_URL", "localhost:3000/mcp")).toEqual([
      "--url-env MCP_URL has no http:// or https:// in front: write https://… (http:// for a server on this machine)",
    ]);
    // A scheme that is not letters only may be the start of a pasted token (sk-live-…:…): not quoted.
    expect(problems("MCP_URL", "sk-live-4f9a8b7c:QUERYSECRET123")).toEqual([
      "--url-env MCP_URL has no http:// or https:// in front: write https://… (http:// for a server on this machine)",
    ]);
    expect(problems("MCP_URL", "sk-live-4f9a8b7c://QUERYSECRET123")).toEqual(["--url-env MCP_URL must be http(s)://"]);
    expect(
      problems("MCP_URL", "http://user:pw-secret-1@mcp.internal/mcp/sk-path-secret?api_key=QUERYSECRET123"),
    ).toEqual([
      "--url-env MCP_URL http://mcp.internal is plain http to a non-local host: use https, or add --allow-http if you accept sending credentials in clear",
    ]);
    expect(problems("MCP_URL", "http://mcp.internal/mcp", true)).toEqual([]);
    expect(problems("MCP_URL", "http://127.0.0.1:8080/mcp")).toEqual([]);
  });

  test("plain http is fine to loopback, or with --allow-http; credentials in the URL are secrets", () => {
    expect(resolveRemoteTarget({ url: "http://127.0.0.1:8080/mcp", headers: [], allowHttp: false }, {}).ok).toBe(true);
    const withUser = resolveRemoteTarget(
      { url: "http://user:pa55word@mcp.internal/mcp", headers: [], allowHttp: true },
      {},
    );
    expect(withUser.ok && withUser.target.secrets).toEqual(["user", "pa55word"]);
    expect(withUser.ok && withUser.target.origin).toBe("http://mcp.internal");
  });

  test("a password with a % that is no escape (pasted as is) is a secret as written, not a URIError crash (exit 70)", () => {
    const result = resolveRemoteTarget(
      { url: "https://me:50%off@mcp.example.com/mcp", headers: [], allowHttp: false },
      {},
    );
    expect(result.ok && result.target.secrets).toEqual(["me", "50%off"]);
  });
});

describe("failure names", () => {
  const origin = "https://mcp.example.com";
  test.each([
    [
      Object.assign(new TypeError("Unable to connect"), { code: "ECONNREFUSED" }),
      "upstream_unreachable",
      "unreachable (ECONNREFUSED)",
    ],
    [Object.assign(new TypeError("getaddrinfo"), { code: "ENOTFOUND" }), "upstream_unreachable", "does not resolve"],
    [
      Object.assign(new TypeError("handshake"), { code: "EPROTO" }),
      "upstream_tls",
      "TLS with https://mcp.example.com failed",
    ],
    [Object.assign(new Error("cert"), { code: "CERT_HAS_EXPIRED" }), "upstream_tls", "CERT_HAS_EXPIRED"],
    [new UpstreamTimeout(), "upstream_timeout", "did not answer within 1.5 s"],
  ])("a thrown %#: named and explained", (error, type, reason) => {
    const failure = fetchFailure(origin, error, 1500);
    expect(failure.errorType).toBe(type);
    expect(failure.reason).toContain(reason);
    expect(failure.reason).toContain(origin);
  });

  test("HTTP statuses quote a JSON-RPC error message from the body", () => {
    expect(httpFailure(origin, 503, "Service Unavailable", "<html>busy</html>", createKeyMatcher([]))).toEqual({
      errorType: "http_503",
      reason: `${origin} answered HTTP 503 Service Unavailable`,
    });
    expect(
      httpFailure(
        origin,
        400,
        "",
        '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID"},"id":null}',
        createKeyMatcher([]),
      ).reason,
    ).toBe(`${origin} answered HTTP 400: Bad Request: No valid session ID`);
  });

  test("the auth login hint never repeats the URL's credentials or query (it reaches the client and events)", () => {
    const resolved = resolveRemoteTarget(
      {
        url: "https://user:pw-secret-1@mcp.example.com/mcp?api_key=QUERYSECRET123#frag",
        headers: [],
        allowHttp: false,
      },
      {},
    );
    if (!resolved.ok) throw new Error("target refused");
    const { reason } = unauthorizedFailure(resolved.target);
    expect(reason).not.toContain("pw-secret-1");
    expect(reason).not.toContain("QUERYSECRET123");
    expect(reason).toContain("baton-proxy auth login --url https://***@mcp.example.com/mcp?***");
    const plain = resolveRemoteTarget({ url: "https://mcp.example.com/mcp", headers: [], allowHttp: false }, {});
    expect(plain.ok && unauthorizedFailure(plain.target).reason).toContain(
      "auth login --url https://mcp.example.com/mcp`",
    );
  });

  test("with --url-env the auth login hint names the variable, never the URL (wrap's entries: a key may be in its path)", () => {
    const resolved = resolveRemoteTarget(
      { urlEnv: "MCP_URL", headers: [], allowHttp: false },
      { MCP_URL: "https://actions.zapier.com/mcp/zk-path-key-7890abcd/sse" },
    );
    if (!resolved.ok) throw new Error("target refused");
    const { reason } = unauthorizedFailure(resolved.target);
    expect(reason).not.toContain("zk-path-key");
    expect(reason).toContain("https://actions.zapier.com requires authorization (HTTP 401)");
    expect(reason).toContain("run `baton-proxy auth login --url …` with the URL in MCP_URL");
  });

  test("resume delays back off to a cap, or follow the server's retry", () => {
    expect([1, 2, 3, 4, 5, 6, 9].map((n) => resumeDelayMs(n, undefined))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000,
    ]);
    expect(resumeDelayMs(1, 1200)).toBe(1200);
    expect(resumeDelayMs(1, 60_000)).toBe(5000);
    // A stream the server closes at once is reopened for as long as it is accepted: retry: 0 must not spin.
    expect(resumeDelayMs(1, 0)).toBe(100);
    expect(resumeDelayMs(4, 5)).toBe(100);
  });
});

describe("--url configuration", () => {
  test("BATON_UPSTREAM_TIMEOUT: float seconds, 1 ms to setTimeout's limit; a bad value is refused (upstream only warns); the token is a secret", () => {
    const ok = loadConfig({ BATON_UPSTREAM_TIMEOUT: "0.5", BATON_UPSTREAM_AUTH_TOKEN: "tok-123456" });
    expect(ok.ok && ok.config.upstreamTimeoutMs).toBe(500);
    expect(ok.ok && ok.config.secrets).toContain("tok-123456");
    // The bounds: 1 ms (less rounds to a 0 ms timer), and setTimeout's limit (beyond it a timer fires after 1 ms).
    const edge = (raw: string) => loadConfig({ BATON_UPSTREAM_TIMEOUT: raw });
    expect([edge("0.001"), edge("2147483")].map((r) => r.ok && r.config.upstreamTimeoutMs)).toEqual([1, 2_147_483_000]);
    for (const bad of ["0", "-1", "inf", "NaN", "soon", "0.0001", "0.0004", "2147484", "99999999999999999999"]) {
      const result = loadConfig({ BATON_UPSTREAM_TIMEOUT: bad });
      expect(result.ok).toBe(false);
      expect(result.ok ? "" : result.problems.join("\n")).toContain(
        `BATON_UPSTREAM_TIMEOUT must be a positive number of seconds, from 0.001 to 2147483 (got "${bad}")`,
      );
    }
    // Every decimal spelling Python's float() reads (the Python proxy's parser): a fleet's shared env must not stop the binary (78).
    const python: [string, number][] = [
      ["5.", 5000],
      ["+2.5", 2500],
      ["1e3", 1_000_000],
      ["1E-3", 1],
      [".5e1", 5000],
      ["2.5e+1", 25_000],
    ];
    expect(python.map(([raw]) => edge(raw)).map((r) => r.ok && r.config.upstreamTimeoutMs)).toEqual(
      python.map(([, ms]) => ms),
    );
    // Still refused: what float() refuses, its inf/nan (no timer), and its digit separators (documented).
    for (const bad of ["infinity", "0x10", "1_000", "5ms", "1e", "e3", ".", "1e400", "1e-400", "- 5"]) {
      expect(edge(bad).ok, bad).toBe(false);
    }
    // The OAuth and wrap variables are known names, not typos.
    const quiet = loadConfig({
      BATON_OAUTH_OPENER: "x",
      BATON_OAUTH_CLIENT_ID: "y",
      BATON_CONFIG_DIR: "/tmp/z",
      BATON_WRAPPED_REMOTE: "{}",
    });
    expect(quiet.ok && quiet.config.warnings).toEqual([]);
  });
});

describe("StreamableHttpUpstream in-process (fake fetch)", () => {
  const target = {
    url: new URL("https://mcp.example.com/mcp"),
    origin: "https://mcp.example.com",
    headers: {},
    secrets: [],
  };
  const line = (o: unknown) => bytes(`${JSON.stringify(o)}\n`);

  test("messages behind an initialize wait for its session id, in order", async () => {
    const seen: Array<{ body: string; session: string | null }> = [];
    let answerInit: () => void = () => undefined;
    const fakeFetch = (async (_url: unknown, init?: RequestInit) => {
      if (init?.method === "GET") return new Response(null, { status: 405 }); // no server-to-client stream offered
      const body = String(new TextDecoder().decode(init?.body as Uint8Array));
      seen.push({ body, session: new Headers(init?.headers).get("mcp-session-id") });
      if (body.includes('"initialize"')) {
        await new Promise<void>((resolve) => (answerInit = resolve));
        return new Response('{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}}', {
          headers: { "content-type": "application/json", "mcp-session-id": "s-42" },
        });
      }
      return new Response(null, { status: 202 });
    }) as typeof fetch;
    const lines: string[] = [];
    const upstream = new StreamableHttpUpstream({
      target,
      timeoutMs: 5000,
      userAgent: "t",
      authorizer: undefined,
      logger: createMemoryLogger(),
      fetch: fakeFetch,
      secretKeys: createKeyMatcher([]),
      sink: { line: (b) => lines.push(text(b) as string), failure: () => undefined },
    });
    const init = upstream.send(line({ jsonrpc: "2.0", id: 0, method: "initialize", params: {} }));
    const after = upstream.send(line({ jsonrpc: "2.0", method: "notifications/initialized" }));
    await Bun.sleep(5);
    expect(seen.length).toBe(1); // the notification waits for the handshake
    answerInit();
    await Promise.all([init, after]);
    expect(seen.map((s) => s.session)).toEqual([null, "s-42"]);
    expect(upstream.facts).toEqual({ sessionId: "s-42", protocolVersion: "2025-06-18" });
    expect(lines).toEqual(['{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}}\n']);
    await upstream.stop();
  });

  test("an exception of ours still answers the request (proxy_internal), never a hang", async () => {
    const failures: Array<{ id: unknown; errorType: string }> = [];
    const authorizer = {
      header: async () => {
        throw new Error("cache unreadable");
      },
      unauthorized: async () => "retry" as const,
    };
    const upstream = new StreamableHttpUpstream({
      target,
      timeoutMs: 5000,
      userAgent: "t",
      authorizer,
      logger: createMemoryLogger(),
      fetch: fetch,
      secretKeys: createKeyMatcher([]),
      sink: { line: () => undefined, failure: (id, f) => failures.push({ id, errorType: f.errorType }) },
    });
    await upstream.send(line({ jsonrpc: "2.0", id: 7, method: "tools/list" }));
    expect(failures).toEqual([{ id: 7, errorType: "proxy_internal" }]);
  });
});
