// Black-box: an OAuth-protected SDK server (auth router + bearer middleware) works through `serve` exactly as without it.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { fixtureStats, freePort, startHttpFixture, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

let upstream: Upstream;
let proxy: ServeHandle;
let publicUrl: string;

beforeAll(async () => {
  // The upstream is configured with the proxy's public URL as its issuer and resource (README: Hosted mode).
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  upstream = await startHttpFixture(["--oauth", "--public-url", publicUrl]);
  proxy = await startServe(["--upstream", upstream.url, "--listen", `127.0.0.1:${port}`]);
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

/** A headless OAuth client: "visits" the authorization URL itself and keeps what the SDK asks it to keep. */
class HeadlessProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  authorizationUrl: URL | undefined;
  get redirectUrl() {
    return "http://127.0.0.1:1/callback";
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "serve-oauth-test",
      redirect_uris: [this.redirectUrl],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

describe("OAuth through serve", () => {
  test("401 with WWW-Authenticate and the discovery documents are the upstream's own bytes", async () => {
    const unauthenticated = (base: string) =>
      fetch(`${base}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "x", version: "1" } },
        }),
      });
    const [viaProxy, direct] = await Promise.all([
      unauthenticated(publicUrl),
      unauthenticated(`http://127.0.0.1:${upstream.port}`),
    ]);
    expect(viaProxy.status).toBe(401);
    expect(viaProxy.headers.get("www-authenticate")).toBe(direct.headers.get("www-authenticate"));
    expect(viaProxy.headers.get("www-authenticate")).toContain(
      `resource_metadata="${publicUrl}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(await viaProxy.text()).toBe(await direct.text());
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"]) {
      const [p, d] = await Promise.all([
        fetch(`${publicUrl}${path}`),
        fetch(`http://127.0.0.1:${upstream.port}${path}`),
      ]);
      expect(p.status).toBe(200);
      expect(new Uint8Array(await p.arrayBuffer())).toEqual(new Uint8Array(await d.arrayBuffer()));
    }
  });

  test("discovery, dynamic registration, /authorize (302 not followed), /token and the bearer call all pass through", async () => {
    const provider = new HeadlessProvider();
    const first = new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp`), { authProvider: provider });
    const unauthorized = await new Client({ name: "oauth-agent", version: "1" }).connect(first).then(
      () => "connected",
      (error: unknown) => String(error),
    );
    expect(unauthorized).toContain("Unauthorized");
    expect(provider.info?.client_id).toBeString();
    const authorize = provider.authorizationUrl as URL;
    expect(authorize.origin).toBe(publicUrl);
    const redirect = await fetch(authorize, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    const code = new URL(redirect.headers.get("location") as string).searchParams.get("code") as string;
    await first.finishAuth(code);
    expect(provider.saved?.access_token).toBeString();

    const client = new Client({ name: "oauth-agent", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${publicUrl}/mcp`), { authProvider: provider }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["echo", "baton_annotate"]),
    );
    expect(await client.callTool({ name: "echo", arguments: { message: "authorized" } })).toEqual({
      content: [{ type: "text", text: "Echo: authorized" }],
    });
    await client.close();
    const stats = await fixtureStats(upstream);
    expect(stats.lastHeaders.authorization).toBe(`Bearer ${provider.saved?.access_token}`);
    const token = provider.saved?.access_token as string;
    expect(proxy.log.join("\n")).not.toContain(token);
    await waitFor(
      () => proxy.events().some((e) => e.agent_runtime === "oauth-agent" && e.event_type === "tool_call_end"),
      "the call's events",
    );
    expect(readFileSync(proxy.eventsFile, "utf8")).not.toContain(token);
  });
});
