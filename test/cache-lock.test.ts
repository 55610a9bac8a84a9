// The OAuth cache's lock file: held by one refresh at a time; one left by a dead process, or one that cannot be made, never holds a refresh up.

import { expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lockPlace, withCacheLock } from "../src/remote/cache-lock.ts";
import { tempDir } from "./support/proxy-process.ts";

/** Far longer than the test's own timeout: a task that waited for it would fail the test. */
const FOREVER_MS = 600_000;

test("two holders take turns: the second task starts only after the first has ended, and the lock is gone after both", async () => {
  const lock = join(tempDir(), "record.json.lock");
  const order: string[] = [];
  let release = () => {};
  const first = withCacheLock(lock, FOREVER_MS, async () => {
    order.push("first start");
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    order.push("first end");
  });
  const second = withCacheLock(lock, FOREVER_MS, async () => {
    order.push("second start");
  });
  while (order.length === 0) await Bun.sleep(5);
  expect(readFileSync(lock, "utf8")).toStartWith(`${process.pid} `);
  release();
  await Promise.all([first, second]);
  expect(order).toEqual(["first start", "first end", "second start"]);
  expect(existsSync(lock)).toBe(false);
});

test("a lock left by a process that died mid-refresh is taken over at once", async () => {
  const lock = join(tempDir(), "record.json.lock");
  const dead = Bun.spawn([process.execPath, "-e", ""]);
  await dead.exited;
  writeFileSync(lock, `${dead.pid} 3f1c\n`);
  expect(await withCacheLock(lock, FOREVER_MS, async () => "ran")).toBe("ran");
  expect(existsSync(lock)).toBe(false);
});

test("a cache directory where no lock can be made (missing, read-only) runs the task unlocked", async () => {
  const lock = join(tempDir(), "missing", "record.json.lock");
  expect(await withCacheLock(lock, FOREVER_MS, async () => "ran")).toBe("ran");
});

test("a lock held longer than the wait is taken over, and its late holder, ending, leaves the new holder's lock alone", async () => {
  const lock = join(tempDir(), "record.json.lock");
  let release = () => {};
  let started = false;
  const slow = withCacheLock(lock, FOREVER_MS, async () => {
    started = true;
    await new Promise<void>((resolve) => {
      release = resolve;
    });
  });
  while (!started) await Bun.sleep(5);
  let holding = () => {};
  const held = new Promise<void>((resolve) => {
    holding = resolve;
  });
  let finish = () => {};
  const taker = withCacheLock(lock, 50, async () => {
    holding();
    await new Promise<void>((resolve) => {
      finish = resolve;
    });
  });
  await held;
  const taken = readFileSync(lock, "utf8");
  release();
  await slow;
  expect(readFileSync(lock, "utf8")).toBe(taken);
  finish();
  await taker;
  expect(existsSync(lock)).toBe(false);
});

test("a lock held on another machine or container sharing the cache (an NFS home, a volume) is waited for: its pid means nothing here", async () => {
  // Its pid, unknown here, was taken for a dead holder: two refreshes ran at once, and with
  // refresh-token rotation the second presented a used token (a server detecting it revokes the grant).
  const lock = join(tempDir(), "record.json.lock");
  const dead = Bun.spawn([process.execPath, "-e", ""]);
  await dead.exited;
  writeFileSync(lock, `${dead.pid} 3f1c other-host/pid:[4026531836]\n`);
  const waitMs = 400;
  const started = performance.now();
  expect(await withCacheLock(lock, waitMs, async () => "ran")).toBe("ran");
  expect(performance.now() - started).toBeGreaterThanOrEqual(waitMs - 50);
});

test("a lock of this machine whose holder is gone is still taken over at once", async () => {
  const lock = join(tempDir(), "record.json.lock");
  const dead = Bun.spawn([process.execPath, "-e", ""]);
  await dead.exited;
  writeFileSync(lock, `${dead.pid} 3f1c ${lockPlace()}\n`);
  const started = performance.now();
  expect(await withCacheLock(lock, FOREVER_MS, async () => "ran")).toBe("ran");
  expect(performance.now() - started).toBeLessThan(5_000);
});
