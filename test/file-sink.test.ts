// Unit tests for src/telemetry/sinks/file-sink.ts against a real temp directory.

import { describe, expect, spyOn, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { LocalError } from "../src/errors.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";
import { giveToAnotherUser } from "./support/users.ts";
import type { BatonEvent } from "../src/telemetry/event-types.ts";
import { FILE_OPEN_FLAGS } from "../src/telemetry/sinks/event-file.ts";
import { createFileSink, FILE_REOPEN_INTERVAL_MS, type FileSinkOptions } from "../src/telemetry/sinks/file-sink.ts";
import { tempDir } from "./support/temp.ts";
import { createDispatcher } from "../src/telemetry/dispatcher.ts";
import { createFakeClock } from "./support/fake-clock.ts";

const dir = tempDir("baton-file-sink-");
let counter = 0;
const freshPath = (): string => path.join(dir, `events-${counter++}.jsonl`);
const event = {} as BatonEvent; // the sink only writes the pre-serialised line
const line = (i: number): string => JSON.stringify({ sequence_number: i, text: "naïve ✓" });

function setup(overrides: Partial<FileSinkOptions> = {}) {
  const logger = createMemoryLogger();
  let now = 0;
  let writes = 0;
  const sink = createFileSink({
    path: freshPath(),
    logger,
    now: () => now,
    createWriter: (fd) => {
      const real = Bun.file(fd).writer();
      return { write: (chunk) => (writes++, real.write(chunk)), flush: () => real.flush(), end: (e) => real.end(e) };
    },
    ...overrides,
  });
  const file = sink.label.slice("file://".length);
  return { sink, logger, file, writes: () => writes, advance: (ms: number) => void (now += ms) };
}

async function send(sink: ReturnType<typeof setup>["sink"], from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) sink.write(event, line(i));
  await sink.flush();
}

