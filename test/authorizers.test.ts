// The proxy's OAuth authorizer in process, against the SDK's OAuth router on loopback (test/fixtures/servers/remote-http-server.ts
// --oauth, its browser step driven by BATON_OAUTH_OPENER): how concurrent and late 401s share one sign-in or refresh.

import { afterEach, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../src/log.ts";
import { oauthAuthorizer, scopeOf } from "../src/remote/authorizers.ts";
import type { OAuthDeps } from "../src/remote/oauth-provider.ts";
import { resolveRemoteTarget } from "../src/remote/remote-options.ts";
import { serverKey, TokenStore } from "../src/remote/token-store.ts";
import type { Authorizer } from "../src/remote/upstream-types.ts";
import { ROOT } from "./support/binary.ts";
import { tempDir } from "./support/proxy-process.ts";
import { startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";

const OPENER = `${process.execPath} ${join(ROOT, "test", "fixtures", "oauth-browser.ts")}`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** An authorizer for `server` over the cache in `dir` (a fresh one by default), with what it logged. */
function authorizerFor(
  server: RemoteServer,
  dir = tempDir(),
  now: () => number = Date.now,
): { authorizer: Authorizer; log: string[]; deps: OAuthDeps } {
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const env = { BATON_OAUTH_OPENER: OPENER };
  const resolved = resolveRemoteTarget({ url: server.url, headers: [], allowHttp: false }, env);
  if (!resolved.ok) throw new Error(resolved.problems.join("; "));
  const log: string[] = [];
  const deps: OAuthDeps = {
    store: new TokenStore(dir),
    server: resolved.target.url,
    env,
    platform: process.platform,
    tell: (text) => log.push(text),
    fetch,
    now,
  };
  const authorizer = oauthAuthorizer(
    resolved.target,
    10_000,
    createLogger((line) => log.push(line)),
    async () => deps,
  );
  return { authorizer, log, deps };
}

/** A POST to the MCP endpoint with `authorization` (or none): the server's answer, a 401 when it is missing or stale. */
const post = (server: RemoteServer, authorization: string | undefined) =>
  fetch(server.url, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    }),
  });

test("a 401 for a request sent before a sign-in finished retries with the new token: no second sign-in", async () => {
  const server = await startRemoteFixture(["--oauth", "--no-refresh-token"]);
  cleanups.push(() => server.stop());
  const { authorizer } = authorizerFor(server);
  // Two requests go out with no token; the first 401 signs in, the second arrives after that sign-in.
  const sent = await authorizer.header();
  const [first, second] = [await post(server, sent), await post(server, sent)];
  expect([first.status, second.status]).toEqual([401, 401]);
  expect(await authorizer.unauthorized(first, sent)).toBe("retry");
  expect(await authorizer.unauthorized(second, sent)).toBe("retry");
  expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, codeExchanges: 1 });
  expect((await post(server, await authorizer.header())).status).toBe(200);
});

test("the token is refreshed a minute before it expires on the clock it was dated by (OAuthDeps.now), not on another", async () => {
  const server = await startRemoteFixture(["--oauth", "--token-ttl", "3600"]);
  cleanups.push(() => server.stop());
  let now = Date.parse("2026-12-31T23:00:00Z");
  const { authorizer } = authorizerFor(server, tempDir(), () => now);
  const none = await authorizer.header();
  expect(await authorizer.unauthorized(await post(server, none), none)).toBe("retry");
  const token = await authorizer.header();
  now += 3_600_000 - 61_000; // over a minute left: kept
  expect(await authorizer.header()).toBe(token);
  now += 2_000; // under a minute left: refreshed before it is sent
  expect(await authorizer.header()).not.toBe(token);
  expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, refreshes: 1 });
});

