// The scripted client sessions of the differential tests: each step's value, or its error's code and message, in order.

import type { Client } from "@modelcontextprotocol/sdk/client/index.js";

/** What one step gave: its value, or the error's code and message (compared between direct and proxied runs). */
export type Outcome = { readonly step: string; readonly value: unknown };

/** A recorder: `step(name, run)` awaits `run` and appends what it gave to `into`, an error included. */
export function stepsInto(into: Outcome[]): Step {
  return async (name, run) => {
    try {
      into.push({ step: name, value: await run() });
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      into.push({ step: name, value: { code: e.code, message: e.message } });
    }
  };
}

/** A step recorder, as {@link stepsInto} returns. */
export type Step = (name: string, run: () => Promise<unknown>) => Promise<void>;

/**
 * The calls both differential tests make of server-everything, in order: one tool of each kind of
 * result (text, annotated, structured, image, links), `echo` with `intent` (its arguments, intent
 * params included), the three server→client requests (sampling, elicitation, roots), an unknown
 * tool, invalid arguments, then the logging level.
 */
export async function everythingToolSteps(
  step: Step,
  call: (name: string, args: Record<string, unknown>) => Promise<unknown>,
  setLoggingLevel: () => Promise<unknown>,
  intent: Record<string, unknown>,
): Promise<void> {
  await step("echo", () => call("echo", { message: "héllo \u2028 1.0" }));
  await step("annotated", () => call("get-annotated-message", { messageType: "error", includeImage: true }));
  await step("structured", () => call("get-structured-content", { location: "Chicago" }));
  await step("image", () => call("get-tiny-image", {}));
  await step("links", () => call("get-resource-links", { count: 2 }));
  await step("intent", () => call("echo", intent));
  await step("sampling", () => call("trigger-sampling-request", { prompt: "hi", maxTokens: 5 }));
  await step("elicitation", () => call("trigger-elicitation-request", {}));
  await step("roots", () => call("get-roots-list", {}));
  await step("unknown", () => call("no-such-tool", {}));
  await step("invalid", () => call("get-sum", { a: "x" }));
  await step("level", setLoggingLevel);
}

/** The prompt steps both differential tests take with server-everything: list, get with arguments, a missing one, completion. */
export async function everythingPromptSteps(step: Step, client: Client): Promise<void> {
  await step("prompts", () => client.listPrompts());
  await step("prompt", () => client.getPrompt({ name: "args-prompt", arguments: { city: "Paris", state: "TX" } }));
  await step("prompt-missing", () => client.getPrompt({ name: "nope" }));
  await step("complete", () =>
    client.complete({
      ref: { type: "ref/prompt", name: "completable-prompt" },
      argument: { name: "department", value: "E" },
    }),
  );
}

/** The steps whose outcomes differ between two runs of one script, compared after `normalise`. */
export function differingSteps(
  plain: readonly Outcome[],
  proxied: readonly Outcome[],
  normalise: (text: string) => string,
): string[] {
  return plain.flatMap((o, i) =>
    normalise(JSON.stringify(o)) === normalise(JSON.stringify(proxied[i])) ? [] : [o.step],
  );
}
