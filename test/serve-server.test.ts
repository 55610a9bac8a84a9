// Unit: how the listener tells the MCP path from other paths without parsing every request URL (same verdict as WHATWG URL parsing), and which other spellings an upstream may serve as it.

import { describe, expect, test } from "bun:test";
import { isMcpPath, mayReachMcpPath } from "../src/serve/serve-server.ts";

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

describe("mayReachMcpPath: the spellings an upstream may route to its MCP endpoint (the Origin check covers them)", () => {
  test("another case or a trailing slash (Express), percent-escapes (Hono, Go's net/http and Python's ASGI servers decode the path before routing)", () => {
    for (const spelling of [
      "/mcp",
      "/MCP",
      "/mcp/",
      "/Mcp/",
      "/%6dcp",
      "/%6Dcp",
      "/mc%70",
      "/%6D%63%70/",
      "/mcp%2F",
      "/%4dcp",
    ])
      expect(mayReachMcpPath(`http://h${spelling}?x=1`, "/mcp"), spelling).toBe(true);
    expect(mayReachMcpPath("http://h/v1/%6dcp", "/v1/mcp")).toBe(true);
  });

  test("other paths, and escapes that decode to something else or to nothing, are not it", () => {
    for (const spelling of [
      "/mcpx",
      "/mcp//",
      "//mcp",
      "/%25%36dcp",
      "/%zzmcp",
      "/m%00cp",
      "/%6dcp%",
      "/%e9cp",
      "/v1/mcp",
    ])
      expect(mayReachMcpPath(`http://h${spelling}`, "/mcp"), spelling).toBe(false);
  });
});
