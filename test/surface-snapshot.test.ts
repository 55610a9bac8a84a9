import { describe, expect, spyOn, test } from "bun:test";
import { readFileSync } from "node:fs";
import * as canonical from "../src/proxy/canonical-json.ts";
import { canonicalHash, parseKeepingNumbers } from "../src/proxy/canonical-json.ts";
import {
  createProxyState,
  fromClient,
  fromServer,
  type Action,
  type ProxyState,
  type TransformOptions,
} from "../src/proxy/transform.ts";
import { MAX_EMITTED_SURFACES } from "../src/proxy/surface-snapshot.ts";
import { createEventScrubber } from "../src/telemetry/scrub.ts";
import { createEnvelope } from "../src/telemetry/envelope.ts";
import { classifyLine } from "../src/wire/jsonrpc.ts";
import { assertValidEvent } from "./support/events.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const client = (state: ProxyState, message: unknown) => {
  const raw = enc(JSON.stringify(message));
  return fromClient(state, raw, classifyLine(raw), 0);
};
/** Server lines are given as text, so numbers can be written the way a server writes them. */
const server = (state: ProxyState, text: string) => {
  const raw = enc(`${text}\n`);
  return fromServer(state, raw, classifyLine(raw.subarray(0, raw.length - 1)), 1);
};
const snapshots = (actions: Action[]) =>
  actions
    .filter(
      (a): a is Extract<Action, { type: "emit" }> => a.type === "emit" && a.draft.event_type === "surface_snapshot",
    )
    .map((a) => a.draft.payload as Record<string, any>);
const fresh = (options: Partial<TransformOptions> = {}) => createProxyState({ includeReportTool: true, ...options });

const INIT =
  '{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{"listChanged":true}},"serverInfo":{"name":"café","version":"1.0"},"instructions":"Use search first."}}';
const toolsText = (tools: string, extra = "") => `{"jsonrpc":"2.0","id":ID,"result":{"tools":[${tools}]${extra}}}`;
const SEARCH =
  '{"name":"search","description":"Finds things; mail help@example.com","inputSchema":{"type":"object","properties":{"limit":{"type":"number","minimum":1.0}}}}';
const FETCH = '{"name":"fetch","inputSchema":{"type":"object"}}';

function list(state: ProxyState, id: number, text: string, cursor?: string): Action[] {
  client(state, { jsonrpc: "2.0", id, method: "tools/list", ...(cursor === undefined ? {} : { params: { cursor } }) });
  return server(state, text.replace("ID", String(id)));
}