describe("file sink", () => {
  test("O_NOFOLLOW exists on this platform and is part of the open flags", () => {
    expect(fs.constants.O_NOFOLLOW).toBeGreaterThan(0);
    expect(FILE_OPEN_FLAGS & fs.constants.O_NOFOLLOW).toBe(fs.constants.O_NOFOLLOW);
  });

  test("creates the file 0600 lazily, one write per flush, every line valid JSON", async () => {
    const { sink, file, writes } = setup();
    sink.write(event, line(0));
    expect(fs.existsSync(file)).toBe(false); // nothing opened before the first flush
    await sink.flush();
    await send(sink, 1, 1000);
    await send(sink, 1000, 2000);
    await sink.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(writes()).toBe(3);
    const lines = fs.readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines.map((l) => (JSON.parse(l) as { sequence_number: number }).sequence_number)).toEqual(
      Array.from({ length: 2000 }, (_, i) => i),
    );
  });

  test("appends to an existing file and keeps its mode, warning when others can read it", async () => {
    const { sink, file, logger } = setup();
    fs.writeFileSync(file, "existing\n", { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    await send(sink, 0, 2);
    await sink.close();
    expect(fs.readFileSync(file, "utf8")).toBe(`existing\n${line(0)}\n${line(1)}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(logger.lines.filter((l) => l.includes("mode 644"))).toHaveLength(1);
  });

  test("Windows: no mode warning (every writable file there stats as 666 and chmod cannot narrow it: it fired at every start)", async () => {
    const { sink, file, logger } = setup({ platform: "win32" });
    fs.writeFileSync(file, "existing\n", { mode: 0o666 });
    fs.chmodSync(file, 0o666);
    await send(sink, 0, 2);
    await sink.close();
    expect(fs.readFileSync(file, "utf8")).toBe(`existing\n${line(0)}\n${line(1)}\n`);
    expect(logger.lines).toEqual([]);
  });

  test("refuses a symlink planted at the path, leaves the target untouched, survives", async () => {
    const { sink, file, logger, advance } = setup();
    const target = path.join(dir, "victim.txt");
    fs.writeFileSync(target, "precious\n");
    fs.symlinkSync(target, file);
    for (let round = 0; round < 3; round++) {
      sink.write(event, line(round));
      const error = await sink.flush().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LocalError);
      expect((error as LocalError).code).toBe("E_SINK");
      advance(FILE_REOPEN_INTERVAL_MS);
    }
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n");
    const warnings = logger.lines.filter((l) => l.includes("symbolic link"));
    expect(warnings).toHaveLength(1); // once, not per attempt
    expect(warnings[0]).toContain(file);
    await sink.close();
  });

  // O_NOFOLLOW does not see a hard link: where the OS lets a user link another's file (macOS, Linux
  // with fs.protected_hardlinks=0), one planted at the /tmp path names the victim's own file.
  test("refuses a hard link planted at the path (a second name of another file), leaves that file untouched", async () => {
    const { sink, file, logger } = setup();
    const target = path.join(dir, "victim-rc");
    fs.writeFileSync(target, "precious\n");
    fs.linkSync(target, file);
    sink.write(event, line(0));
    const error = await sink.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LocalError);
    expect(fs.readFileSync(target, "utf8")).toBe("precious\n");
    expect(logger.lines.filter((l) => l.includes("hard link"))).toHaveLength(1);
    // Plain words for the user: the proxy's internal code (E_SINK) is for the program, not the log.
    expect(logger.lines.find((l) => l.includes("hard link"))).toInclude(
      `file sink ${file}: cannot open: has other hard links (refused: it is another file's name too); its events are dropped`,
    );
    expect(String((error as Error).message)).not.toInclude("E_SINK");
    await sink.close();
  });

  test("a missing directory is logged once, survived, and retried at most every interval", async () => {
    const parent = path.join(dir, `later-${counter++}`);
    let opens = 0;
    const { sink, logger, advance } = setup({
      path: path.join(parent, "events.jsonl"),
      openFile: (p) => (opens++, fs.openSync(p, FILE_OPEN_FLAGS, 0o600)),
    });
    await expect(send(sink, 0, 1)).rejects.toThrow("ENOENT");
    await expect(send(sink, 1, 2)).rejects.toThrow("not open");
    expect(opens).toBe(1);
    fs.mkdirSync(parent);
    advance(FILE_REOPEN_INTERVAL_MS);
    await send(sink, 2, 3);
    await sink.close();
    expect(opens).toBe(2);
    expect(logger.lines.filter((l) => l.includes("ENOENT"))).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes("writable again"))).toBe(true);
    expect(fs.readFileSync(path.join(parent, "events.jsonl"), "utf8")).toBe(`${line(2)}\n`);
  });

  test("without a clock given, the reopen is paced on the monotonic clock: the wall clock set back an hour does not hold it an hour", async () => {
    const parent = path.join(dir, `stepped-${counter++}`);
    const logger = createMemoryLogger();
    const wall = Date.now();
    const monotonic = performance.now();
    const wallSpy = spyOn(Date, "now").mockReturnValue(wall);
    const monotonicSpy = spyOn(performance, "now").mockReturnValue(monotonic);
    try {
      const sink = createFileSink({ path: path.join(parent, "events.jsonl"), logger });
      await expect(send(sink, 0, 1)).rejects.toThrow("ENOENT");
      fs.mkdirSync(parent);
      // The interval has passed, and meanwhile the wall clock was set back an hour.
      wallSpy.mockReturnValue(wall - 3_600_000 + FILE_REOPEN_INTERVAL_MS);
      monotonicSpy.mockReturnValue(monotonic + FILE_REOPEN_INTERVAL_MS);
      await send(sink, 1, 2);
      await sink.close();
    } finally {
      wallSpy.mockRestore();
      monotonicSpy.mockRestore();
    }
    expect(fs.readFileSync(path.join(parent, "events.jsonl"), "utf8")).toBe(`${line(1)}\n`);
  });

  test("one descriptor for the session: every flush reuses it, and recovery is logged once, not at every later batch", async () => {
    const parent = path.join(dir, `reuse-${counter++}`);
    let opens = 0;
    const { sink, logger, advance } = setup({
      path: path.join(parent, "events.jsonl"),
      openFile: (p) => (opens++, fs.openSync(p, FILE_OPEN_FLAGS, 0o600)),
    });
    await expect(send(sink, 0, 1)).rejects.toThrow("ENOENT");
    fs.mkdirSync(parent);
    advance(FILE_REOPEN_INTERVAL_MS);
    for (let i = 1; i < 5; i++) await send(sink, i, i + 1);
    await sink.close();
    expect(opens).toBe(2); // the failed open and the one that recovered
    expect(logger.lines.filter((l) => l.includes("writable again"))).toHaveLength(1);
  });

  test("a failed write releases the descriptor and waits the interval like a failed open: the next batch is dropped unwritten", async () => {
    let writes = 0;
    let opens = 0;
    const file = freshPath();
    const { sink, advance } = setup({
      path: file,
      openFile: (p) => (opens++, fs.openSync(p, FILE_OPEN_FLAGS, 0o600)),
      createWriter: (fd) => {
        const real = Bun.file(fd).writer();
        return {
          write: (chunk) => {
            if (writes++ === 0) throw Object.assign(new Error("EIO: i/o error, write"), { code: "EIO" });
            return real.write(chunk);
          },
          flush: () => real.flush(),
          end: (e) => real.end(e),
        };
      },
    });
    await expect(send(sink, 0, 1)).rejects.toThrow("EIO");
    await expect(send(sink, 1, 2)).rejects.toThrow("not open");
    expect([writes, opens]).toEqual([1, 1]);
    advance(FILE_REOPEN_INTERVAL_MS);
    await send(sink, 2, 3);
    await sink.close();
    expect(opens).toBe(2);
    expect(fs.readFileSync(file, "utf8")).toBe(`${line(2)}\n`);
  });

  test("once flush() resolves, its batch is in the file (a report run while the session goes on reads it), not in a buffer", async () => {
    const { sink, file } = setup();
    await send(sink, 0, 3);
    expect(fs.readFileSync(file, "utf8")).toBe(`${line(0)}\n${line(1)}\n${line(2)}\n`);
    await send(sink, 3, 4);
    expect(fs.readFileSync(file, "utf8").endsWith(`${line(3)}\n`)).toBe(true);
    await sink.close();
  });

  test("a line left unfinished in the file, at the open or by another proxy between batches, gets one line break before ours, never an empty line", async () => {
    const file = freshPath();
    fs.writeFileSync(file, "fragment-at-open", { mode: 0o600 });
    const { sink } = setup({ path: file });
    await send(sink, 0, 1);
    await send(sink, 1, 2);
    fs.appendFileSync(file, "fragment-between");
    await send(sink, 2, 3);
    await send(sink, 3, 4);
    await sink.close();
    expect(fs.readFileSync(file, "utf8")).toBe(
      `fragment-at-open\n${line(0)}\n${line(1)}\nfragment-between\n${line(2)}\n${line(3)}\n`,
    );
  });

  test("out of file descriptors (EMFILE) is the process's own, passing state: the next batch tries again, no interval", async () => {
    const file = freshPath();
    let exhausted = true;
    const { sink, logger } = setup({
      path: file,
      openFile: (p) => {
        if (exhausted) throw Object.assign(new Error("EMFILE: too many open files, open"), { code: "EMFILE" });
        return fs.openSync(p, FILE_OPEN_FLAGS, 0o600);
      },
    });
    await expect(send(sink, 0, 1)).rejects.toThrow("EMFILE");
    exhausted = false; // the burst's sockets closed, no time passed
    await send(sink, 1, 2);
    await sink.close();
    expect(fs.readFileSync(file, "utf8")).toBe(`${line(1)}\n`);
    expect(logger.lines.filter((l) => l.includes("EMFILE"))).toHaveLength(1);
  });

  test.each([
    ["EACCES on open", "EACCES"],
    ["a FIFO at the path (no reader: O_NONBLOCK fails the open instead of blocking)", "ENXIO"],
  ])("%s is logged and survived", async (_name, expected) => {
    const file = freshPath();
    let openFile: ((p: string) => number) | undefined;
    if (expected === "EACCES") {
      // Tests may run as root, which ignores permission bits: inject the failure.
      openFile = () => {
        throw Object.assign(new Error("EACCES: permission denied, open"), { code: "EACCES" });
      };
    } else {
      Bun.spawnSync(["mkfifo", file]);
    }
    const { sink, logger } = setup({ path: file, ...(openFile ? { openFile } : {}) });
    await expect(send(sink, 0, 1)).rejects.toThrow(expected); // a FIFO must not block the open
    expect(logger.lines.filter((l) => l.includes(expected))).toHaveLength(1);
    await sink.close();
  });

  test("a FIFO with a reader is refused as not a regular file (events would leak to whoever reads it)", async () => {
    const file = freshPath();
    Bun.spawnSync(["mkfifo", file]);
    const reader = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const { sink } = setup({ path: file });
      await expect(send(sink, 0, 1)).rejects.toThrow("not a regular file");
      await sink.close();
    } finally {
      fs.closeSync(reader);
    }
  });

  // Root chowns directly; anyone else through passwordless sudo (CI runners); skipped only where neither works.
  const probe = freshPath();
  fs.writeFileSync(probe, "");
  const otherUid = giveToAnotherUser(probe);
  test.skipIf(otherUid === undefined)("a file owned by another user is refused", async () => {
    const file = freshPath();
    fs.writeFileSync(file, "");
    fs.chmodSync(file, 0o666);
    giveToAnotherUser(file);
    const { sink, logger } = setup({ path: file });
    await expect(send(sink, 0, 1)).rejects.toThrow(`owned by uid ${otherUid}`);
    expect(logger.lines.filter((l) => l.includes("owned by uid"))).toHaveLength(1);
    expect(fs.readFileSync(file, "utf8")).toBe("");
    await sink.close();
  });

  // /dev/full exists on Linux and the BSDs, not on macOS or Windows.
  test.skipIf(!fs.existsSync("/dev/full"))(
    "a full disk (ENOSPC from /dev/full) fails the batch, is logged once, and the sink keeps trying",
    async () => {
      const { sink, logger, advance } = setup({
        path: "/dev/full",
        openFile: (p) => fs.openSync(p, fs.constants.O_WRONLY), // bypass the regular-file check for the device
      });
      for (let round = 0; round < 3; round++) {
        await expect(send(sink, 0, 100)).rejects.toThrow(round === 0 ? "ENOSPC" : /ENOSPC|not open/);
        advance(FILE_REOPEN_INTERVAL_MS);
      }
      expect(logger.lines.filter((l) => l.includes("ENOSPC") && l.includes("cannot write"))).toHaveLength(1);
      await sink.close();
    },
  );

  test("after a write cut short (ENOSPC mid-batch), the next batch starts on a new line: no event is glued to the fragment", async () => {
    let failNext = false;
    const { sink, file, advance } = setup({
      createWriter: (fd) => {
        const real = Bun.file(fd).writer();
        return {
          write: (chunk) => {
            if (!failNext) return real.write(chunk);
            failNext = false;
            real.write(String(chunk).slice(0, 30)); // the disk took part of the batch, then was full
            real.flush();
            throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
          },
          flush: () => real.flush(),
          end: (e) => real.end(e),
        };
      },
    });
    await send(sink, 0, 1);
    failNext = true;
    await expect(send(sink, 1, 3)).rejects.toThrow("ENOSPC");
    advance(FILE_REOPEN_INTERVAL_MS);
    await send(sink, 3, 5);
    await sink.close();
    const lines = fs.readFileSync(file, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    const parsed = lines.slice(0, -1).flatMap((l) => {
      try {
        return [JSON.parse(l).sequence_number as number];
      } catch {
        return [];
      }
    });
    expect(parsed).toEqual([0, 3, 4]);
  });

  test.each([
    ["inside the third line", (ends: number[]) => (ends[1] as number) + 1 + 10, [0, 1]],
    ["just before the second line's newline", (ends: number[]) => ends[1] as number, [0, 1]],
    ["inside the first line", () => 5, []],
  ])(
    "a write cut short (EFBIG, ENOSPC) counts as dropped only the events that did not land whole, in the log and the dispatcher's count (cut %s)",
    async (_where, cutAt, landed) => {
      let failNext = false;
      const { sink, file, logger, advance } = setup({
        createWriter: (fd) => {
          const real = Bun.file(fd).writer();
          return {
            write: (chunk) => {
              if (!failNext) return real.write(chunk);
              failNext = false;
              // The file took the batch's first bytes, then its size limit was reached.
              const bytes = Buffer.from(String(chunk));
              const ends: number[] = [];
              for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) ends.push(i);
              real.write(bytes.subarray(0, cutAt(ends)));
              real.flush();
              return Promise.reject(Object.assign(new Error("EFBIG: file too large, write"), { code: "EFBIG" }));
            },
            flush: () => real.flush(),
            end: (e) => real.end(e),
          };
        },
      });
      const clock = createFakeClock();
      const dispatcher = createDispatcher({
        sinks: [sink],
        logger,
        clock,
        maxBatch: 8,
        maxQueue: 100,
        flushIntervalMs: 100,
        exportTimeoutMs: 1_000,
      });
      const batch = Array.from({ length: 4 }, (_, i) => ({ ...({} as BatonEvent), sequence_number: i }));
      failNext = true;
      for (const e of batch) dispatcher.enqueue(e, 1);
      clock.advance(100);
      const dropLine = () => logger.lines.find((l) => l.includes(` event(s) for ${sink.label}: flush failed: `));
      for (let i = 0; i < 100 && dropLine() === undefined; i++) await new Promise((resolve) => setImmediate(resolve));
      const lost = 4 - landed.length;
      expect(dispatcher.dropped).toBe(lost);
      expect(dropLine()).toContain(`dropped ${lost} event(s) for ${sink.label}: flush failed: `);
      expect(dropLine()).toContain(`EFBIG`);
      expect(dropLine()).toContain(`; ${lost} event(s) dropped`);
      // The next batch starts on a new line: the fragment (a prefix of a JSON object) stays unreadable.
      advance(FILE_REOPEN_INTERVAL_MS);
      await send(sink, 10, 11);
      await sink.close();
      const parsed = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .flatMap((l) => {
          try {
            return [JSON.parse(l).sequence_number as number];
          } catch {
            return [];
          }
        });
      expect(parsed).toEqual([...landed, 10]);
    },
  );

  test("another proxy's line still being written when a batch starts is not taken for a fragment: no blank line is added", async () => {
    const { sink, file } = setup();
    await send(sink, 0, 1);
    // Another proxy sharing the file is inside its write (its process stalled between pages): the
    // file ends mid-line for a moment, then that write ends its own line.
    fs.appendFileSync(file, '{"sequence_number":"theirs"');
    const finished = Bun.sleep(10).then(() => fs.appendFileSync(file, "}\n"));
    await send(sink, 1, 2);
    await finished;
    await sink.close();
    expect(fs.readFileSync(file, "utf8")).toBe(`${line(0)}\n{"sequence_number":"theirs"}\n${line(1)}\n`);
  });

  test("writes after close are ignored", async () => {
    const { sink, file } = setup();
    await send(sink, 0, 1);
    await sink.close();
    sink.write(event, line(1));
    await sink.flush();
    expect(fs.readFileSync(file, "utf8")).toBe(`${line(0)}\n`);
  });
});

