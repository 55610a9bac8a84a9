// Model-based, black-box: the seeded conversations of model-conversations.binary.test.ts played by an HTTP client through `baton-proxy serve` in front of a scripted Streamable HTTP upstream (answers as JSON or SSE, events with and without ids, the server's own messages on POST streams and the GET stream), and straight against that upstream as the reference.

import { describe, expect, test } from "bun:test";
import { generateScenario } from "./support/conversation-model.ts";
import { checkServeRun, runConversationServe } from "./support/conversation-serve.ts";

const SEEDS = (process.env.MODEL_SERVE_SEEDS ?? "1,2,3,4,15")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "")
  .flatMap((s) => {
    const [from, to] = s.split("-").map(Number);
    return to === undefined
      ? [from as number]
      : Array.from({ length: to - (from as number) + 1 }, (_, i) => (from as number) + i);
  });

describe("seeded conversations through serve, against the model", () => {
  test.each(SEEDS)("seed %d", async (seed) => {
    const scenario = generateScenario(seed, Number(process.env.MODEL_ACTIONS ?? 120), { serve: true });
    // The reference: the same script straight against the upstream gets every message byte for byte.
    const bare = await runConversationServe(scenario, true);
    expect(bare.toServer.map(String).sort()).toEqual(
      scenario.steps
        .filter((s) => s.from === "client")
        .map((s) => s.text)
        .sort(),
    );
    expect(bare.toClient.map(String).sort()).toEqual(
      scenario.steps
        .filter((s) => s.from === "server")
        .map((s) => s.text)
        .sort(),
    );
    checkServeRun(scenario, await runConversationServe(scenario));
  });
});
