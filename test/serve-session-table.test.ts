import { describe, expect, test } from "bun:test";
import { IDENTITY_EXCHANGE, type RequestContext, type SessionExchange } from "../src/serve/exchange.ts";
import { createReadinessProbe } from "../src/serve/readiness.ts";
import { SessionTable, statelessKey, type SessionOrigin } from "../src/serve/session-table.ts";

const context: RequestContext = { remoteAddress: "10.0.0.1", consentToken: undefined, principal: undefined };

function table(idleMs = 1000, maxSessions = 10_000) {
  let now = 0;
  let evicted = 0;
  const created: SessionOrigin[] = [];
  const closed: string[] = [];
  const swept: number[] = [];
  const lifetimes: number[] = [];
  const sessions = new SessionTable({
    create: (origin): SessionExchange => {
      created.push(origin);
      const n = created.length;
      return { ...IDENTITY_EXCHANGE, close: (reason) => closed.push(`${n}:${reason}`), sweep: () => swept.push(n) };
    },
    idleMs,
    maxSessions,
    evicted: () => evicted++,
    now: () => now,
    ended: (ms) => lifetimes.push(ms),
  });
  return {
    sessions,
    created,
    closed,
    swept,
    lifetimes,
    evicted: () => evicted,
    advance: (ms: number) => (now += ms),
  };
}