test("a 401 while a refresh before expiry is in flight shares that refresh: the rotated refresh token is never spent twice", async () => {
  const server = await startRemoteFixture(["--oauth", "--token-ttl", "2"]);
  cleanups.push(() => server.stop());
  let now = Date.now();
  const { authorizer } = authorizerFor(server, tempDir(), () => now);
  const none = await authorizer.header();
  expect(await authorizer.unauthorized(await post(server, none), none)).toBe("retry");
  const token = await authorizer.header();
  await server.control("revoke-tokens"); // the server refuses the token from now on
  const refused = await post(server, token);
  expect(refused.status).toBe(401);
  now += 1_200; // into the second half of the 2 s lifetime: the next header() refreshes
  const [header, outcome] = await Promise.all([authorizer.header(), authorizer.unauthorized(refused, token)]);
  expect(outcome).toBe("retry");
  expect(header).not.toBe(token);
  expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, refreshes: 1 });
  expect((await post(server, await authorizer.header())).status).toBe(200);
});

/**
 * A fixture server whose tokens live `ttlSeconds`, and a first authorizer signed in to it on a fresh cache;
 * `another()` is a second process's authorizer on the same cache. `clock.now` is both their clock.
 */
async function signedIn(ttlSeconds: number) {
  const server = await startRemoteFixture(["--oauth", "--token-ttl", String(ttlSeconds)]);
  cleanups.push(() => server.stop());
  const dir = tempDir();
  const clock = { now: Date.now() };
  const first = authorizerFor(server, dir, () => clock.now).authorizer;
  const none = await first.header();
  expect(await first.unauthorized(await post(server, none), none)).toBe("retry");
  return { server, clock, first, another: () => authorizerFor(server, dir, () => clock.now).authorizer };
}

test("two proxies refreshing the same cached token at once: the one refused (a spent refresh token) takes the other's new tokens", async () => {
  const { server, clock, first, another } = await signedIn(2);
  const second = another();
  clock.now += 1_200; // into the second half of the 2 s lifetime: both refresh before their next request
  const headers = await Promise.all([first.header(), second.header()]);
  for (const header of headers) expect((await post(server, header)).status).toBe(200);
  expect((await server.stats()).oauth.authorizations).toBe(1); // no browser sign-in
});

test("two proxies refreshing at once, the first's answer still in flight: the spent refresh token is never presented again (a server that revokes the grant on reuse keeps both signed in)", async () => {
  const { server, clock, first, another } = await signedIn(10);
  const second = another();
  await second.header(); // it has read the cached token too
  await server.control("revoke-on-reuse");
  await server.control("hold-next-refresh");
  clock.now += 6_000; // into the second half of the 10 s lifetime (the server's, on its own clock, is not spent by the held answer): both refresh before their next request
  const headers = await Promise.all([first.header(), second.header()]);
  for (const header of headers) expect((await post(server, header)).status).toBe(200);
  expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, refreshes: 1, refusedRefreshes: 0 });
});

test("tokens another proxy saved that are themselves due for refresh are refreshed, not taken as they are", async () => {
  const { server, clock, first, another } = await signedIn(60);
  const second = another();
  const old = await second.header();
  clock.now += 31_000; // into the second half of the lifetime: the first refreshes
  const firsts = await first.header();
  clock.now += 31_000; // the second's token and the first's new one are both due
  const seconds = await second.header();
  expect([firsts, seconds].includes(old)).toBe(false);
  expect(seconds).not.toBe(firsts);
  expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, refreshes: 2, refusedRefreshes: 0 });
});

test("the scope named by the 401's challenge is the one asked for, not every scope the server supports", async () => {
  const server = await startRemoteFixture([
    "--oauth",
    "--scopes-supported",
    "mcp:tools mcp:admin",
    "--required-scopes",
    "mcp:tools",
  ]);
  cleanups.push(() => server.stop());
  const { authorizer } = authorizerFor(server);
  const refused = await post(server, undefined);
  expect(refused.headers.get("www-authenticate")).toContain('scope="mcp:tools"');
  expect(await authorizer.unauthorized(refused, undefined)).toBe("retry");
  expect((await server.stats()).oauth.scopes).toEqual(["mcp:tools"]);
  expect((await post(server, await authorizer.header())).status).toBe(200);
});

