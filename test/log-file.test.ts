// BATON_PROXY_LOG_FILE's writer (src/log-file.ts): every line on stderr, and in the file whenever the file can be written.

import { describe, expect, test } from "bun:test";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOG_FILE_RETRY_MS, logLineWriter } from "../src/log-file.ts";
import { tempDir } from "./support/temp.ts";

describe("a log file that cannot be written for a while", () => {
  test("its directory missing at first (a volume mounted late, a /tmp cleaner): tried again, and written once it can be, saying how many lines it missed", () => {
    // The first failure used to turn the file off for the life of the process: a serve that met a
    // full disk, a missing directory or a burst holding every descriptor never wrote its log file again.
    const dir = join(tempDir(), "later");
    const path = join(dir, "proxy.log");
    const stderr: string[] = [];
    let now = 0;
    const write = logLineWriter(
      path,
      (text) => stderr.push(text),
      undefined,
      () => now,
    );
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
    expect(file.endsWith("baton-proxy: info: four\nbaton-proxy: info: five\n")).toBe(true);
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
      () => 0,
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
