// Unit tests for src/telemetry/background-turns.ts: fake clock and a hand-run macrotask queue, no real timers.

import { describe, expect, test } from "bun:test";
import { createBackgroundTurns, PACED_FALLBACK_MS } from "../src/telemetry/background-turns.ts";
import { createFakeClock } from "./support/fake-clock.ts";

function setup(paced: boolean) {
  const clock = createFakeClock();
  const macrotasks: (() => void)[] = [];
  const ran: string[] = [];
  const turns = createBackgroundTurns(paced, (fn) => void macrotasks.push(fn), clock);
  const step = (name: string) => () => void ran.push(name);
  const runMacrotasks = (): void => {
    while (macrotasks.length > 0) macrotasks.shift()?.();
  };
  return { clock, macrotasks, ran, turns, step, runMacrotasks };
}

describe("unpaced", () => {
  test("every step runs at the next macrotask; poke does nothing", () => {
    const { macrotasks, ran, turns, step, runMacrotasks } = setup(false);
    turns.later(step("a"));
    turns.later(step("b"));
    turns.poke();
    expect(macrotasks).toHaveLength(2);
    runMacrotasks();
    expect(ran).toEqual(["a", "b"]);
  });
});

describe("paced", () => {
  test("steps wait for a message; each poke runs one, in order, at the next macrotask", () => {
    const { macrotasks, ran, turns, step, runMacrotasks } = setup(true);
    turns.poke(); // nothing waits: no turn asked for
    expect(macrotasks).toHaveLength(0);
    turns.later(step("a"));
    turns.later(step("b"));
    turns.later(step("c"));
    expect(macrotasks).toHaveLength(0); // not at the next macrotask: after the next message
    turns.poke();
    turns.poke(); // a second message before the turn: still one step
    expect(ran).toEqual([]); // never inside the poke
    runMacrotasks();
    expect(ran).toEqual(["a"]);
    turns.poke();
    runMacrotasks();
    expect(ran).toEqual(["a", "b"]);
  });

  test("without messages, one step every PACED_FALLBACK_MS; a poked turn the timer already ran is skipped", () => {
    const { clock, macrotasks, ran, turns, step, runMacrotasks } = setup(true);
    turns.later(step("a"));
    turns.later(step("b"));
    turns.later(step("c"));
    clock.advance(PACED_FALLBACK_MS - 0.5);
    expect(ran).toEqual([]);
    clock.advance(0.5);
    expect(ran).toEqual(["a"]);
    turns.poke();
    clock.advance(PACED_FALLBACK_MS); // the timer runs "b" before the poked turn
    expect(ran).toEqual(["a", "b"]);
    runMacrotasks(); // the poked turn finds its step taken: runs nothing more
    expect(ran).toEqual(["a", "b"]);
    clock.advance(PACED_FALLBACK_MS);
    expect(ran).toEqual(["a", "b", "c"]);
    expect(clock.timers()).toBe(0); // nothing left armed
    expect(macrotasks).toHaveLength(0);
  });

  test("a step may ask for another: it waits its own turn", () => {
    const { macrotasks, ran, turns, runMacrotasks } = setup(true);
    turns.later(() => {
      ran.push("first");
      turns.later(() => void ran.push("second"));
    });
    turns.poke();
    runMacrotasks();
    expect(ran).toEqual(["first"]);
    turns.poke();
    expect(macrotasks).toHaveLength(1);
    runMacrotasks();
    expect(ran).toEqual(["first", "second"]);
  });
});
