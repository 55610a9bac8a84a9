// Wraps/unwraps one server entry: the new plain value and the text edits on its `command`/`args` ranges only. Pure.

import { LocalError } from "../errors.ts";
import { detectItemSeparator, insertPropertyAfter, removeProperty, renderArray, type TextEdit } from "./json-edits.ts";
import { findProperty, type JsonArrayNode } from "./jsonc.ts";
import {
  ARGS_SEPARATOR,
  REMOTE_ORIGINAL_KEY,
  type OriginalCommand,
  type RemoteTarget,
  type ServerEntry,
  wrappedCommandIndex,
} from "./server-entries.ts";

/**
 * The entry with `command` = the proxy and `args` = `["--", command, …args]`; every other key,
 * and the key order, stays. An entry without `args` gets them right after `command`.
 */
export function wrapEntryValue(value: Readonly<Record<string, unknown>>, execPath: string): Record<string, unknown> {
  const args = Array.isArray(value.args) ? (value.args as string[]) : [];
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "command") {
      setKey(out, "command", execPath);
      if (!("args" in value)) setKey(out, "args", [ARGS_SEPARATOR, item, ...args]);
    } else setKey(out, key, key === "args" ? [ARGS_SEPARATOR, value.command, ...args] : item);
  }
  return out;
}

/** The entry restored from its wrapped form; `args` is left out when empty and `dropEmptyArgs` is set. */
export function unwrapEntryValue(
  value: Readonly<Record<string, unknown>>,
  original: OriginalCommand,
  dropEmptyArgs: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "command") setKey(out, key, original.command);
    else if (key !== "args") setKey(out, key, item);
    else if (!(dropEmptyArgs && original.args.length === 0)) setKey(out, key, [...original.args]);
  }
  return out;
}

/**
 * Text edits that wrap `entry` in `text`: the `command` value becomes the proxy path, and `"--"`
 * plus the original command's raw text are inserted before the first existing arg, separated the
 * way the args already are. Everything inside the args (comments, layout, escapes) stays byte for
 * byte. Empty or missing args become a one-line array (missing ones inserted after `command`).
 */
export function wrapEntryEdits(text: string, entry: ServerEntry, execPath: string): TextEdit[] {
  const command = findProperty(entry.node, "command");
  if (command === undefined) throw new LocalError("E_WRAP", `wrapEntryEdits: ${entry.name} has no command`);
  const args = findProperty(entry.node, "args");
  const fallback = fallbackSeparator(text, command.keyEnd, command.value.start);
  const front = [JSON.stringify(ARGS_SEPARATOR), text.slice(command.value.start, command.value.end)];
  const edits: TextEdit[] = [{ start: command.value.start, end: command.value.end, text: JSON.stringify(execPath) }];
  const first = args?.value.kind === "array" ? args.value.items[0] : undefined;
  if (args?.value.kind === "array" && first !== undefined) {
    const separator = detectItemSeparator(text, args.value, fallback);
    edits.push({ start: first.start, end: first.start, text: front.join(separator) + separator });
  } else if (args !== undefined) {
    edits.push({ start: args.value.start, end: args.value.end, text: renderArray(front, fallback) });
  } else {
    edits.push(insertPropertyAfter(text, entry.node, command, "args", renderArray(front, fallback)));
  }
  return edits;
}

/**
 * Text edits that unwrap `entry`: `command` becomes the raw text of the server command's item
 * (`wrappedCommandIndex`), and the args lose everything up to the item after it (proxy flags,
 * `--`, the command), which undoes `wrapEntryEdits` byte for byte. With nothing left the args
 * become `[]`, or go entirely with `dropEmptyArgs` (the original had none). Throws for an entry
 * whose args hold no server command; callers check `status.original` first.
 */
