// Unit: how the listener tells the MCP path from other paths without parsing every request URL (same verdict as WHATWG URL parsing).

import { describe, expect, test } from "bun:test";
import { isMcpPath } from "../src/serve/serve-server.ts";

const URLS = [
  "http://127.0.0.1:8080/mcp",
  "http://127.0.0.1:8080/mcp?x=1",
  "http://127.0.0.1:8080/mcp#frag",
  "http://127.0.0.1:8080/mcp/",
  "http://127.0.0.1:8080/mcpx",
  "http://127.0.0.1:8080/MCP",
  "http://127.0.0.1:8080/",
  "http://127.0.0.1:8080/a/../mcp",
  "http://127.0.0.1:8080/./mcp",
  "http://127.0.0.1:8080/%6dcp",
  "http://127.0.0.1:8080/v1/mcp",
  "http://[::1]:8080/mcp",
  "https://example.com/mcp?next=/mcp",
  "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp",
];

describe("isMcpPath", () => {
  for (const path of ["/mcp", "/v1/mcp", "/", "/mcp.v2", "/a/../mcp"]) {
    const plain = /^\/[A-Za-z0-9/_~-]*$/.test(path);
    test.each(URLS)(`${path}: %s as new URL(url).pathname says`, (url) => {
      expect(isMcpPath(url, path, plain)).toBe(new URL(url).pathname === path);
    });
  }

  test("a plain path matches the request's own text; other spellings are parsed", () => {
    expect(isMcpPath("http://h/mcp", "/mcp", true)).toBe(true);
    expect(isMcpPath("http://h/x/../mcp", "/mcp", true)).toBe(true); // normalised by the parse, as before
    expect(isMcpPath("http://h/mcp/", "/mcp", true)).toBe(false);
  });

  test("a bare path (Bun's request.url for a request without Host) is read whole; a Host no URL holds gives no path to parse", () => {
    for (const plain of [true, false]) {
      expect(isMcpPath("/mcp", "/mcp", plain)).toBe(true);
      expect(isMcpPath("/mcp?x=1", "/mcp", plain)).toBe(true);
      expect(isMcpPath("/x/mcp", "/mcp", plain)).toBe(false);
    }
    expect(isMcpPath("http://[::1/v1/../mcp", "/mcp", false)).toBe(false);
  });
});
