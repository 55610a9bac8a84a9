// Single BATON_* values checked on their own: those also read outside loadConfig (auth login, the token store, report: upstream timeout, config directory, default event file), the capture list, which secrets an HTTP header can carry. Pure.

import path from "node:path";
import { clip } from "./config-sinks.ts";

export const DEFAULT_FILE_SINK_PATH = "/tmp/baton-proxy.jsonl";
/** BATON_UPSTREAM_TIMEOUT's default, as upstream's (60 s). */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;
/**
 * BATON_UPSTREAM_TIMEOUT's bounds in milliseconds: it is a timer, and a value that rounds to 0 ms,
 * or one past setTimeout's limit (2^31 - 1 ms, ~24.8 days: a longer delay fires after 1 ms), would
 * time every request out at once.
 */
export const UPSTREAM_TIMEOUT_RANGE_MS = [1, 2_147_483_647] as const;

/**
 * BATON_UPSTREAM_TIMEOUT in milliseconds (the default when unset), or the problem with its value
 * (also read alone by `auth login`, which bounds its OAuth requests by it).
 */
export function upstreamTimeoutOf(raw: string | undefined): number | string {
  if (raw === undefined) return DEFAULT_UPSTREAM_TIMEOUT_MS;
  // Seconds as a float, in every decimal spelling upstream's float() reads (5., 1e3, +2.5: a fleet shares
  // this env); unlike upstream (which warns and uses the default) a bad value is refused like every other
  // BATON_* value: a typo must not silently change a timeout. inf/nan give no timer; `_` separators are refused.
  const ms = Math.round(Number(raw) * 1000);
  const [least, most] = UPSTREAM_TIMEOUT_RANGE_MS;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw) && ms >= least && ms <= most) return ms;
  return `BATON_UPSTREAM_TIMEOUT must be a positive number of seconds, from ${least / 1000} to ${Math.floor(most / 1000)} (got "${clip(raw)}")`;
}

/** The refusal of a relative BATON_PROXY_LOG_FILE, for the same reason as a relative BATON_CONFIG_DIR's. */
export const RELATIVE_LOG_FILE =
  "BATON_PROXY_LOG_FILE must be an absolute path (~ is expanded by shells only, not in a host's env): a relative one is opened under whatever directory the host starts the proxy in";

/** The refusal of a relative BATON_CONFIG_DIR (also thrown by the token store, for `auth`). */
export const RELATIVE_CONFIG_DIR =
  "BATON_CONFIG_DIR must be an absolute path (~ is expanded by shells only, not in a host's env): a relative one puts the sign-in tokens under whatever directory the host starts the proxy in";

/**
 * The default file sink's path: /tmp/baton-proxy.jsonl; on Windows in the temp directory, found as
 * node's os.tmpdir() finds it (there /tmp names \tmp on the current drive, which rarely exists).
 */
export function defaultFileSinkPath(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform = process.platform,
): string {
  if (platform !== "win32") return DEFAULT_FILE_SINK_PATH;
  const temp = env.TEMP || env.TMP || `${env.SystemRoot || env.windir || "C:\\Windows"}\\Temp`;
  return path.win32.join(temp, "baton-proxy.jsonl");
}

/** Whether two absolute paths name one file by their text (`//` and `.` segments aside; on Windows, case too). */
export function sameAbsolutePath(a: string, b: string, platform: NodeJS.Platform = process.platform): boolean {
  const p = platform === "win32" ? path.win32 : path.posix;
  if (!p.isAbsolute(a) || !p.isAbsolute(b)) return false;
  const [x, y] = [p.normalize(a), p.normalize(b)];
  return platform === "win32" ? x.toLowerCase() === y.toLowerCase() : x === y;
}

/** `text` is an absolute path on `platform` (default: this process's). */
export function isAbsolutePath(text: string, platform: NodeJS.Platform = process.platform): boolean {
  return (platform === "win32" ? path.win32 : path.posix).isAbsolute(text);
}

/** True when an HTTP header can carry `text` (fetch refuses a line break, NUL or a character beyond U+00FF). */
export function headerSafe(text: string): boolean {
  return !/[\r\n\0\u0100-\uffff]/.test(text);
}

/** The problem of a secret an HTTP header cannot carry (the value is never quoted). */
export function unsendable(name: string): string {
  return `${name} has a line break, NUL or a character beyond U+00FF (it is sent in an HTTP header, which cannot carry it)`;
}

export type CaptureGroup = "tools" | "resources" | "prompts";
const CAPTURE_GROUPS: readonly CaptureGroup[] = ["tools", "resources", "prompts"];

/**
 * BATON_CAPTURE's groups (all three when unset; none for `none`), each problem pushed to `problems`.
 * Unknown groups stay in the list: a caller with problems uses none of it.
 */
export function parseCapture(raw: string | undefined, problems: string[]): string[] {
  const captureList = (raw ?? CAPTURE_GROUPS.join(","))
    .split(",")
    .map((g) => g.trim().toLowerCase())
    .filter((g) => g !== "");
  // `none` says it outright; a list of only commas is refused, as an empty value means all three.
  if (captureList.length === 0)
    problems.push(
      "BATON_CAPTURE lists no group (to record no tool, resource or prompt events write none; unset, it records all three)",
    );
  else if (captureList.includes("none")) {
    if (captureList.length > 1) problems.push('BATON_CAPTURE "none" cannot be listed with groups');
    captureList.length = 0;
  }
  for (const group of captureList) {
    if (!(CAPTURE_GROUPS as readonly string[]).includes(group))
      problems.push(`BATON_CAPTURE lists unknown group "${clip(group)}" (known: ${CAPTURE_GROUPS.join(", ")})`);
  }
  return captureList;
}