function handshake(state: ProxyState): void {
  client(state, { jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
  server(state, INIT);
}

describe("surface_snapshot", () => {
  test("vendor-true: pre-suffix instructions, pre-injection tools, numbers as written, hash over exactly that", () => {
    const state = fresh();
    handshake(state);
    const [payload] = snapshots(list(state, 1, toolsText(SEARCH)));
    expect(payload?.instructions).toBe("Use search first.");
    expect(payload?.server_info).toEqual({ name: "café", version: "1.0" });
    expect(payload?.tools.map((t: any) => t.name)).toEqual(["search"]);
    expect(payload?.tools[0].inputSchema.properties.user_goal).toBeUndefined();
    expect(JSON.stringify(payload?.tools)).toContain('"minimum":1.0');
    expect(payload?.seam_augmentations).toEqual({
      injected_tools: ["baton_annotate", "baton_session_report"],
      intent_param: { names: ["expected_result", "user_goal"], mode: "optional" },
      instructions_suffix: true,
    });
    const surface = parseKeepingNumbers(
      `{"server_info":{"name":"café","version":"1.0"},"capabilities":{"tools":{"listChanged":true}},"instructions":"Use search first.","tools":[${SEARCH}]}`,
    );
    expect(payload?.surface_hash).toBe(canonicalHash(surface));
  });

  test("the baton-spec vector's surface, received as a handshake and a listing, gives the vector's own surface_hash", () => {
    const vector = JSON.parse(
      readFileSync(`${import.meta.dir}/fixtures/baton-spec/vectors/surface_snapshot.json`, "utf8"),
    );
    const { capabilities, server_info, tools } = vector.payload;
    const state = fresh();
    client(state, { jsonrpc: "2.0", id: 0, method: "initialize", params: {} });
    server(
      state,
      JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        result: { protocolVersion: "2025-06-18", capabilities, serverInfo: server_info },
      }),
    );
    const [payload] = snapshots(
      list(state, 1, JSON.stringify({ jsonrpc: "2.0", id: "ID", result: { tools } }).replace('"ID"', "ID")),
    );
    expect(payload?.surface_hash).toBe(vector.payload.surface_hash);
  });

  test("one event per distinct surface per session: same list again is silent, a change emits, going back is silent", () => {
    const state = fresh();
    handshake(state);
    expect(snapshots(list(state, 1, toolsText(SEARCH)))).toHaveLength(1);
    expect(snapshots(list(state, 2, toolsText(SEARCH)))).toHaveLength(0);
    expect(snapshots(list(state, 3, toolsText(`${SEARCH},${FETCH}`)))).toHaveLength(1);
    expect(snapshots(list(state, 4, toolsText(SEARCH)))).toHaveLength(0);
  });

  test("a server whose list changes at every listing: the hashes remembered stay bounded, the latest still silent when listed again", () => {
    const state = fresh();
    handshake(state);
    const named = (i: number) => toolsText(`{"name":"tool-${i}","inputSchema":{"type":"object"}}`);
    const count = MAX_EMITTED_SURFACES + 100;
    for (let i = 0; i < count; i++) expect(snapshots(list(state, i + 1, named(i)))).toHaveLength(1);
    expect(state.surface.emitted.size).toBeLessThanOrEqual(MAX_EMITTED_SURFACES);
    expect(snapshots(list(state, count + 1, named(count - 1)))).toHaveLength(0);
  });

  test("paginated lists are snapshotted once complete, all pages in order", () => {
    const state = fresh();
    handshake(state);
    expect(snapshots(list(state, 1, toolsText(SEARCH, ',"nextCursor":"p2"')))).toHaveLength(0);
    const [payload] = snapshots(list(state, 2, toolsText(FETCH), "p2"));
    expect(payload?.tools.map((t: any) => t.name)).toEqual(["search", "fetch"]);
  });

  test("an empty nextCursor ends the listing (as upstream reads it): snapshot and our tools on that page", () => {
    const state = fresh();
    handshake(state);
    const actions = list(state, 1, toolsText(SEARCH, ',"nextCursor":""'));
    const [payload] = snapshots(actions);
    expect(payload?.tools.map((t: any) => t.name)).toEqual(["search"]);
    const out = actions.find((a): a is Extract<Action, { type: "send" }> => a.type === "send");
    const tools = JSON.parse(JSON.stringify(out?.message)).result.tools;
    expect(tools.map((t: any) => t.name)).toEqual(["search", "baton_annotate", "baton_session_report"]);
  });

  test("a continuation page without its first page, an error answer, or a non-list result: no snapshot", () => {
    const state = fresh();
    expect(snapshots(list(state, 1, toolsText(FETCH), "p9"))).toHaveLength(0);
    list(state, 2, toolsText(SEARCH, ',"nextCursor":"p2"'));
    client(state, { jsonrpc: "2.0", id: 3, method: "tools/list", params: { cursor: "p2" } });
    expect(
      snapshots(server(state, '{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"bad cursor"}}')),
    ).toHaveLength(0);
    expect(snapshots(list(state, 4, toolsText(FETCH), "p2"))).toHaveLength(0);
  });

  test("no handshake seen (stateless era): server facts are null, still emitted; off mode records a null intent_param", () => {
    const state = fresh({ intentParam: "off", includeReportTool: false });
    const [payload] = snapshots(list(state, 1, toolsText(FETCH)));
    expect(payload).toMatchObject({
      server_info: null,
      capabilities: null,
      instructions: null,
      seam_augmentations: { injected_tools: ["baton_annotate"], intent_param: null },
    });
  });

  test("a server tool shadowing ours is not listed as our augmentation", () => {
    const state = fresh({ includeReportTool: false });
    const [payload] = snapshots(list(state, 1, toolsText('{"name":"baton_annotate"}')));
    expect(payload?.seam_augmentations.injected_tools).toEqual([]);
  });

  test("after the privacy stage the event validates and its stored surface still hashes to surface_hash (descriptions are not redacted)", () => {
    const state = fresh();
    handshake(state);
    const [action] = list(state, 1, toolsText(SEARCH)).filter(
      (a): a is Extract<Action, { type: "emit" }> => a.type === "emit",
    );
    const envelope = createEnvelope({
      tenantId: "t",
      vendorId: "v",
      consentToken: "c",
      sdkVersion: "baton-proxy/0.1.0",
    });
    const event = createEventScrubber({ mode: "on", extraKeys: [] })(envelope.stamp(action!.draft));
    assertValidEvent(JSON.parse(JSON.stringify(event)));
    const stored = parseKeepingNumbers(JSON.stringify(event)) as { payload: Record<string, unknown> };
    const { server_info, capabilities, instructions, tools, surface_hash } = stored.payload;
    expect(canonicalHash({ server_info, capabilities, instructions, tools })).toBe(surface_hash as string);
    expect(JSON.stringify(tools)).toContain("help@example.com");
  });
});

