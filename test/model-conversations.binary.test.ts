// Model-based, black-box: seeded long conversations (out-of-order answers, the server's own requests, cancellations from both sides, duplicate and reused ids, batches, pagination, tasks, multi-round calls, long lines) through the compiled proxy; each peer gets exactly the other's lines but for the README's rewrites, every call has one start and one outcome of the model's kind, and the live report agrees with the events.

import { describe, expect, test } from "bun:test";
import { generateScenario } from "./support/conversation-model.ts";
import { checkRun, runConversation } from "./support/conversation-run.ts";
import { runConversationUrl } from "./support/conversation-url.ts";

const SEEDS = (process.env.MODEL_SEEDS ?? "1,2,3,4,5,6")
  .split(",")
  .map((s) => s.trim())
  .filter((s) => s !== "")
  .flatMap((s) => {
    const [from, to] = s.split("-").map(Number);
    return to === undefined
      ? [from as number]
      : Array.from({ length: to - (from as number) + 1 }, (_, i) => (from as number) + i);
  });

describe("seeded conversations through the stdio proxy, against the model", () => {
  test.each(SEEDS)("seed %d", async (seed) => {
    const scenario = generateScenario(seed, Number(process.env.MODEL_ACTIONS ?? 120));
    // The reference: the same script straight into the server delivers every line byte for byte.
    const bare = await runConversation(scenario, false);
    expect(bare.toServer.map(String)).toEqual(scenario.steps.filter((s) => s.from === "client").map((s) => s.text));
    expect(bare.toClient.map(String)).toEqual(scenario.steps.filter((s) => s.from === "server").map((s) => s.text));
    checkRun(scenario, await runConversation(scenario, true));
  });

  test.each((process.env.MODEL_HUGE_SEEDS ?? "5,8").split(",").map(Number))(
    "seed %d, with lines over the 8 MiB inspection cap",
    async (seed) => {
      const scenario = generateScenario(seed, 60, { huge: true });
      checkRun(scenario, await runConversation(scenario, true));
    },
  );
});

describe("seeded conversations through --url, against the model", () => {
  test.each((process.env.MODEL_URL_SEEDS ?? "1,2,3").split(",").map(Number))("seed %d", async (seed) => {
    const scenario = generateScenario(seed, Number(process.env.MODEL_ACTIONS ?? 120), { url: true });
    checkRun(scenario, await runConversationUrl(scenario), true);
  });
});
