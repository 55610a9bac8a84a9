// Black-box: a stdio proxy (and its server) that a test started and left running, as a failed assertion does, is stopped after that test.

import { expect, test } from "bun:test";
import { fixture, isAlive, startProxy } from "./support/proxy-process.ts";

let left: { proxy: number; exited: Promise<number> } | undefined;

test("a test starts a proxy and ends without closing it (as when an assertion fails first)", async () => {
  const proxy = await startProxy(fixture("echo"));
  await proxy.request(0, "ping");
  left = { proxy: proxy.proc.pid, exited: proxy.proc.exited };
});

test("the next test finds it stopped", async () => {
  const { proxy, exited } = left ?? { proxy: 0, exited: Promise.resolve(0) };
  try {
    expect(await Promise.race([exited.then(() => "stopped"), Bun.sleep(500).then(() => "running")])).toBe("stopped");
    expect(isAlive(proxy)).toBe(false);
  } finally {
    if (isAlive(proxy)) process.kill(proxy, "SIGKILL");
  }
});