describe("file sink: the file disappears under it", () => {
  const seqs = (file: string) =>
    fs
      .readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => (JSON.parse(l) as { sequence_number: number }).sequence_number);

  test("deleted: the next flush recreates the path (0600) and says so once", async () => {
    const { sink, file, logger } = setup();
    await send(sink, 0, 2);
    fs.unlinkSync(file);
    await send(sink, 2, 4);
    await send(sink, 4, 5);
    await sink.close();
    expect(seqs(file)).toEqual([2, 3, 4]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(logger.lines.filter((l) => l.includes("reopening"))).toHaveLength(1);
    expect(logger.lines.find((l) => l.includes("reopening"))).toContain("was deleted");
  });

  test("renamed (rotation): old events stay in the rotated file, new ones go to the path", async () => {
    const { sink, file, logger } = setup();
    await send(sink, 0, 2);
    fs.renameSync(file, `${file}.1`);
    await send(sink, 2, 3);
    await sink.close();
    expect(seqs(`${file}.1`)).toEqual([0, 1]);
    expect(seqs(file)).toEqual([2]);
    expect(logger.lines.filter((l) => l.includes("reopening"))).toHaveLength(1);
  });

  test("replaced by a symlink: the reopen refuses it like the first open would", async () => {
    const { sink, file, logger } = setup();
    await send(sink, 0, 1);
    const target = `${file}.target`;
    fs.writeFileSync(target, "");
    fs.unlinkSync(file);
    fs.symlinkSync(target, file);
    sink.write(event, line(1));
    const refused = await sink.flush().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(LocalError);
    expect(fs.readFileSync(target, "utf8")).toBe("");
    expect(logger.lines.some((l) => l.includes("replaced") && l.includes("reopening"))).toBe(true);
    expect(logger.lines.some((l) => l.includes("symbolic link"))).toBe(true);
    await sink.close();
  });
});
