// The OAuth cache's lock file: held by one refresh at a time; one left by a dead process, or one that cannot be made, never holds a refresh up.

import { expect, spyOn, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
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

test("two waiters that both judge a lock stale take it over one at a time: the later one does not remove the earlier one's fresh lock", async () => {
  // Two proxies waiting on a lock whose holder died: both judge it stale; the first removes it and
  // makes its own, then the second, acting on its judgment, removed that fresh lock and made another,
  // and both refreshed at once (with rotation, the second presented a used refresh token).
  const lock = join(tempDir(), "record.json.lock");
  const dead = Bun.spawn([process.execPath, "-e", ""]);
  await dead.exited;
  writeFileSync(lock, `${dead.pid} 3f1c ${lockPlace()}\n`);
  let inside = 0;
  let most = 0;
  const holding = async (release: Promise<void>) => {
    inside += 1;
    most = Math.max(most, inside);
    await release;
    inside -= 1;
  };
  let releaseFirst = () => {};
  const firstReleased = new Promise<void>((resolve) => {
    releaseFirst = resolve;
  });
  let first: Promise<void> | undefined;
  let judged = false;
  // The other waiter (another process in life) acts between this one's judgment and its takeover:
  // the seam is the liveness look-up, the judgment's last step.
  const kill = process.kill.bind(process);
  const spy = spyOn(process, "kill").mockImplementation((pid: number, signal?: string | number) => {
    try {
      return kill(pid, signal);
    } finally {
      if (!judged) {
        judged = true;
        first = withCacheLock(lock, FOREVER_MS, () => holding(firstReleased));
      }
    }
  });
  try {
    const second = withCacheLock(lock, FOREVER_MS, () => holding(Promise.resolve()));
    await Bun.sleep(200);
    releaseFirst();
    await Promise.all([first, second]);
  } finally {
    spy.mockRestore();
  }
  expect(first).toBeDefined();
  expect(most).toBe(1);
  expect(existsSync(lock)).toBe(false);
});

test("a takeover marker that cannot be looked at (a symlink loop planted there) never fails the refresh: it runs after the wait", async () => {
  const lock = join(tempDir(), "record.json.lock");
  const dead = Bun.spawn([process.execPath, "-e", ""]);
  await dead.exited;
  writeFileSync(lock, `${dead.pid} 3f1c ${lockPlace()}\n`);
  const stat = statSync(lock);
  const identity = `${stat.dev}:${stat.ino}:${stat.mtimeMs}:${readFileSync(lock, "utf8")}`;
  const marker = `${lock}.${createHash("sha256").update(identity).digest("hex").slice(0, 16)}.takeover`;
  symlinkSync(marker, marker);
  expect(await withCacheLock(lock, 100, async () => "ran")).toBe("ran");
});
