// Black-box: real MCP clients (SDK v1, SDK v2) through `baton-proxy --url` to server-everything in streamableHttp mode, and the
// OAuth flow end to end against the SDK's OAuth router (the browser step driven by BATON_OAUTH_OPENER): login, cache, refresh.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { Client as ClientV2 } from "@modelcontextprotocol/client";
import { StdioClientTransport as StdioClientTransportV2 } from "@modelcontextprotocol/client/stdio";
import { login } from "../src/remote/oauth-flow.ts";
import { TokenStore } from "../src/remote/token-store.ts";
import { binaryPath, ROOT } from "./support/binary.ts";
import { checkCallPairs, readValidatedEvents } from "./support/events.ts";
import { cleanEnv, INIT_PARAMS, startProxy, tempDir } from "./support/proxy-process.ts";
import { startEverythingHttp, startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";
import { textOf } from "./support/tool-text.ts";

const OPENER = `${process.execPath} ${join(ROOT, "test", "fixtures", "oauth-browser.ts")}`;

describe("SDK clients → baton-proxy --url → server-everything (streamableHttp)", () => {
  let everything: RemoteServer;
  const dir = tempDir();
  beforeAll(async () => {
    everything = await startEverythingHttp();
  });
  afterAll(async () => {
    await everything.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SDK v1: tools, progress, a sampling request from the server answered by the client, clean close", async () => {
    const events = join(dir, "v1.jsonl");
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--url", everything.url],
      env: cleanEnv({ BATON_EVENT_SINK: `file://${events}` }),
      stderr: "pipe",
    });
    const client = new Client(
      { name: "sdk-v1-remote", version: "1.0.0" },
      { capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } } },
    );
    let sampled = 0;
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      sampled++;
      return {
        role: "assistant",
        model: "fake",
        stopReason: "endTurn",
        content: { type: "text", text: "FAKE ANSWER" },
      };
    });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "decline" }));
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: "file:///tmp/r", name: "r" }] }));
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe("mcp-servers/everything");
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "trigger-sampling-request", "baton_annotate"]));
    expect(textOf(await client.callTool({ name: "echo", arguments: { message: "over http" } }))).toBe(
      "Echo: over http",
    );
    const progress: number[] = [];
    await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 1, steps: 3 } }, undefined, {
      onprogress: (p) => void progress.push(p.progress),
    });
    // As over stdio (MCP-NOTES §5.1), the SDK client sees the steps before the last: the last races the result.
    expect(progress.slice(0, 2)).toEqual([1, 2]);
    const sampling = await client.callTool({
      name: "trigger-sampling-request",
      arguments: { prompt: "hi", maxTokens: 10 },
    });
    expect(sampled).toBe(1);
    expect(JSON.stringify(sampling)).toContain("FAKE ANSWER");
    await client.close();
    const all = readValidatedEvents(events);
    checkCallPairs(all);
    expect(all.filter((e) => e.event_type === "tool_call_end").map((e) => e.payload.tool_name)).toEqual([
      "echo",
      "trigger-long-running-operation",
      "trigger-sampling-request",
    ]);
    expect(new Set(all.map((e) => e.runtime_meta["baton/server"]))).toEqual(new Set([new URL(everything.url).origin]));
  });

  for (const mode of ["legacy", "auto"] as const) {
    test(`SDK v2 (${mode}): connects, lists, calls`, async () => {
      const transport = new StdioClientTransportV2({
        command: await binaryPath(),
        args: ["--url", everything.url],
        env: cleanEnv({ BATON_EVENT_SINK: "stderr:" }),
        stderr: "ignore",
      });
      const client = new ClientV2(
        { name: `sdk-v2-${mode}`, version: "1.0.0" },
        mode === "auto" ? { versionNegotiation: { mode: "auto" } } : {},
      );
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["echo", "baton_annotate"]));
      expect(textOf(await client.callTool({ name: "echo", arguments: { message: "v2" } }))).toBe("Echo: v2");
      await client.close();
    });
  }
});