test("non-object entries in a server's tools are left out of the stored surface, and baton/truncated says so (it no longer re-hashes)", () => {
  const state = fresh();
  const [action] = list(state, 1, toolsText('{"name":"a"},null,"x"')).filter(
    (a): a is Extract<Action, { type: "emit" }> => a.type === "emit",
  );
  const envelope = createEnvelope({ tenantId: "t", vendorId: "v", consentToken: "c", sdkVersion: "baton-proxy/0.1.0" });
  const event = createEventScrubber({ mode: "on", extraKeys: [] })(envelope.stamp(action!.draft));
  assertValidEvent(JSON.parse(JSON.stringify(event)));
  expect((event.payload as { tools: unknown[] }).tools).toEqual([{ name: "a" }]);
  expect((event.runtime_meta as Record<string, unknown>)["baton/truncated"]).toBe(2);
});

describe("rewritten answers keep the server's numbers", () => {
  test("a tools/list answer the proxy changes goes out with 1.0 and big integers as written", () => {
    const state = fresh();
    const actions = list(
      state,
      1,
      toolsText(
        '{"name":"n","inputSchema":{"type":"object","properties":{"x":{"type":"number","minimum":1.0,"maximum":18446744073709551615,"multipleOf":0.5}}}}',
      ),
    );
    const out = actions.find((a): a is Extract<Action, { type: "send" }> => a.type === "send");
    const text = JSON.stringify(out?.message);
    expect(text).toContain('"minimum":1.0,"maximum":18446744073709551615,"multipleOf":0.5');
    expect(text).toContain('"user_goal"');
  });

  test("odd shapes never break the pipe: a number where an object belongs is left alone, the answer still goes out", () => {
    const state = fresh();
    const actions = list(
      state,
      1,
      toolsText('{"name":"n","inputSchema":1.0},{"name":"m","inputSchema":{"properties":2.0}}'),
    );
    const out = actions.find((a): a is Extract<Action, { type: "send" }> => a.type === "send");
    const tools = JSON.parse(JSON.stringify(out?.message)).result.tools;
    expect(tools.map((t: any) => [t.name, Object.keys(t.inputSchema.properties ?? {})])).toEqual([
      ["n", ["user_goal", "expected_result"]],
      ["m", ["user_goal", "expected_result"]],
      [
        "baton_annotate",
        ["intent", "expected_outcome", "workflow", "signal_type", "suggested_improvement", "context", "tool_name"],
      ],
      ["baton_session_report", []],
    ]);
    client(state, { jsonrpc: "2.0", id: 2, method: "initialize", params: {} });
    const init = server(
      state,
      '{"jsonrpc":"2.0","id":2,"result":{"capabilities":1.0,"serverInfo":2.0,"protocolVersion":"2025-06-18"}}',
    );
    expect(init.filter((a) => a.type === "send" || a.type === "forward")).toHaveLength(1);
  });
  test("a listing whose result bytes are the last listing's is not hashed again; other bytes, numbers as written or a new handshake are", () => {
    const state = fresh();
    handshake(state);
    const hashes = spyOn(canonical, "canonicalHash");
    try {
      const first = snapshots(list(state, 1, toolsText(SEARCH)));
      expect(hashes).toHaveBeenCalledTimes(1);
      // Same result under other ids (number and string): no hash, no snapshot.
      expect(snapshots(list(state, 2, toolsText(SEARCH)))).toEqual([]);
      client(state, { jsonrpc: "2.0", id: "x", method: "tools/list" });
      expect(snapshots(server(state, toolsText(SEARCH).replace("ID", '"x"')))).toEqual([]);
      expect(hashes).toHaveBeenCalledTimes(1);
      // 1.0 written as 1 is another surface (Python keeps the float): hashed and snapshotted.
      const plain = snapshots(list(state, 3, toolsText(SEARCH.replace("1.0", "1"))));
      expect(plain[0]?.surface_hash).not.toBe(first[0]?.surface_hash);
      // Back to the first bytes: hashed (they are not the last listing's), silent (already emitted).
      expect(snapshots(list(state, 4, toolsText(SEARCH)))).toEqual([]);
      expect(hashes).toHaveBeenCalledTimes(3);
      // A new handshake with other facts: the same list is another surface.
      client(state, { jsonrpc: "2.0", id: 5, method: "initialize", params: {} });
      server(state, INIT.replace('"id":0', '"id":5').replace("Use search first.", "Use fetch first."));
      const again = snapshots(list(state, 6, toolsText(SEARCH)));
      expect(again[0]?.instructions).toBe("Use fetch first.");
      expect(hashes).toHaveBeenCalledTimes(4);
      // Paginated: the same two pages again are not hashed; the hash is the one-page list's rule (all pages in order).
      const pages = () => [
        snapshots(list(state, 7, toolsText(SEARCH, ',"nextCursor":"p2"'))),
        snapshots(list(state, 8, toolsText(FETCH), "p2")),
      ];
      expect(pages()[1]).toHaveLength(1);
      expect(pages().flat()).toEqual([]);
      expect(hashes).toHaveBeenCalledTimes(5);
    } finally {
      hashes.mockRestore();
    }
  });
});
