// The HTTP/1.1 response parser of serve's upstream client: framing edge cases, every split of the input across reads, bounds and malformed answers.

import { describe, expect, test } from "bun:test";
import {
  HttpResponseError,
  HttpResponseParser,
  MAX_CHUNK_LINE_BYTES,
  MAX_RESPONSE_HEAD_BYTES,
  type ResponseHead,
} from "../src/serve/http1-response-parser.ts";

interface Parsed {
  heads: ResponseHead[];
  body: string;
  ended: boolean | undefined;
}

const encoder = new TextEncoder();

/** Feeds `parts` (each one read); `close` then signals the end of the connection. */
function parse(parts: readonly (string | Uint8Array)[], options: { method?: string; close?: boolean } = {}): Parsed {
  const out: Parsed = { heads: [], body: "", ended: undefined };
  const decoder = new TextDecoder();
  const parser = new HttpResponseParser(
    {
      head: (head) => out.heads.push(head),
      body: (chunk) => {
        out.body += decoder.decode(chunk, { stream: true });
      },
      end: (reusable) => {
        expect(out.ended).toBeUndefined(); // exactly once
        out.ended = reusable;
      },
    },
    options.method ?? "POST",
  );
  for (const part of parts) parser.push(typeof part === "string" ? encoder.encode(part) : part);
  if (options.close) parser.close();
  return out;
}

/** Every way of cutting `text` into two reads, plus one read per byte. */
function splits(text: string): string[][] {
  const all = [[text], [...text]];
  for (let i = 1; i < text.length; i++) all.push([text.slice(0, i), text.slice(i)]);
  return all;
}

const JSON_ANSWER = '{"jsonrpc":"2.0","id":1,"result":{}}';

