// BATON_PROXY_LOG_FILE's writer (src/log-file.ts): what stderr and the file each get.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { logLineWriter } from "../src/log-file.ts";
import { tempDir } from "./support/temp.ts";

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