export function unwrapEntryEdits(text: string, entry: ServerEntry, dropEmptyArgs: boolean): TextEdit[] {
  const command = findProperty(entry.node, "command");
  const args = findProperty(entry.node, "args");
  const array: JsonArrayNode | undefined = args?.value.kind === "array" ? args.value : undefined;
  const values = array?.items.map((item) => (item.kind === "string" ? String(item.value) : "")) ?? [];
  const at = wrappedCommandIndex(values);
  const real = at === undefined ? undefined : array?.items[at];
  const [first] = array?.items ?? [];
  if (
    command === undefined ||
    args === undefined ||
    array === undefined ||
    at === undefined ||
    real === undefined ||
    first === undefined
  ) {
    throw new LocalError("E_WRAP", `unwrapEntryEdits: ${entry.name} has no server command in its args`);
  }
  const edits: TextEdit[] = [
    { start: command.value.start, end: command.value.end, text: text.slice(real.start, real.end) },
  ];
  const keep = array.items[at + 1];
  if (keep !== undefined) edits.push({ start: first.start, end: keep.start, text: "" });
  else if (dropEmptyArgs) edits.push(removeProperty(entry.node, args));
  else edits.push({ start: array.start, end: array.end, text: "[]" });
  return edits;
}

/**
 * A remote entry as a stdio one: `command` = the proxy, `args` = `--url-env MCP_URL` with the URL
 * in `env` (plus `--allow-http` for plain http to a host that is not loopback, as the entry already
 * had it) and one `--header-env Name=MCP_HEADER_NAME` per header, whose value moves (as written,
 * references and all: hosts expand those in `env`) into `env`: secrets never land in args. The args name
 * the variable rather than writing `${MCP_HEADER_NAME}`, which hosts expand in args from their
 * own environment, not the entry's `env` (Claude Code warns "Missing environment variables").
 * `env[BATON_WRAPPED_REMOTE]` keeps the entry's original text so unwrap restores it byte for
 * byte. Other keys stay, in order.
 */
export function wrapRemoteEntryValue(
  value: Readonly<Record<string, unknown>>,
  target: RemoteTarget,
  execPath: string,
  originalText: string,
): Record<string, unknown> {
  const env: Record<string, unknown> = { ...(isPlainObject(value.env) ? value.env : {}) };
  // The URL always moves to env: args are readable by every local user (`ps`, /proc/PID/cmdline),
  // and a URL's path can be its key (`…/mcp/sk-…/sse`) as well as its userinfo or query, which no
  // rule can tell from an ordinary path. In env it also gets the host's `${…}` expansion it had in `url`.
  let urlKey = "MCP_URL";
  for (let n = 2; Object.hasOwn(env, urlKey); n++) urlKey = `MCP_URL_${n}`;
  env[urlKey] = target.url;
  // The host already sent this entry's requests in clear: the proxy may too, and the args say so.
  const args = ["--url-env", urlKey, ...(target.allowHttp ? ["--allow-http"] : [])];
  for (const [name, headerValue] of Object.entries(target.headers)) {
    // `X-Api-Key` and `X_Api_Key` map to one name: a suffix keeps each value (else the last one wins for both).
    let key = headerEnvName(name);
    for (let n = 2; Object.hasOwn(env, key); n++) key = `${headerEnvName(name)}_${n}`;
    args.push("--header-env", `${name}=${key}`);
    env[key] = headerValue;
  }
  env[REMOTE_ORIGINAL_KEY] = originalText;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "type") setKey(out, key, "stdio");
    else if (key === "url") {
      setKey(out, "command", execPath);
      setKey(out, "args", args);
    } else if (key !== "headers" && key !== "env") setKey(out, key, item);
  }
  setKey(out, "env", env);
  return out;
}

/** The env variable a header's value travels in: `X-Api-Key` → `MCP_HEADER_X_API_KEY`. */
export function headerEnvName(header: string): string {
  return `MCP_HEADER_${header.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** One edit replacing the whole entry object: with the wrapped value (compact JSON), or with the original text on unwrap. */
export function replaceEntryEdit(entry: ServerEntry, replacement: string): TextEdit {
  return { start: entry.node.start, end: entry.node.end, text: replacement };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `","` for compact files (`"command":"npx"`), else `", "`: how to separate items we cannot copy. */
function fallbackSeparator(text: string, keyEnd: number, valueStart: number): string {
  return text.slice(keyEnd, valueStart) === ":" ? "," : ", ";
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