test("SDK v2 (auto) → --url → SDK v2 HTTP server: the stateless era (server/discover, Mcp-Method/Mcp-Name headers) works", async () => {
  const server = await startRemoteFixture([], "modern-http");
  try {
    const transport = new StdioClientTransportV2({
      command: await binaryPath(),
      args: ["--url", server.url],
      env: cleanEnv({ BATON_EVENT_SINK: "stderr:" }),
      stderr: "ignore",
    });
    const client = new ClientV2(
      { name: "sdk-v2-modern-http", version: "1.0.0" },
      { versionNegotiation: { mode: "auto" } },
    );
    await client.connect(transport);
    expect(client.getProtocolEra()).toBe("modern");
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["add", "café", "baton_annotate"]));
    expect(textOf(await client.callTool({ name: "add", arguments: { a: 2, b: 40 } }))).toBe("42");
    // A tool name outside plain ASCII travels in Mcp-Name in the Base64 sentinel form; the server checks it against the body.
    expect(textOf(await client.callTool({ name: "café", arguments: {} }))).toBe("served");
    // An x-mcp-header argument goes in its Mcp-Param-* header too (the server refuses the call without it), Base64 when not plain ASCII.
    expect(textOf(await client.callTool({ name: "regional", arguments: { region: "us-west1", query: "q" } }))).toBe(
      "q in us-west1",
    );
    expect(textOf(await client.callTool({ name: "regional", arguments: { region: " Zürich", query: "q" } }))).toBe(
      "q in  Zürich",
    );
    await client.close();
  } finally {
    await server.stop();
  }
});

describe("OAuth: auth login, cached tokens, refresh, logout", () => {
  let server: RemoteServer;
  const configDir = tempDir();
  const env = () => cleanEnv({ BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER, BATON_EVENT_SINK: "stderr:" });
  const cli = async (args: string[]) => {
    const proc = Bun.spawn([await binaryPath(), ...args], { env: env(), stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { stdout, stderr, code };
  };
  /** An SDK client through `baton-proxy --url` to the server, and the proxy's stderr so far. */
  const connectThroughProxy = async () => {
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--url", server.url],
      env: env(),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const client = new Client({ name: "oauth-client", version: "1.0.0" });
    await client.connect(transport);
    return { client, stderr: () => stderr };
  };
  beforeAll(async () => {
    server = await startRemoteFixture(["--oauth", "--token-ttl", "2"]);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  test("auth login runs discovery, registration and PKCE through the browser; the cache is private", async () => {
    const login = await cli(["auth", "login", "--url", server.url]);
    expect(login.stderr).toContain("open this URL");
    expect(login.stderr).toContain("code_challenge_method=S256");
    expect(login.code).toBe(0);
    const oauth = (await server.stats()).oauth;
    expect(oauth.registrations).toBe(1);
    expect(oauth.codeExchanges).toBe(1);
    // The resource indicator (RFC 8707) names the MCP server.
    expect(oauth.resources).toEqual([server.url]);
    const cache = join(configDir, "oauth");
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    const files = readdirSync(cache);
    expect(files.length).toBe(1);
    expect(statSync(join(cache, files[0] as string)).mode & 0o777).toBe(0o600);
    const list = await cli(["auth", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(server.url);
    expect(list.stdout).toContain("refreshable");
    expect(list.stdout).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.*token/);
  });

  test("the proxy uses the cached token and refreshes it before it expires", async () => {
    const { client, stderr } = await connectThroughProxy();
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "a" } }))).toBe("echo: a");
    const before = (await server.stats()).oauth;
    await Bun.sleep(1_200); // into the second half of the 2 s token lifetime
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "b" } }))).toBe("echo: b");
    const after = (await server.stats()).oauth;
    expect(after.refreshes).toBeGreaterThan(before.refreshes);
    expect(after.authorizations).toBe(before.authorizations); // no new browser login
    await client.close();
    expect(stderr()).not.toContain("open this URL");
  });

  test("with nothing cached, the proxy runs the flow itself on the first 401, then logout forgets the server", async () => {
    expect((await cli(["auth", "logout", "--url", server.url])).code).toBe(0);
    expect((await cli(["auth", "list"])).stdout).toBe("No cached credentials.\n");
    const { client, stderr } = await connectThroughProxy();
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "c" } }))).toBe("echo: c");
    await client.close();
    expect(stderr()).toContain("open this URL");
    expect(stderr()).toContain("authorized with");
    expect((await cli(["auth", "list"])).stdout).toContain(server.url);
    expect((await cli(["auth", "logout", "--all"])).code).toBe(0);
    expect((await cli(["auth", "logout", "--url", server.url])).code).toBe(1);
  });
});

