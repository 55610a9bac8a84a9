// BATON_PROXY_LOG_FILE's writer (src/log-file.ts): every line on stderr, and in the file (dated, with the pid) whenever the file can be written.

import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { appendToLogFile, LOG_FILE_RETRY_MS, logLineWriter } from "../src/log-file.ts";
import { tempDir } from "./support/temp.ts";

describe("a log file that cannot be written for a while", () => {
  test("its directory missing at first (a volume mounted late, a /tmp cleaner): tried again, and written once it can be, saying how many lines it missed", () => {
    // The first failure used to turn the file off for the life of the process: a serve that met a
    // full disk, a missing directory or a burst holding every descriptor never wrote its log file again.
    const dir = join(tempDir(), "later");
    const path = join(dir, "proxy.log");
    const stderr: string[] = [];
    let now = 0;
    const write = logLineWriter(path, (text) => stderr.push(text), undefined, { monotonic: () => now });
    write("baton-proxy: info: one\n");
    expect(stderr.filter((l) => l.includes(`cannot write the log file ${path}`))).toHaveLength(1);
    write("baton-proxy: info: two\n");
    mkdirSync(dir);
    now += 1_000;
    write("baton-proxy: info: three\n"); // within the interval: not tried yet
    now += LOG_FILE_RETRY_MS;
    write("baton-proxy: info: four\n");
    write("baton-proxy: info: five\n");
    expect(stderr.filter((l) => l.includes("cannot write the log file"))).toHaveLength(1); // said once
    const file = readFileSync(path, "utf8");
    expect(file).toContain("3 line(s) logged meanwhile are on stderr only");
    expect(file).toMatch(/ baton-proxy: info: four\n\S+ \[\d+\] baton-proxy: info: five\n$/);
    for (const word of ["one", "two", "three", "four", "five"])
      expect(stderr).toContain(`baton-proxy: info: ${word}\n`);
  });

  test("out of file descriptors (EMFILE): tried again with the next line, not after the interval", () => {
    const path = join(tempDir(), "proxy.log");
    const stderr: string[] = [];
    let descriptors = false;
    const write = logLineWriter(
      path,
      (text) => stderr.push(text),
      undefined,
      { monotonic: () => 0 },
      (p, line) => {
        if (!descriptors) throw Object.assign(new Error("EMFILE: too many open files, open"), { code: "EMFILE" });
        appendFileSync(p, line);
      },
    );
    write("baton-proxy: warn: a\n");
    descriptors = true;
    write("baton-proxy: warn: b\n");
    expect(readFileSync(path, "utf8")).toContain("baton-proxy: warn: b\n");
    expect(stderr.filter((l) => l.includes("cannot write the log file"))).toHaveLength(1);
  });
});

test("the file's lines carry their UTC time and the process id (proxies of several hosts append to one file over days); stderr's do not", () => {
  const file = join(tempDir("baton-log-file-"), "proxy.log");
  const stderr: string[] = [];
  let now = Date.parse("2026-12-31T23:59:59.998Z");
  const write = logLineWriter(file, (text) => void stderr.push(text), undefined, { now: () => now, pid: 4242 });
  write("baton-proxy: info: one\n");
  now += 5;
  write("baton-proxy: warn: two\n");
  expect(stderr).toEqual(["baton-proxy: info: one\n", "baton-proxy: warn: two\n"]); // the host dates its stderr itself
  expect(readFileSync(file, "utf8")).toBe(
    "2026-12-31T23:59:59.998Z [4242] baton-proxy: info: one\n2027-01-01T00:00:00.003Z [4242] baton-proxy: warn: two\n",
  );
});

describe("a line cut short in the log file", () => {
  test("a full disk taking only part of a line is a failed write, said on stderr, not a silent fragment", () => {
    // writeSync reports a short write by its count, not by throwing: the rest of the line was lost unsaid.
    const path = join(tempDir(), "proxy.log");
    const stderr: string[] = [];
    let room = 20;
    const fullDisk = (fd: number, buffer: Uint8Array, offset: number, length: number): number => {
      if (room === 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      const n = writeSync(fd, buffer, offset, Math.min(length, room));
      room -= n;
      return n;
    };
    const write = logLineWriter(
      path,
      (text) => stderr.push(text),
      undefined,
      { monotonic: () => 0 },
      (p, line) => appendToLogFile(p, line, fullDisk),
    );
    write("baton-proxy: warn: a line longer than the room left on the disk\n");
    expect(stderr.filter((l) => l.includes(`cannot write the log file ${path}: ENOSPC`))).toHaveLength(1);
  });

  test("the next line, from this process or another, starts on a line of its own, not glued to the fragment", () => {
    const path = join(tempDir(), "proxy.log");
    writeFileSync(path, "2026-12-02T12:55:32.079Z [13289] baton-proxy: warn: unknown variable BATON_X is ign", {
      mode: 0o600,
    });
    appendToLogFile(path, "2026-12-02T12:55:35.792Z [13425] baton-proxy: info: next\n");
    appendToLogFile(path, "2026-12-02T12:55:35.793Z [13425] baton-proxy: info: and the one after\n");
    expect(readFileSync(path, "utf8").split("\n")).toEqual([
      "2026-12-02T12:55:32.079Z [13289] baton-proxy: warn: unknown variable BATON_X is ign",
      "2026-12-02T12:55:35.792Z [13425] baton-proxy: info: next",
      "2026-12-02T12:55:35.793Z [13425] baton-proxy: info: and the one after",
      "",
    ]);
  });
});
