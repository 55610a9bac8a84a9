// Unit tests for src/telemetry/sized-queue.ts: order across slices and compactions, pushes during a take.

import { expect, test } from "bun:test";
import { SizedQueue } from "../src/telemetry/sized-queue.ts";

test("slices come out in order across compactions; size counts what waits", () => {
  const queue = new SizedQueue<number>();
  const out: number[] = [];
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 300; i++) queue.push(next++);
    queue.take(round % 3 === 0 ? Infinity : 257, (n) => void out.push(n));
    expect(queue.size).toBe(next - out.length);
  }
  queue.take(Infinity, (n) => void out.push(n));
  expect(queue.size).toBe(0);
  expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
});

test("items pushed while a slice is handed out wait for a later take", () => {
  const queue = new SizedQueue<string>();
  queue.push("a");
  queue.push("b");
  const seen: string[] = [];
  queue.take(Infinity, (item) => {
    seen.push(item);
    if (item === "a") queue.push("c");
  });
  expect(seen).toEqual(["a", "b"]);
  expect(queue.size).toBe(1);
  queue.take(1, (item) => void seen.push(item));
  expect(seen).toEqual(["a", "b", "c"]);
});

test("taking nothing changes nothing", () => {
  const queue = new SizedQueue<number>();
  queue.take(5, () => {
    throw new Error("nothing to take");
  });
  queue.push(1);
  queue.take(0, () => {
    throw new Error("limit 0");
  });
  expect(queue.size).toBe(1);
});

test("bytes sums the size estimates of what waits, across slices, compactions and pushes during a take", () => {
  const queue = new SizedQueue<number>();
  const sizeOf = (n: number): number => (n % 7) * 100;
  let next = 0;
  let taken = 0;
  let waitingBytes = 0;
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 300; i++) {
      queue.push(next, sizeOf(next));
      waitingBytes += sizeOf(next++);
    }
    queue.take(round % 4 === 0 ? Infinity : 211, (n) => {
      expect(n).toBe(taken++);
      waitingBytes -= sizeOf(n);
      if (n % 97 === 0) {
        queue.push(next, sizeOf(next)); // waits for a later take, and counts at once
        waitingBytes += sizeOf(next++);
      }
    });
    expect(queue.bytes).toBe(waitingBytes);
    // bytesAt reads the waiting items from the oldest, whatever the compactions did
    expect([queue.bytesAt(0), queue.bytesAt(queue.size - 1)]).toEqual([sizeOf(taken), sizeOf(next - 1)]);
  }
  queue.take(Infinity, () => undefined);
  expect([queue.size, queue.bytes]).toEqual([0, 0]);
  queue.push(1); // no estimate: counts as nothing
  expect(queue.bytes).toBe(0);
});

test("a take that compacts a long intake hands on every later item once, in order, with its size", () => {
  // The rounds above never let 1024 items wait, so they never reach the compaction: this one does.
  const queue = new SizedQueue<number>();
  for (let n = 0; n < 3000; n++) queue.push(n, n + 1);
  const out: number[] = [];
  expect(queue.take(1100, (n) => void out.push(n))).toBe(1100); // 1100 taken, 1900 left: no compaction yet
  expect(queue.take(500, (n) => void out.push(n))).toBe(500); // 1600 taken of 3000: compacts
  expect([queue.size, queue.bytesAt(0), queue.bytesAt(queue.size - 1)]).toEqual([1400, 1601, 3000]);
  let bytes = 0;
  for (let n = 1600; n < 3000; n++) bytes += n + 1;
  expect(queue.bytes).toBe(bytes);
  queue.push(3000, 3001);
  expect(queue.take(Infinity, (n) => void out.push(n))).toBe(1401);
  expect(out).toEqual(Array.from({ length: 3001 }, (_, i) => i));
  expect([queue.size, queue.bytes]).toEqual([0, 0]);
});

test("a fresh queue weighs nothing", () => {
  const queue = new SizedQueue<string>();
  expect([queue.size, queue.bytes]).toEqual([0, 0]);
  queue.push("a", 5);
  expect(queue.bytes).toBe(5);
});