test("BATON_OAUTH_CLIENT_ID: a pre-registered client logs in without registering, and its tokens refresh", async () => {
  const server = await startRemoteFixture(["--oauth", "--token-ttl", "2", "--client-id", "hand-registered"]);
  const configDir = tempDir();
  const env = cleanEnv({
    BATON_CONFIG_DIR: configDir,
    BATON_OAUTH_OPENER: OPENER,
    BATON_OAUTH_CLIENT_ID: "hand-registered",
    BATON_EVENT_SINK: "stderr:",
  });
  try {
    const login = Bun.spawn([await binaryPath(), "auth", "login", "--url", server.url], {
      env,
      stdout: "ignore",
      stderr: "pipe",
    });
    const [stderr, code] = await Promise.all([new Response(login.stderr).text(), login.exited]);
    expect(stderr).toContain("client_id=hand-registered");
    expect(code).toBe(0);
    expect((await server.stats()).oauth).toMatchObject({ registrations: 0, codeExchanges: 1 });
    const transport = new StdioClientTransport({
      command: await binaryPath(),
      args: ["--url", server.url],
      env,
      stderr: "ignore",
    });
    const client = new Client({ name: "oauth-client-id", version: "1.0.0" });
    await Bun.sleep(1_200); // the cached token is in the second half of its 2 s life: refreshed before the first request
    await client.connect(transport);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "pre" } }))).toBe("echo: pre");
    await client.close();
    expect((await server.stats()).oauth).toMatchObject({ registrations: 0, codeExchanges: 1, authorizations: 1 });
    expect((await server.stats()).oauth.refreshes).toBeGreaterThanOrEqual(1);
  } finally {
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("a config directory that cannot be written: the proxy's sign-in is kept for the session, said once", async () => {
  const server = await startRemoteFixture(["--oauth"]);
  const dir = tempDir();
  const notADirectory = join(dir, "file");
  writeFileSync(notADirectory, "");
  const transport = new StdioClientTransport({
    command: await binaryPath(),
    args: ["--url", server.url],
    env: cleanEnv({
      BATON_CONFIG_DIR: join(notADirectory, "baton-proxy"),
      BATON_OAUTH_OPENER: OPENER,
      BATON_EVENT_SINK: "stderr:",
    }),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = new Client({ name: "oauth-readonly", version: "1.0.0" });
  try {
    await client.connect(transport);
    for (const text of ["one", "two", "three"])
      expect(textOf(await client.callTool({ name: "echo", arguments: { text } }))).toBe(`echo: ${text}`);
    expect((await server.stats()).oauth).toMatchObject({ authorizations: 1, codeExchanges: 1 });
    expect(stderr.split("kept for this session only").length - 1).toBe(1);
    expect(stderr).not.toContain("cached for later runs"); // they are not
    expect(stderr).toContain("ENOTDIR");
  } finally {
    await client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("step-up: a 403 insufficient_scope signs in again asking for the scope it names, with the scope held before, then retries", async () => {
  const server = await startRemoteFixture([
    "--oauth",
    "--scopes-supported",
    "mcp:read",
    "--required-scopes",
    "mcp:tools",
  ]);
  const configDir = tempDir();
  const env = cleanEnv({ BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER, BATON_EVENT_SINK: "stderr:" });
  try {
    // Signed in earlier for mcp:read only, which the server's tools turn out not to accept.
    await login(
      {
        store: new TokenStore(configDir),
        server: new URL(server.url),
        env,
        platform: process.platform,
        tell: () => undefined,
        fetch,
        now: Date.now,
      },
      { scope: "mcp:read", timeoutMs: 10_000 },
    );
    const transport = new StdioClientTransport({ command: await binaryPath(), args: ["--url", server.url], env });
    const client = new Client({ name: "oauth-step-up", version: "1.0.0" });
    await client.connect(transport);
    expect(textOf(await client.callTool({ name: "echo", arguments: { text: "up" } }))).toBe("echo: up");
    await client.close();
    expect((await server.stats()).oauth.scopes).toEqual(["mcp:read", "mcp:read mcp:tools"]);
  } finally {
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("the server's GET stream, dropped and then refused with a 401 (a revoked token), is reopened after a refresh", async () => {
  const server = await startRemoteFixture(["--oauth"]);
  const configDir = tempDir();
  const proxy = await startProxy([], {
    args: ["--url", server.url],
    env: { BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER },
  });
  /** Polls the fixture's counters until `done` holds (bounded). */
  const until = async (done: (stats: Record<string, any>) => boolean) => {
    for (let i = 0; i < 500; i++) {
      if (done(await server.stats())) return;
      await Bun.sleep(20);
    }
    throw new Error(`the fixture's counters never matched: ${JSON.stringify(await server.stats())}`);
  };
  try {
    expect((await proxy.request(0, "initialize", INIT_PARAMS)).result.serverInfo.name).toBe("remote-fixture");
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await until((stats) => stats.gets >= 1);
    const before = await server.stats();
    await server.control("revoke-tokens");
    // Dropped once its answer has started (the only event stream open: no call is in flight).
    let dropped = 0;
    for (let i = 0; i < 500 && dropped === 0; i++) {
      dropped = (await server.control("drop-streams")).dropped;
      if (dropped === 0) await Bun.sleep(20);
    }
    expect(dropped).toBe(1);
    // The reconnect is refused (401), the proxy refreshes, and opens the stream again with the new token.
    await until((stats) => stats.oauth.refreshes === before.oauth.refreshes + 1 && stats.gets >= before.gets + 2);
    expect((await server.stats()).oauth.authorizations).toBe(before.oauth.authorizations);
  } finally {
    await proxy.close();
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("auth login starts from the server's 401 as the proxy does: the scope its challenge names is the one asked for", async () => {
  const server = await startRemoteFixture([
    "--oauth",
    "--scopes-supported",
    "mcp:tools mcp:admin",
    "--required-scopes",
    "mcp:tools",
  ]);
  const configDir = tempDir();
  try {
    const login = Bun.spawn([await binaryPath(), "auth", "login", "--url", server.url], {
      env: cleanEnv({ BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER }),
      stdout: "ignore",
      stderr: "ignore",
    });
    expect(await login.exited).toBe(0);
    expect((await server.stats()).oauth.scopes).toEqual(["mcp:tools"]);
  } finally {
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("a call's stream, dropped and then refused with a 401 on resume (a revoked token), is resumed after a refresh: its answer arrives", async () => {
  // No standing GET stream, whose own 401 would have renewed the token for the resume.
  const server = await startRemoteFixture(["--oauth", "--no-standing-get"]);
  const configDir = tempDir();
  const proxy = await startProxy([], {
    args: ["--url", server.url],
    env: { BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER },
  });
  try {
    expect((await proxy.request(0, "initialize", INIT_PARAMS)).result.serverInfo.name).toBe("remote-fixture");
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    const params = { name: "slow", arguments: { ms: 1500, steps: 5 }, _meta: { progressToken: "p" } };
    proxy.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params });
    await proxy.next((m) => m.method === "notifications/progress");
    await server.control("revoke-tokens");
    expect((await server.control("drop-streams")).dropped).toBe(1);
    const answer = await proxy.next((m) => m.id === 1, 20_000);
    expect(JSON.stringify(answer)).toContain("slept 1500 ms");
    expect((await server.stats()).oauth.refreshes).toBe(1);
  } finally {
    await proxy.close();
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("ten calls refused at once (a revoked token, no refresh token): one browser sign-in, every call answered", async () => {
  const server = await startRemoteFixture(["--oauth", "--no-refresh-token"]);
  const configDir = tempDir();
  const proxy = await startProxy([], {
    args: ["--url", server.url],
    env: { BATON_CONFIG_DIR: configDir, BATON_OAUTH_OPENER: OPENER },
  });
  try {
    expect((await proxy.request(0, "initialize", INIT_PARAMS)).result.serverInfo.name).toBe("remote-fixture");
    proxy.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    await server.control("revoke-tokens");
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    for (const id of ids)
      proxy.send({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "echo", arguments: { text: `t${id}` } } });
    for (const id of ids)
      expect(JSON.stringify(await proxy.next((m) => m.id === id, 20_000))).toContain(`echo: t${id}`);
    expect((await server.stats()).oauth.authorizations).toBe(2); // the first sign-in and one more
  } finally {
    await proxy.close();
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

test("auth login on a machine with no browser opener (SSH, a container): not told 'opening it now'; told where the sign-in ends, and loading that address here finishes it", async () => {
  const server = await startRemoteFixture(["--oauth"]);
  const configDir = tempDir();
  const emptyPath = tempDir(); // no xdg-open/open here, even on a desktop
  const proc = Bun.spawn([await binaryPath(), "auth", "login", "--url", server.url], {
    env: { PATH: emptyPath, HOME: configDir, BATON_CONFIG_DIR: configDir },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = proc.stderr.getReader();
    let told = "";
    while (!/\/authorize\?\S+\n/.test(told)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`auth login ended before printing the URL: ${told}`);
      told += new TextDecoder().decode(value);
    }
    void proc.stderr.pipeTo(new WritableStream()).catch(() => undefined);
    expect(told).not.toContain("opening it now");
    const authorize = told.match(/https?:\/\/\S+\/authorize\?\S+/)?.[0] ?? "";
    const callback = new URL(authorize).searchParams.get("redirect_uri") ?? "";
    expect(told).toContain(callback);
    expect(told).toContain(`ssh -L ${new URL(callback).port}:127.0.0.1:${new URL(callback).port}`);
    // The browser on another machine signs in, then fails to load the callback there: the user loads that address here.
    const approved = await fetch(authorize, { redirect: "manual" });
    const landing = approved.headers.get("location") ?? "";
    expect(landing.startsWith(callback)).toBe(true);
    expect((await fetch(landing)).ok).toBe(true);
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill();
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
    rmSync(emptyPath, { recursive: true, force: true });
  }
});
