// `baton-proxy report s3://bucket/prefix`: objects written by the S3 sink (several per session, gzip or not) give the same report as the file.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandContext } from "../src/command-context.ts";
import { openS3Lines, parseS3Location, type S3Reader } from "../src/report/read-s3.ts";
import { createS3Client } from "../src/telemetry/sinks/s3-settings.ts";
import { runSubcommand } from "../src/commands.ts";
import { REPORT_SPEC } from "../src/report/report-spec.ts";
import { SYSTEM_CLOCK } from "../src/telemetry/clock.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { createBunS3Put } from "../src/telemetry/sinks/s3-put.ts";
import { createS3Sink } from "../src/telemetry/sinks/s3-sink.ts";
import { makeCall } from "./fixtures/report/build-events.ts";
import { S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY, startLocalS3, type LocalS3 } from "./support/s3-server.ts";

const REALISTIC = join(import.meta.dir, "fixtures/report/realistic.jsonl");
let s3: LocalS3;
let env: Record<string, string>;

async function run(
  args: string[],
  runEnv: Record<string, string> = env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const ctx: CommandContext = {
    env: runEnv,
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    execPath: "/x",
    cwd: "/",
    platform: "linux",
    homeDir: "/",
  };
  return { code: await runSubcommand(REPORT_SPEC, args, ctx), stdout, stderr };
}

/** Uploads `lines` through the real S3 sink (small objects, so a session spans several). */
async function upload(prefix: string, lines: string[], gzip: boolean): Promise<void> {
  const settings = {
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    sessionToken: undefined,
    region: S3_REGION,
    endpoint: s3.endpoint,
    batchMs: 60_000,
    batchBytes: 2_000,
    gzip,
  };
  const sink = createS3Sink({
    label: "s3",
    prefix,
    settings,
    put: createBunS3Put("events", settings),
    clock: SYSTEM_CLOCK,
  });
  for (const line of lines) sink.write(JSON.parse(line) as BatonEvent, line);
  await sink.close();
  expect(sink.droppedEvents).toBe(0);
}

beforeAll(async () => {
  s3 = await startLocalS3(["events"]);
  env = {
    AWS_ACCESS_KEY_ID: S3_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL: s3.endpoint,
  };
  const realistic = readFileSync(REALISTIC, "utf8").trim().split("\n");
  await upload("plain", realistic, false);
  await upload("zipped/deep", realistic, true);
  const other = makeCall(1, "c1", "other_tool", {}, { durationMs: 3 }).map((e) =>
    JSON.stringify({ ...e, session_id: "second-session" }),
  );
  await upload("plain", other, false);
});
afterAll(() => s3.stop());

