import { describe, expect, test } from "bun:test";
import { withCorsFields } from "../src/serve/cors-echo.ts";
import {
  type ClientHop,
  clientResponseFields,
  clientResponseHeaders,
  renderUpstreamFields,
  upstreamRequestHeaders,
  withoutHopByHop,
} from "../src/serve/forward-headers.ts";
import { isOriginAllowed } from "../src/serve/origin-policy.ts";

describe("hop-by-hop handling (RFC 9110 §7.6)", () => {
  test("drops connection-specific fields and whatever Connection names", () => {
    const out = withoutHopByHop(
      new Headers({
        connection: "keep-alive, X-Private",
        "keep-alive": "timeout=5",
        "x-private": "1",
        te: "trailers",
        upgrade: "h2c",
        "transfer-encoding": "chunked",
        "proxy-authorization": "Basic x",
        "x-kept": "yes",
      }),
    );
    expect([...out.keys()]).toEqual(["x-kept"]);
  });

  test("upstream request: Authorization kept, consent header and Host dropped, Via and X-Forwarded-* appended", () => {
    const out = upstreamRequestHeaders(
      new Headers({
        authorization: "Bearer abc",
        host: "proxy.example",
        "baton-consent-token": "ct_secret_123",
        via: "1.1 edge",
        "x-forwarded-for": "203.0.113.9",
        "mcp-session-id": "s1",
        "content-length": "12",
      }),
      { remoteAddress: "10.0.0.7", proto: "http", host: "proxy.example" },
    );
    expect(out.get("authorization")).toBe("Bearer abc");
    expect(out.get("mcp-session-id")).toBe("s1");
    expect(out.has("host")).toBe(false);
    expect(out.has("baton-consent-token")).toBe(false);
    expect(out.has("content-length")).toBe(false);
    expect(out.get("via")).toBe("1.1 edge, 1.1 baton-proxy");
    expect(out.get("x-forwarded-for")).toBe("203.0.113.9, 10.0.0.7");
    expect(out.get("x-forwarded-proto")).toBe("http");
    expect(out.get("x-forwarded-host")).toBe("proxy.example");
  });

  test("a Forwarded header (RFC 7239) the client wrote gets the proxy's own element last, as X-Forwarded-For gets the address: an upstream that reads it (Rack 3, Spring) trusts the last hop, not the client's words", () => {
    const hop: ClientHop = { remoteAddress: "10.0.0.7", proto: "http", host: "proxy.example:8080" };
    const spoofed = upstreamRequestHeaders(new Headers({ forwarded: "for=203.0.113.9;proto=https" }), hop);
    expect(spoofed.get("forwarded")).toBe(
      'for=203.0.113.9;proto=https, for=10.0.0.7;proto=http;host="proxy.example:8080"',
    );
    const v6 = upstreamRequestHeaders(new Headers({ forwarded: "for=unknown" }), {
      ...hop,
      remoteAddress: "::1",
      host: null,
    });
    expect(v6.get("forwarded")).toBe('for=unknown, for="[::1]";proto=http');
    // None written, none added: the upstream reads X-Forwarded-For as before.
    expect(upstreamRequestHeaders(new Headers(), hop).has("forwarded")).toBe(false);
  });

  test("client response: WWW-Authenticate and every Set-Cookie kept; length dropped only for rewritten bodies", () => {
    const source = new Headers({
      "www-authenticate": 'Bearer resource_metadata="https://x/.well-known/oauth-protected-resource"',
      "content-length": "10",
      "content-encoding": "gzip",
      connection: "close",
    });
    source.append("set-cookie", "a=1");
    source.append("set-cookie", "b=2");
    const kept = clientResponseHeaders(source, false);
    expect(kept.get("www-authenticate")).toBe(source.get("www-authenticate"));
    expect(kept.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(kept.get("content-length")).toBe("10");
    expect(kept.has("connection")).toBe(false);
    expect(kept.get("via")).toBe("1.1 baton-proxy");
    const changed = clientResponseHeaders(source, true);
    expect(changed.has("content-length") || changed.has("content-encoding")).toBe(false);
  });

  test("a rewritten or decoded body loses the upstream's digests and has its strong ETag weakened (as nginx's gzip and gunzip filters do); untouched bodies keep them", () => {
    const fields: [string, string][] = [
      ["content-type", "application/json"],
      ["content-digest", "sha-256=:AAAA:"],
      ["repr-digest", "sha-256=:BBBB:"],
      ["content-md5", "Q2hlY2sgSW50ZWdyaXR5IQ=="],
      ["digest", "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="],
      ["etag", '"v1-strong"'],
      ["last-modified", "Wed, 02 Dec 2026 10:00:00 GMT"],
    ];
    for (const out of [clientResponseFields(fields, true), clientResponseHeaders(new Headers(fields), true)]) {
      for (const name of ["content-digest", "repr-digest", "content-md5", "digest"]) expect(out.has(name)).toBe(false);
      expect(out.get("etag")).toBe('W/"v1-strong"');
      expect(out.get("last-modified")).toBe("Wed, 02 Dec 2026 10:00:00 GMT");
      expect(out.get("content-type")).toBe("application/json");
    }
    // A weak ETag stays as it is (never W/W/).
    expect(clientResponseFields([["etag", 'W/"v2"']], true).get("etag")).toBe('W/"v2"');
    expect(clientResponseHeaders(new Headers({ etag: 'W/"v2"' }), true).get("etag")).toBe('W/"v2"');
    for (const out of [clientResponseFields(fields, false), clientResponseHeaders(new Headers(fields), false)]) {
      for (const [name, value] of fields) expect(out.get(name)).toBe(value);
    }
  });
});

describe("the HTTP/1.1 client's one-pass forms give the same fields as the Headers forms", () => {
  const requests: [Record<string, string>, ClientHop][] = [
    [
      {
        authorization: "Bearer abc",
        host: "proxy.example",
        "baton-consent-token": "ct_secret_123",
        via: "1.1 edge",
        "x-forwarded-for": "203.0.113.9",
        "content-length": "12",
        "mcp-session-id": "s1",
        accept: "application/json, text/event-stream",
      },
      { remoteAddress: "10.0.0.7", proto: "http", host: "proxy.example" },
    ],
    [
      {
        connection: "keep-alive, X-Private, Via",
        "x-private": "1",
        via: "1.0 dropped-by-connection",
        te: "trailers",
        "keep-alive": "timeout=5",
        "x-forwarded-proto": "https",
        "x-forwarded-host": "public.example",
        "transfer-encoding": "chunked",
      },
      { remoteAddress: undefined, proto: "http", host: null },
    ],
    [
      { via: "  ", "x-forwarded-for": "" },
      { remoteAddress: "::1", proto: "https", host: "h" },
    ],
    [
      { forwarded: 'for=203.0.113.9;host="a\\"b"', "x-forwarded-for": "203.0.113.9" },
      { remoteAddress: "::ffff:10.0.0.7", proto: "http", host: "proxy.example" },
    ],
    [
      { connection: "forwarded", forwarded: "for=1.2.3.4" },
      { remoteAddress: undefined, proto: "http", host: 'we"ird' },
    ],
  ];

  test.each(requests)("request %#", (fields, hop) => {
    const expected = upstreamRequestHeaders(new Headers(fields), hop);
    const lines = renderUpstreamFields(new Headers(fields), hop).split("\r\n");
    expect(lines.pop()).toBe(""); // every line ends in CRLF
    const rendered = new Headers(
      lines.map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
    );
    expect([...rendered.entries()]).toEqual([...expected.entries()]);
  });

  const responses: [string, string][][] = [
    [
      ["content-type", "application/json"],
      ["content-length", "10"],
      ["content-encoding", "gzip"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["www-authenticate", 'Bearer realm="x"'],
      ["connection", "keep-alive, x-private"],
      ["x-private", "1"],
      ["keep-alive", "timeout=5"],
      ["via", "1.1 upstream-edge"],
    ],
    [
      ["transfer-encoding", "chunked"],
      ["content-type", "text/event-stream"],
      ["mcp-session-id", "s1"],
    ],
  ];

  test.each(responses)("response %#", (...pairs) => {
    const source = new Headers();
    for (const [name, value] of pairs) source.append(name, value);
    for (const changed of [false, true]) {
      const fast = clientResponseFields(pairs, changed);
      const slow = clientResponseHeaders(source, changed);
      expect([...fast.entries()]).toEqual([...slow.entries()]);
      expect(fast.getSetCookie()).toEqual(slow.getSetCookie());
    }
  });
});

describe("isOriginAllowed", () => {
  test.each([
    [null, true],
    ["http://localhost:6274", true],
    ["https://127.0.0.1", true],
    ["http://[::1]:3000", true],
    ["HTTP://LOCALHOST:1", true],
    ["http://localhost.evil.example", false],
    ["https://evil.example", false],
    ["null", false],
    ["file://", false],
    ["not a url", false],
  ])("loopback default: %p -> %p", (origin, allowed) => {
    expect(isOriginAllowed(origin, "loopback")).toBe(allowed);
  });

  test("an explicit list matches exact origins; * allows everything", () => {
    expect(isOriginAllowed("https://app.example", ["https://app.example"])).toBe(true);
    expect(isOriginAllowed("https://app.example/", ["https://app.example"])).toBe(true);
    expect(isOriginAllowed("https://app.example:8443", ["https://app.example"])).toBe(false);
    expect(isOriginAllowed("http://localhost:1", ["https://app.example"])).toBe(false);
    expect(isOriginAllowed("null", ["*"])).toBe(true);
  });
});

describe("withCorsFields: the proxy's own answers repeat the upstream's CORS fields", () => {
  const own = () => new Response("{}", { headers: { "content-type": "application/json" } });
  test("`*` or the request's own origin: repeated (Vary: Origin for the latter); another origin, none, or no Origin: nothing added", () => {
    const star = withCorsFields(own(), [["access-control-allow-origin", "*"]], "http://localhost:6274");
    expect(star.headers.get("access-control-allow-origin")).toBe("*");
    expect(star.headers.has("vary")).toBe(false);
    const echoed = withCorsFields(
      own(),
      [
        ["access-control-allow-origin", "https://app.example"],
        ["access-control-allow-credentials", "true"],
        ["access-control-expose-headers", "Mcp-Session-Id"],
      ],
      "https://app.example",
    );
    expect(echoed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(echoed.headers.get("access-control-allow-credentials")).toBe("true");
    expect(echoed.headers.get("access-control-expose-headers")).toBe("Mcp-Session-Id");
    expect(echoed.headers.get("vary")).toBe("Origin");
    for (const [fields, origin] of [
      [[["access-control-allow-origin", "https://app.example"]], "https://other.example"],
      [undefined, "https://app.example"],
      [[["access-control-allow-origin", "*"]], null],
    ] as const) {
      const out = withCorsFields(own(), fields, origin);
      expect(out.headers.has("access-control-allow-origin")).toBe(false);
    }
  });
});
