// Black-box: hosted mode's user_id — the principal comes from the trusted header or the bearer JWT, only its h1: hash reaches events.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { hashUserId } from "../src/identity/user-id.ts";
import { readValidatedEvents } from "./support/events.ts";
import { startHttpFixture, waitFor, type Upstream } from "./support/serve-harness.ts";
import { startServe, type ServeHandle } from "./support/serve-process.ts";

const KEY = "hmac-key-for-tests";
const TENANT = "acme";

/** An unsigned JWT: the proxy decodes it for grouping only, it never verifies or trusts it. */
function bearer(claims: Record<string, string>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `Bearer ${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

let upstream: Upstream;
let proxy: ServeHandle;

beforeAll(async () => {
  upstream = await startHttpFixture();
  proxy = await startServe(["--upstream", upstream.url], {
    BATON_USER_ID_HMAC_KEY: KEY,
    BATON_TENANT_ID: TENANT,
    BATON_PRINCIPAL_HEADER: "X-Authenticated-User",
  });
});

afterAll(async () => {
  expect(await proxy.stop()).toBe(0);
  await upstream.stop();
});

async function callOnce(agent: string, headers: Record<string, string>): Promise<void> {
  const client = new Client({ name: agent, version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(proxy.url), { requestInit: { headers } }));
  await client.callTool({ name: "echo", arguments: { message: agent } });
  await client.close();
}

describe("user_id in hosted mode", () => {
  test("the trusted header wins, else the bearer JWT's sub with its issuer; events carry only the hash", async () => {
    await callOnce("jwt-agent", { authorization: bearer({ sub: "alice", iss: "https://idp.example" }) });
    await callOnce("header-agent", {
      authorization: bearer({ sub: "alice", iss: "https://idp.example" }),
      "x-authenticated-user": "bob",
    });
    await callOnce("anonymous-agent", {});
    const of = (agent: string) =>
      readValidatedEvents(proxy.eventsFile).filter(
        (e) => e.agent_runtime === agent && e.event_type.startsWith("tool_call_"),
      );
    await waitFor(
      () => ["jwt-agent", "header-agent", "anonymous-agent"].every((a) => of(a).length >= 2),
      "each agent's call events",
    );

    const alice = hashUserId({ id: "alice", issuer: "https://idp.example" }, TENANT, KEY);
    const bob = hashUserId({ id: "bob" }, TENANT, KEY);
    expect(of("jwt-agent").map((e) => e.user_id)).toEqual([alice, alice]);
    expect(of("header-agent").map((e) => e.user_id)).toEqual([bob, bob]);
    expect(of("anonymous-agent").map((e) => e.user_id)).toEqual([null, null]);
    const raw = readFileSync(proxy.eventsFile, "utf8");
    for (const secret of ["alice", "bob", "idp.example"]) expect(raw).not.toContain(secret);
  });
});