describe("report s3://", () => {
  test("the report from S3 equals the report from the file (plain and gzip objects)", async () => {
    const fromFile = await run([REALISTIC, "--session", "019a5e7c"]);
    expect(fromFile.code).toBe(0);
    for (const location of ["s3://events/plain", "s3://events/zipped/deep/"]) {
      const fromS3 = await run([location, "--session", "019a5e7c"]);
      expect(fromS3.stderr).toBe("");
      expect(fromS3.code).toBe(0);
      expect(fromS3.stdout.replaceAll(location, "LOCATION")).toBe(fromFile.stdout.replaceAll(REALISTIC, "LOCATION"));
      const json = await run([location, "--session", "019a5e7c", "--format", "json"]);
      expect(json.stdout).toBe((await run([REALISTIC, "--format", "json"])).stdout);
    }
    expect(s3.requests.every((r) => r.signed)).toBe(true);
  });

  test("--list shows every session under the prefix; the latest is the default", async () => {
    const listed = await run(["s3://events/plain", "--list", "--format", "json"]);
    expect(
      JSON.parse(listed.stdout)
        .map((s: { session_id: string }) => s.session_id)
        .sort(),
    ).toEqual(["019a5e7c-3f10-7b2e-9d44-2c1f0a8b7e61", "second-session"]);
  });

  test("the latest session is the one the store got last (its clock, one for every writer), not the one whose writer's clock reads latest", async () => {
    const session = (id: string, at: number): string[] =>
      makeCall(1, `${id}-c`, "alpha", {}, { durationMs: 1 }, at).map((e) => JSON.stringify({ ...e, session_id: id }));
    // A machine whose clock runs two hours ahead wrote first; another, on time, wrote a second later.
    await upload("clocks", session("ahead-machine", 7_200_000), false);
    const second = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === second) await Bun.sleep(50); // the store's times are whole seconds
    await upload("clocks", session("on-time-machine", 0), false);
    const listed = JSON.parse((await run(["s3://events/clocks", "--list", "--format", "json"])).stdout);
    expect(listed.map((s: { session_id: string }) => s.session_id)).toEqual(["ahead-machine", "on-time-machine"]);
    expect((await run(["s3://events/clocks"])).stdout).toContain("`on-time-machine`");
  });

  test("a damaged object (a cut gzip stream) is skipped and named; the other objects still make the report", async () => {
    const settings = {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      sessionToken: undefined,
      region: S3_REGION,
      endpoint: s3.endpoint,
      batchMs: 1,
      batchBytes: 1,
      gzip: false,
    };
    const client = createS3Client("events", settings);
    const events = [
      ...makeCall(1, "c1", "first_tool", {}, { durationMs: 3 }),
      ...makeCall(3, "c2", "second_tool", {}, { durationMs: 4 }),
    ].map((e) => JSON.stringify({ ...e, session_id: "damaged-session" }));
    const folder = "damaged/t/2026/08/10/damaged-session";
    const cut = Bun.gzipSync(Buffer.from(`${events.slice(0, 2).join("\n")}\n`)).subarray(0, 40);
    await client.write(`${folder}/000000000001-000000000002.jsonl.gz`, cut);
    await client.write(`${folder}/000000000003-000000000004.jsonl`, `${events.slice(2).join("\n")}\n`);
    const report = await run(["s3://events/damaged", "--format", "json"]);
    expect(report.code).toBe(0);
    expect(report.stderr).toBe(
      `baton-proxy report: skipped what could not be read of ${folder}/000000000001-000000000002.jsonl.gz (unexpected end of file)\n`,
    );
    expect(JSON.parse(report.stdout).tools.map((t: { tool: string }) => t.tool)).toEqual(["second_tool"]);
  });

  test("an object key is the bucket writer's text: a damaged object's key is named with its terminal controls escaped", async () => {
    const client = createS3Client("events", {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      sessionToken: undefined,
      region: S3_REGION,
      endpoint: s3.endpoint,
      batchMs: 1,
      batchBytes: 1,
      gzip: false,
    });
    const events = makeCall(1, "c1", "first_tool", {}, { durationMs: 3 }).map((e) =>
      JSON.stringify({ ...e, session_id: "hostile-key" }),
    );
    // U+009B is CSI on terminals that read C1 controls; U+202E reverses what follows.
    const key = "hostile/t/2026/08/10/\u009b2J\u202ekey/000000000001-000000000002.jsonl.gz";
    await client.write(key, Bun.gzipSync(Buffer.from(`${events.join("\n")}\n`)).subarray(0, 40));
    await client.write(
      "hostile/t/2026/08/10/\u009b2J\u202ekey/000000000003-000000000004.jsonl",
      `${events.join("\n")}\n`,
    );
    const report = await run(["s3://events/hostile", "--format", "json"]);
    expect(report.code).toBe(0);
    expect(report.stderr).toBe(
      "baton-proxy report: skipped what could not be read of hostile/t/2026/08/10/\\u009b2J\\u202ekey/000000000001-000000000002.jsonl.gz (unexpected end of file)\n",
    );
  });

  test("objects the Python proxy wrote (one per event, prefix/tenant/session/<event_id>.json) give the file's report", async () => {
    const client = createS3Client("events", {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      sessionToken: undefined,
      region: S3_REGION,
      endpoint: s3.endpoint,
      batchMs: 1,
      batchBytes: 1,
      gzip: false,
    });
    const realistic = readFileSync(REALISTIC, "utf8").trim().split("\n");
    // Upstream's body is Python's json.dumps(event): default separators, no newline; event ids are not in sequence order.
    for (const [i, line] of realistic.entries()) {
      const event = JSON.parse(line) as BatonEvent;
      const body = JSON.stringify(event).replaceAll('","', '", "').replaceAll('":', '": ');
      await client.write(`python/customer:acme/${event.session_id}/${String(99 - i).padStart(4, "0")}.json`, body);
    }
    const fromFile = await run([REALISTIC, "--format", "json"]);
    const fromS3 = await run(["s3://events/python", "--format", "json"]);
    expect(fromS3.stderr).toBe("");
    expect(fromS3.code).toBe(0);
    expect(fromS3.stdout).toBe(fromFile.stdout);
  });

  test("event objects with no line in them (empty, or unreadable) are not called an empty file", async () => {
    const client = createS3Client("events", {
      accessKeyId: S3_ACCESS_KEY_ID,
      secretAccessKey: S3_SECRET_ACCESS_KEY,
      sessionToken: undefined,
      region: S3_REGION,
      endpoint: s3.endpoint,
      batchMs: 1,
      batchBytes: 1,
      gzip: false,
    });
    await client.write("hollow/t/2026/08/10/s/000000000001-000000000002.jsonl", "");
    await client.write("hollow/t/2026/08/10/s/000000000003-000000000004.jsonl.gz", "not gzip");
    const report = await run(["s3://events/hollow"]);
    expect(report).toMatchObject({ code: 1, stdout: "" });
    expect(report.stderr).toBe(
      "baton-proxy report: skipped what could not be read of hollow/t/2026/08/10/s/000000000003-000000000004.jsonl.gz (inflate failed)\n" +
        "baton-proxy report: no valid events in s3://events/hollow (no line was read from its event objects)\n",
    );
  });

  test("an s3:// location in any case (S3://, as the sink reads it) is the bucket, not a local path", async () => {
    const lower = await run(["s3://events/plain", "--list"]);
    const upper = await run(["S3://events/plain", "--list"]);
    expect(upper).toEqual({ ...lower, stderr: lower.stderr.replaceAll("s3://", "S3://") });
    expect(upper.code).toBe(0);
  });

  test("clear errors: nothing there, no credentials, bad location", async () => {
    const empty = await run(["s3://events/nothing-here"]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("no event objects under s3://events/nothing-here");
    const noCreds = await run(["s3://events/plain"], { AWS_ENDPOINT_URL: s3.endpoint });
    expect(noCreds.code).toBe(1);
    expect(noCreds.stderr).toContain("needs AWS_ACCESS_KEY_ID");
    const wrong = await run(["s3://events/plain"], { ...env, AWS_SECRET_ACCESS_KEY: "wrong-secret-value" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("cannot list s3://events/plain");
    expect(wrong.stderr).not.toContain("wrong-secret-value");
    // Bun's S3 client says only "an unexpected error has occurred"; its code says what happened.
    const down = await run(["s3://events/plain"], { ...env, AWS_ENDPOINT_URL: "http://127.0.0.1:1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot list s3://events/plain: ConnectionRefused");
    expect(parseS3Location("s3://")).toBeUndefined();
    expect(parseS3Location("s3://b//p/q/")).toEqual({ bucket: "b", prefix: "p/q" });
    // Decoded as BATON_EVENT_SINK's prefix is, so the sink's own location finds its objects.
    expect(parseS3Location("s3://b/team%20a/x%2By")).toEqual({ bucket: "b", prefix: "team a/x+y" });
    expect(parseS3Location("s3://b/bad%zz")).toBeUndefined();
  });

  // README: "Secrets never appear in any output: every URL printed has its credentials, query and fragment masked".
  test("a location that is not s3://bucket/prefix is quoted with its credentials and query masked", async () => {
    const refused = openS3Lines("s3://AKIA:pw-secret@events/baton?token=pw-secret", {});
    await expect(refused).rejects.toThrow("s3://***@events/baton?*** is not s3://bucket/prefix");
    for (const location of ["s3://events/baton#pw-secret", "s3://AKIA:pw-secret@events/baton"]) {
      const message = await openS3Lines(location, {}).then(
        () => "",
        (error: Error) => error.message,
      );
      expect(message).toContain("s3://");
      expect(message).not.toContain("pw-secret");
    }
  });
});

// s3rver cannot answer a truncated listing under Bun (its continuation token is DES, which Bun's crypto lacks), so the pages come from a reader here.
describe("openS3Lines over a listing of several pages", () => {
  test("every page is followed to its end; objects are read in key order, other keys ignored", async () => {
    const key = (session: string, first: number): string =>
      `p/t/2026/08/10/${session}/${String(first).padStart(12, "0")}-${String(first).padStart(12, "0")}.jsonl`;
    const keys = [key("b", 2), "p/readme.txt", key("a", 1), key("b", 1), key("a", 2), "p/t/2026/08/10/a/"];
    const pages = [keys.slice(0, 2), keys.slice(2, 4), keys.slice(4)];
    const tokens: (string | undefined)[] = [];
    const reader: S3Reader = {
      async list({ continuationToken }) {
        tokens.push(continuationToken);
        const at = continuationToken === undefined ? 0 : Number(continuationToken);
        const last = at === pages.length - 1;
        return {
          contents: (pages[at] ?? []).map((k) => ({ key: k })),
          isTruncated: !last,
          ...(last ? {} : { nextContinuationToken: String(at + 1) }),
        };
      },
      file: (k) => ({ stream: () => new Response(`${k}\n`).body as ReadableStream<Uint8Array> }),
    };
    const read = await openS3Lines("s3://bucket/p", {}, reader);
    const lines: string[] = [];
    for await (const line of read()) lines.push(line);
    expect(tokens).toEqual([undefined, "1", "2"]);
    expect(lines).toEqual([key("a", 1), key("a", 2), key("b", 1), key("b", 2)]);
    const onlyB: string[] = [];
    for await (const line of read("b")) onlyB.push(line);
    expect(onlyB).toEqual([key("b", 1), key("b", 2)]);
  });
});

describe("openS3Lines reads several objects at once", () => {
  /** 30 objects; each answers on a later timer turn, as a network GET does; `failAt` cuts that object's stream after its first line. */
  function slowBucket(failAt: number) {
    const key = (i: number): string =>
      `p/t/2026/08/10/s/${String(i * 2 + 1).padStart(12, "0")}-${String(i * 2 + 2).padStart(12, "0")}.jsonl`;
    const keys = Array.from({ length: 30 }, (_, i) => key(i));
    const state = { open: 0, most: 0, opened: 0 };
    const reader: S3Reader = {
      list: async () => ({ contents: [...keys].reverse().map((k) => ({ key: k })), isTruncated: false }),
      file: (k) => ({
        stream: () => {
          state.open += 1;
          state.opened += 1;
          state.most = Math.max(state.most, state.open);
          const i = keys.indexOf(k);
          let sent = 0;
          let closed = false;
          const close = (): void => {
            if (!closed) state.open -= 1;
            closed = true;
          };
          return new ReadableStream<Uint8Array>({
            async pull(controller) {
              await new Promise((resolve) => setTimeout(resolve, 1));
              if (sent === 2) {
                close();
                return controller.close();
              }
              if (sent === 1 && i === failAt) {
                close();
                return controller.error(new Error("connection reset"));
              }
              controller.enqueue(new TextEncoder().encode(`${k} line ${sent}\n`));
              sent += 1;
            },
            cancel: close,
          });
        },
      }),
    };
    return { keys, state, reader };
  }

  test("up to 8 GETs in flight, lines still in key order, a failed object's lines before the failure kept and named once", async () => {
    const { keys, state, reader } = slowBucket(4);
    const warnings: string[] = [];
    const read = await openS3Lines("s3://bucket/p", {}, reader, (text) => warnings.push(text));
    const lines: string[] = [];
    for await (const line of read()) lines.push(line);
    expect(lines).toEqual(keys.flatMap((k, i) => (i === 4 ? [`${k} line 0`] : [`${k} line 0`, `${k} line 1`])));
    expect(warnings).toEqual([`skipped what could not be read of ${keys[4]} (connection reset)`]);
    expect(state.most).toBeGreaterThan(1);
    expect(state.most).toBeLessThanOrEqual(8);
    expect(state.open).toBe(0);
  });

  test("a reader that stops early (the fold meeting an event out of order) leaves no GET open", async () => {
    const { keys, state, reader } = slowBucket(-1);
    const read = await openS3Lines("s3://bucket/p", {}, reader);
    const lines: string[] = [];
    for await (const line of read()) {
      lines.push(line);
      if (lines.length === 5) break;
    }
    expect(lines[4]).toBe(`${keys[2]} line 0`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the cancelled reads' pending pulls settle
    expect(state.open).toBe(0);
    expect(state.opened).toBeLessThanOrEqual(10);
  });
});