describe("framing", () => {
  test("Content-Length: the body, the head's fields, reusable; the same for every split across reads", () => {
    const text = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${JSON_ANSWER.length}\r\nMcp-Session-Id: abc\r\n\r\n${JSON_ANSWER}`;
    for (const parts of splits(text)) {
      const out = parse(parts);
      expect(out.body).toBe(JSON_ANSWER);
      expect(out.ended).toBe(true);
      expect(out.heads).toHaveLength(1);
      expect(out.heads[0]).toMatchObject({ status: 200, statusText: "OK", contentLength: JSON_ANSWER.length });
      expect(out.heads[0]?.headers).toContainEqual(["mcp-session-id", "abc"]);
    }
  });

  test("chunked with extensions and trailers: data joined, extensions and trailers dropped; every split", () => {
    const text =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
      '5;name=value;q="x"\r\nhello\r\n' +
      "1 \r\n \r\n" +
      "6\r\nworld!\r\n" +
      "0;last\r\nX-Trailer: t\r\n\r\n";
    for (const parts of splits(text)) {
      const out = parse(parts);
      expect(out.body).toBe("hello world!");
      expect(out.ended).toBe(true);
      expect(out.heads[0]?.contentLength).toBeUndefined();
    }
  });

  test("1xx interim answers are skipped; the final answer's head is the only one", () => {
    const out = parse([
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n",
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    ]);
    expect(out.heads.map((h) => h.status)).toEqual([201]);
    expect(out.body).toBe("ok");
    expect(out.ended).toBe(true);
  });

  test("no body on 204, 304 or a HEAD answer, whatever Content-Length says; the connection stays reusable but after a HEAD that announced a body", () => {
    for (const [status, method, reusable] of [
      ["204 No Content", "POST", true],
      ["304 Not Modified", "GET", true],
      // A server that sends the announced body anyway would answer the next request with it.
      ["200 OK", "HEAD", false],
    ] as const) {
      const out = parse([`HTTP/1.1 ${status}\r\nContent-Length: 120\r\n\r\n`], { method });
      expect(out.heads[0]?.bodiless).toBe(true);
      expect(out.body).toBe("");
      expect(out.ended).toBe(reusable);
    }
    expect(parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"], { method: "HEAD" }).ended).toBe(false);
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], { method: "HEAD" }).ended).toBe(true);
  });

  test("no Content-Length nor chunked: the body runs until the close, and the connection is not reused", () => {
    for (const parts of splits("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")) {
      const out = parse(parts, { close: true });
      expect(out.body).toBe("until the end");
      expect(out.ended).toBe(false);
    }
  });

  test("a zero Content-Length ends at the head", () => {
    const out = parse(["HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"]);
    expect(out).toMatchObject({ body: "", ended: true });
  });

  test("Connection: close, HTTP/1.0, and Transfer-Encoding beside Content-Length all forbid reuse", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx"]).ended).toBe(false);
    expect(parse(["HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"]).ended).toBe(false);
    expect(parse(["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx"]).ended).toBe(true);
    const both = parse([
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ]);
    expect(both).toMatchObject({ body: "ab", ended: false });
  });

  test("a Transfer-Encoding that does not end in chunked is read until the close", () => {
    const out = parse(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw"], { close: true });
    expect(out).toMatchObject({ body: "raw", ended: false });
  });

  test("bytes after a complete answer make the connection not reusable (we never pipeline)", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"])).toMatchObject({ body: "ok", ended: false });
  });

  test("bare LF line ends are accepted; repeated fields (Set-Cookie) stay separate; identical Content-Length values agree", () => {
    const out = parse(["HTTP/1.1 200 OK\nSet-Cookie: a=1\nSet-Cookie: b=2\nContent-Length: 2, 2\n\nok"]);
    expect(out.body).toBe("ok");
    expect(out.heads[0]?.headers.filter(([n]) => n === "set-cookie").map(([, v]) => v)).toEqual(["a=1", "b=2"]);
  });

  test("field values with bytes past ASCII (obs-text: UTF-8, 0x80-0x9F included) are read one code unit per byte, so Bun writes them back unchanged", () => {
    // TextDecoder's "latin1" is windows-1252: 0x9C became U+0153, which no Headers value may hold (the client got a 500).
    const bytes = new Uint8Array([
      ...encoder.encode("HTTP/1.1 200 OK\r\nX-Mark: "),
      0xe2,
      0x9c,
      0x93,
      0x80,
      0xe9,
      ...encoder.encode("\r\nContent-Length: 0\r\n\r\n"),
    ]);
    for (const parts of [[bytes], [bytes.subarray(0, 20), bytes.subarray(20)]]) {
      const value = parse(parts).heads[0]?.headers.find(([name]) => name === "x-mark")?.[1];
      expect(value).toBe("\u00e2\u009c\u0093\u0080\u00e9");
      expect(() => new Headers([["x-mark", value as string]])).not.toThrow();
    }
  });

  test("a status line without a reason phrase", () => {
    expect(parse(["HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"]).heads[0]).toMatchObject({
      status: 404,
      statusText: "",
    });
  });
});

describe("malformed or oversized answers are errors, never guesses", () => {
  const fails = (parts: readonly string[], message: RegExp, options?: { method?: string; close?: boolean }) => {
    let error: unknown;
    try {
      parse(parts, options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpResponseError);
    expect((error as Error).message).toMatch(message);
  };

  test("not HTTP, an invalid status, a protocol switch", () => {
    fails(["SSH-2.0-OpenSSH\r\n\r\n"], /status line/);
    fails(["HTTP/1.1 099 Low\r\n\r\n"], /invalid status/);
    fails(["HTTP/2 200 OK\r\n\r\n"], /status line/);
    fails(["HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"], /switched protocols/);
  });

  test("header lines: obs-fold, space before the colon, no colon", () => {
    fails(["HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n"], /malformed header/);
    fails(["HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n"], /malformed header/);
    fails(["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], /malformed header/);
  });

  test("differing or invalid Content-Length", () => {
    fails(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"], /Content-Length/);
    fails(["HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"], /Content-Length/);
    fails(["HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n"], /Content-Length/);
  });

  test("chunked: a bad size, a chunk longer than its size", () => {
    fails(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], /chunk size/);
    fails(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n"], /longer than its size/);
  });

  test("bounds: a head, a trailer section or a chunk-size line beyond its limit", () => {
    const big = "x".repeat(MAX_RESPONSE_HEAD_BYTES);
    fails(["HTTP/1.1 200 OK\r\n", `X-Big: ${big}`], /larger than/); // refused before the line ends
    const many = Array.from({ length: MAX_RESPONSE_HEAD_BYTES / 1000 + 1 }, (_, i) => `X-${i}: ${"y".repeat(990)}\r\n`);
    fails(["HTTP/1.1 200 OK\r\n", ...many, "\r\n"], /larger than/);
    fails(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", ...many, "\r\n"], /trailer/);
    fails(
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", `1;${"e".repeat(MAX_CHUNK_LINE_BYTES)}\r\n`],
      /chunk-size line/,
    );
  });

  test("a close before the answer is complete; a close before any byte says so", () => {
    fails(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], /before the response was complete/, { close: true });
    fails(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"], /before the response was complete/, {
      close: true,
    });
    fails([], /without answering/, { close: true });
  });

  test("started says whether any byte came (a reused connection that got none may be retried)", () => {
    const parser = new HttpResponseParser(
      { head: () => undefined, body: () => undefined, end: () => undefined },
      "GET",
    );
    expect(parser.started).toBe(false);
    parser.push(encoder.encode("H"));
    expect(parser.started).toBe(true);
  });
});