test("scopeOf reads a challenge's scope, quoted or not, and nothing else", () => {
  const challenge = (value: string) => new Response(null, { status: 401, headers: { "WWW-Authenticate": value } });
  expect(scopeOf(challenge('Bearer error="insufficient_scope", scope="a b", resource_metadata="https://x/y"'))).toBe(
    "a b",
  );
  expect(scopeOf(challenge("Bearer realm=x,scope=files:read"))).toBe("files:read");
  expect(
    scopeOf(challenge('Bearer error="insufficient_scope", resource_metadata="https://x/?scope=z"')),
  ).toBeUndefined();
  expect(scopeOf(challenge('Bearer scope=""'))).toBeUndefined();
});

test("a refresh refused with another error than invalid_grant leads to a browser sign-in, and the refusal's text (with the refresh token) is not quoted", async () => {
  const server = await startRemoteFixture(["--oauth"]);
  cleanups.push(() => server.stop());
  const { authorizer, log, deps } = authorizerFor(server);
  const none = await authorizer.header();
  expect(await authorizer.unauthorized(await post(server, none), none)).toBe("retry");
  const refreshToken = String(deps.store.load(serverKey(deps.server)).tokens?.refresh_token);
  const token = await authorizer.header();
  await server.control("revoke-tokens");
  await server.control("refuse-refresh");
  const outcome = await authorizer.unauthorized(await post(server, token), token);
  expect(JSON.stringify(outcome)).not.toContain(refreshToken);
  expect(log.join("")).not.toContain(refreshToken);
  expect(outcome).toBe("retry");
  expect((await server.stats()).oauth.authorizations).toBe(2);
  expect((await post(server, await authorizer.header())).status).toBe(200);
});

test("an authorization endpoint that is not http(s) (file:, a custom scheme) is never handed to the browser opener", async () => {
  const dir = tempDir();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const opened = join(dir, "opened");
  const opener = join(dir, "opener.sh");
  writeFileSync(opener, `#!/bin/sh\necho "$1" >> ${opened}\n`, { mode: 0o755 });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (request) => {
      const { pathname, origin } = new URL(request.url);
      if (pathname === "/.well-known/oauth-protected-resource/mcp")
        return Response.json({ resource: `${origin}/mcp`, authorization_servers: [origin] });
      if (pathname === "/.well-known/oauth-authorization-server")
        return Response.json({
          issuer: origin,
          authorization_endpoint: "file:///usr/bin/xcalc",
          token_endpoint: `${origin}/token`,
          registration_endpoint: `${origin}/register`,
          response_types_supported: ["code"],
          code_challenge_methods_supported: ["S256"],
        });
      if (pathname === "/register") return Response.json({ client_id: "c", redirect_uris: [] }, { status: 201 });
      return new Response(null, { status: 401 });
    },
  });
  cleanups.push(() => void server.stop(true));
  const url = `http://127.0.0.1:${server.port}/mcp`;
  const resolved = resolveRemoteTarget({ url, headers: [], allowHttp: false }, {});
  if (!resolved.ok) throw new Error(resolved.problems.join("; "));
  const env = { BATON_OAUTH_OPENER: opener };
  const deps: OAuthDeps = {
    store: new TokenStore(dir),
    server: resolved.target.url,
    env,
    platform: process.platform,
    tell: () => undefined,
    fetch,
    now: Date.now,
  };
  const authorizer = oauthAuthorizer(
    resolved.target,
    1_000,
    createLogger(() => undefined),
    async () => deps,
  );
  const outcome = await authorizer.unauthorized(await fetch(url, { method: "POST" }), undefined);
  expect(outcome).not.toBe("retry");
  expect(JSON.stringify(outcome)).toContain("not an http:// or https:// URL");
  expect(existsSync(opened)).toBe(false);
});