describe("SessionTable", () => {
  test("the sweep also sweeps each remaining session's engine (its time bounds: unanswered requests, rounds, tasks)", () => {
    const t = table(1000);
    t.sessions.adopt("sid-1", t.sessions.open(context));
    t.advance(500);
    t.sessions.adopt("sid-2", t.sessions.open(context));
    t.advance(600);
    expect(t.sessions.sweep()).toBe(1); // sid-1 idle too long: closed, not swept
    expect(t.closed).toEqual(["1:the session was idle too long"]);
    expect(t.swept).toEqual([2]);
  });

  test("stateless upstream: a newer handshake of the group replaces it, but a busy one is closed only once its requests are done", () => {
    const t = table(1000);
    const key = statelessKey(context, undefined);
    const first = t.sessions.open(context);
    t.sessions.adoptStateless(key, first);
    first.active++; // another client's call is in flight on it
    const second = t.sessions.open(context);
    t.sessions.adoptStateless(key, second);
    expect(t.sessions.forStateless(key, context)).toBe(second);
    expect(t.closed).toEqual([]);
    t.sessions.sweep();
    expect(t.closed).toEqual([]);
    expect(t.swept).toContain(1); // still swept while busy
    first.active--;
    t.sessions.sweep();
    expect(t.closed).toEqual(["1:the client opened a new session"]);
    // An idle one is closed at once, as before; shutdown closes a busy retired one too.
    const third = t.sessions.open(context);
    t.sessions.adoptStateless(key, third);
    expect(t.closed).toEqual(["1:the client opened a new session", "2:the client opened a new session"]);
    third.active++;
    t.sessions.adoptStateless(key, t.sessions.open(context));
    t.sessions.closeAll("bye");
    expect(t.closed.slice(2).sort()).toEqual(["3:bye", "4:bye"]);
  });

  test("a handshake is adopted under the upstream's id; later requests find it", () => {
    const t = table();
    const entry = t.sessions.open(context);
    t.sessions.adopt("sid-1", entry);
    expect(t.sessions.forSession("sid-1", context)).toBe(entry);
    expect(t.created).toEqual(["handshake"]);
    expect(t.sessions.size).toBe(1);
  });

  test("a handshake the upstream names with an id it already gave ends the session filed under it (one engine per id)", () => {
    // A server with one fixed session id, or one that reuses ids, answers every initialize with the same one.
    const t = table();
    for (let i = 0; i < 3; i++) t.sessions.adopt("fixed", t.sessions.open(context));
    expect(t.created).toHaveLength(3);
    expect(t.closed).toEqual(["1:the client opened a new session", "2:the client opened a new session"]);
    expect(t.lifetimes).toHaveLength(2);
    expect(t.sessions.size).toBe(1);
  });

  test("a reused session id whose engine has calls in flight: that engine is closed only once they are done (their answers still come back)", () => {
    const t = table(1000);
    const first = t.sessions.open(context);
    t.sessions.adopt("fixed", first);
    first.active++; // a call of the first client is in flight on it
    const second = t.sessions.open(context);
    t.sessions.adopt("fixed", second);
    expect(t.sessions.forSession("fixed", context)).toBe(second);
    expect(t.closed).toEqual([]);
    t.sessions.sweep();
    expect(t.closed).toEqual([]);
    expect(t.swept).toContain(1);
    first.active--;
    t.sessions.sweep();
    expect(t.closed).toEqual(["1:the client opened a new session"]);
    second.active++;
    t.sessions.adopt("fixed", t.sessions.open(context));
    t.sessions.closeAll("bye");
    expect(t.closed.slice(1).sort()).toEqual(["2:bye", "3:bye"]);
  });

  test("an unknown session id (another replica's) gets an entry on the spot", () => {
    const t = table();
    const entry = t.sessions.forSession("never-seen", context);
    expect(t.sessions.forSession("never-seen", context)).toBe(entry);
    expect(t.created).toEqual(["adopted"]);
  });

  test("past --max-sessions the least recently used idle session is evicted (ids and stateless groups alike); busy ones never", () => {
    const t = table(60_000, 3);
    const a = t.sessions.forSession("a", context); // 1
    t.advance(1);
    t.sessions.forStateless(statelessKey(context, { name: "invented-1" }), context); // 2
    t.advance(1);
    const c = t.sessions.forSession("c", context); // 3
    t.advance(1);
    expect(t.sessions.forSession("a", context)).toBe(a); // "a" used again: the group is now the oldest
    t.advance(1);
    t.sessions.forStateless(statelessKey(context, { name: "invented-2" }), context); // 4 evicts the group
    expect(t.closed).toEqual(["2:the proxy holds too many sessions (--max-sessions)"]);
    expect([t.sessions.size, t.evicted(), t.lifetimes.length]).toEqual([3, 1, 1]);
    c.active = 1; // busy: skipped
    t.advance(1);
    t.sessions.adopt("e", t.sessions.open(context)); // 5 evicts "a", the oldest idle one
    expect(t.closed[1]).toBe("1:the proxy holds too many sessions (--max-sessions)");
    expect(t.sessions.size).toBe(3);
    // An evicted session's next request is still served: a fresh entry, as for a session another replica opened.
    const again = t.sessions.forSession("a", context);
    expect(again).not.toBe(a);
    expect(t.created.at(-1)).toBe("adopted");
    expect([t.sessions.size, t.evicted()]).toEqual([3, 3]);
    // Every entry busy: none is evicted, the table goes over the cap rather than end a request in flight.
    for (const id of ["a", "e"]) t.sessions.forSession(id, context).active = 1;
    t.sessions.forSession("f", context).active = 1;
    expect([t.sessions.size, t.evicted()]).toEqual([4, 3]);
  });

  test("idle sessions are forgotten after the bound, busy ones never", () => {
    const t = table(1000);
    const idle = t.sessions.forSession("a", context);
    const busy = t.sessions.forSession("b", context);
    busy.active = 1;
    void idle;
    t.advance(999);
    expect(t.sessions.sweep()).toBe(0);
    t.advance(2);
    expect(t.sessions.sweep()).toBe(1);
    expect(t.closed).toEqual(["1:the session was idle too long"]);
    expect(t.lifetimes).toEqual([1001]);
    expect(t.sessions.size).toBe(1);
    busy.active = 0;
    t.sessions.end("b", "the client ended the session");
    expect(t.closed[1]).toBe("2:the client ended the session");
    expect(t.sessions.size).toBe(0);
  });

  test("stateless requests group by principal (else address) and client name/version", () => {
    const t = table();
    const k1 = statelessKey(context, { name: "claude-code", version: "2" });
    const k2 = statelessKey({ ...context, remoteAddress: "10.0.0.2" }, { name: "claude-code", version: "2" });
    const k3 = statelessKey({ ...context, principal: { id: "alice" } }, { name: "claude-code", version: "2" });
    const k4 = statelessKey(
      { ...context, remoteAddress: "10.0.0.9", principal: { id: "alice" } },
      { name: "claude-code", version: "2" },
    );
    expect(new Set([k1, k2, k3]).size).toBe(3);
    expect(k3).toBe(k4);
    const a = t.sessions.forStateless(k1, context);
    expect(t.sessions.forStateless(k1, context)).toBe(a);
    expect(t.sessions.forStateless(k2, context)).not.toBe(a);
    t.sessions.closeAll("shutdown");
    expect(t.closed).toEqual(["1:shutdown", "2:shutdown"]);
  });
});

describe("readiness probe", () => {
  test("caches a result for the window and runs one probe at a time", async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const probe = createReadinessProbe(
      async () => {
        calls++;
        if (fail) throw new Error("down");
      },
      () => now,
      5000,
      1000,
    );
    expect(await Promise.all([probe.upstreamReady(), probe.upstreamReady()])).toEqual([true, true]);
    expect(calls).toBe(1);
    fail = true;
    now = 4999;
    expect(await probe.upstreamReady()).toBe(true);
    now = 5001;
    expect(await probe.upstreamReady()).toBe(false);
    expect(calls).toBe(2);
  });

  test("a probe that never answers is not ready after the timeout", async () => {
    const probe = createReadinessProbe(
      (signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
      () => 0,
      5000,
      50,
    );
    expect(await probe.upstreamReady()).toBe(false);
  });
});
