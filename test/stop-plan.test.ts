// Unit: the stop plan as a pure state machine: what each host sequence makes the proxy do to the server's tree, on POSIX and on Windows.

import { describe, expect, test } from "bun:test";
import {
  createStopState,
  INSISTING_SIGNAL_COUNT,
  planStop,
  SIGNAL_GRACE_MS,
  STDIN_EOF_GRACE_MS,
  type StopInput,
  type StopStep,
} from "../src/transport/stop-plan.ts";

const close: StopInput = { kind: "close" };
const timer: StopInput = { kind: "timer" };
const signal = (s: NodeJS.Signals): StopInput => ({ kind: "signal", signal: s });
const exited = (groupAlive: boolean): StopInput => ({ kind: "exited", groupAlive });

/** Runs the inputs and returns each step in a compact form: "in" closes input, then the signal sent, then "+ms" / "disarm". */
function run(platform: NodeJS.Platform, inputs: readonly StopInput[]): string[] {
  const state = createStopState(platform);
  return inputs.map((input) => describeStep(planStop(state, input)));
}
function describeStep(step: StopStep): string {
  const parts = [
    step.closeInput ? "close-input" : "",
    step.send ?? "",
    step.timerMs === null ? "disarm" : step.timerMs === undefined ? "" : `+${step.timerMs}`,
  ];
  return parts.filter((p) => p !== "").join(" ") || "nothing";
}

describe("POSIX: signals are passed on as they come; SIGKILL only when grace runs out or a person insists", () => {
  test.each([
    ["client EOF, server exits by itself", [close, exited(false)], ["close-input +1000", "disarm"]],
    [
      "client EOF, server ignores EOF and SIGTERM",
      [close, timer, timer],
      [`close-input +${STDIN_EOF_GRACE_MS}`, `SIGTERM +${SIGNAL_GRACE_MS}`, "SIGKILL disarm"],
    ],
    [
      "SDK v2 disposal: EOF and SIGTERM together",
      [close, signal("SIGTERM"), exited(false)],
      ["close-input +1000", "SIGTERM +1000", "disarm"],
    ],
    [
      "the signal noticed before the EOF: the input stays open until the EOF",
      [signal("SIGTERM"), close],
      ["SIGTERM +1000", "close-input"],
    ],
    [
      "SDK v1 close: EOF, our own SIGTERM, then the host's SIGTERM",
      [close, timer, signal("SIGTERM")],
      ["close-input +1000", "SIGTERM +1000", "SIGTERM +1000"],
    ],
    [
      "Claude Code: SIGINT then SIGTERM",
      [signal("SIGINT"), signal("SIGTERM"), timer],
      ["SIGINT +1000", "SIGTERM +1000", "SIGKILL disarm"],
    ],
    [
      "double Ctrl-C: both SIGINTs passed on, then SIGTERM, then SIGKILL",
      [signal("SIGINT"), signal("SIGINT"), timer, timer],
      ["SIGINT +1000", "SIGINT +1000", "SIGTERM +1000", "SIGKILL disarm"],
    ],
    [
      "a third signal: SIGKILL at once, nothing after",
      [signal("SIGINT"), signal("SIGINT"), signal("SIGINT"), timer, close],
      ["SIGINT +1000", "SIGINT +1000", "SIGKILL disarm", "nothing", "nothing"],
    ],
    ["SIGHUP is passed on, SIGTERM follows", [signal("SIGHUP"), timer], ["SIGHUP +1000", "SIGTERM +1000"]],
    [
      "the child exits leaving its group: SIGTERM to the group now, SIGKILL after the grace",
      [exited(true), timer],
      ["SIGTERM +1000", "SIGKILL disarm"],
    ],
    [
      "the child exits during the SIGTERM grace: the armed SIGKILL stays",
      [close, timer, exited(true), timer],
      ["close-input +1000", "SIGTERM +1000", "nothing", "SIGKILL disarm"],
    ],
    [
      "nothing left: later requests do nothing",
      [exited(false), close, signal("SIGTERM")],
      ["disarm", "nothing", "nothing"],
    ],
  ] as const)("%s", (_name, inputs, steps) => {
    expect(run("linux", inputs)).toEqual([...steps]);
  });

  test(`the insisting count is ${INSISTING_SIGNAL_COUNT}: two signals never SIGKILL by themselves`, () => {
    expect(INSISTING_SIGNAL_COUNT).toBe(3);
    expect(run("darwin", [signal("SIGTERM"), signal("SIGTERM")]).join(",")).not.toContain("SIGKILL");
  });
});

describe("Windows: no signals to pass on; EOF, then a tree kill after the grace", () => {
  test.each([
    ["client EOF", [close, timer], ["close-input +1000", "SIGKILL disarm"]],
    [
      "a signal: input closed, tree kill after the grace",
      [signal("SIGINT"), signal("SIGTERM"), timer],
      ["close-input +1000", "nothing", "SIGKILL disarm"],
    ],
    [
      "a third signal: tree kill at once",
      [signal("SIGINT"), signal("SIGINT"), signal("SIGINT")],
      ["close-input +1000", "nothing", "SIGKILL disarm"],
    ],
    [
      "the root exits: its tree cannot be found any more",
      [close, exited(true), timer],
      ["close-input +1000", "disarm", "nothing"],
    ],
  ] as const)("%s", (_name, inputs, steps) => {
    expect(run("win32", inputs)).toEqual([...steps]);
  });
});
