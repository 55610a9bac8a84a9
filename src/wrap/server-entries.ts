// Finds the server entries in a parsed config and classifies each (stdio / wrapped / remote), gathering every shape problem. Pure: no edits, no I/O.

import { parseArgs } from "../cli.ts";
import { HEADER_NAME, isLoopback, isReservedHeader } from "../remote/remote-options.ts";
import type { ConfigFormat } from "./config-locations.ts";
import { describeKind, toPlainValue, type JsonNode, type JsonObjectNode } from "./jsonc.ts";

/** What separates proxy flags from the real server command in a wrapped entry's args. */
export const ARGS_SEPARATOR = "--";

/** A binary name that is baton-proxy: installed name or a release asset name, `.exe` on Windows. */
const PROXY_BASENAME = /^baton-proxy(?:-(?:linux|darwin|windows)-(?:x64|arm64))?(?:\.exe)?$/i;

/** The original server command recovered from a wrapped entry's args. */
export interface OriginalCommand {
  readonly command: string;
  readonly args: readonly string[];
}

/** A remote (url) entry that `wrap` can turn into `baton-proxy --url-env MCP_URL …`. */
export interface RemoteTarget {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Plain http:// to a host that is not loopback: the proxy needs `--allow-http` to do what the host did. */
  readonly allowHttp: boolean;
}

/** The env key of a wrapped remote entry holding the original entry's exact text (unwrap puts it back). */
export const REMOTE_ORIGINAL_KEY = "BATON_WRAPPED_REMOTE";

export type EntryStatus =
  | { readonly kind: "stdio" }
  /**
   * `original` is undefined when the args hold no `--` followed by a command (cannot be unwrapped
   * that way); `remoteText` is the original text of a wrapped remote entry.
   */
  | { readonly kind: "wrapped"; readonly original: OriginalCommand | undefined; readonly remoteText?: string }
  /** `target` is set when the entry can be wrapped with `--url` (a url string, headers of strings). */
  | { readonly kind: "remote"; readonly reason: string; readonly target?: RemoteTarget };

export interface ServerEntry {
  readonly name: string;
  /** The project path for `projects[<path>].mcpServers` entries of `.claude.json`; undefined elsewhere. */
  readonly project: string | undefined;
  /** JSON path from the root to the entry object, e.g. `["mcpServers", "github"]`. */
  readonly path: readonly string[];
  readonly node: JsonObjectNode;
  readonly value: Readonly<Record<string, unknown>>;
  readonly status: EntryStatus;
}

/** Every entry found, and every problem (a non-empty list means the file must not be edited). */
export interface FoundEntries {
  readonly entries: ServerEntry[];
  readonly problems: string[];
}

/**
 * Lists the server entries of a parsed config. Missing containers are fine (no servers); a
 * container or entry of the wrong JSON type, or a stdio entry with a bad `command`/`args`, is a
 * problem. All problems are gathered so the user can fix them in one go.
 */
export function findServerEntries(root: JsonNode, format: ConfigFormat, execPath: string): FoundEntries {
  const entries: ServerEntry[] = [];
  const problems: string[] = [];
  if (root.kind !== "object")
    return { entries, problems: [`the file holds ${describeKind(root)}, expected an object`] };

  const containers: Array<{ path: string[]; node: JsonNode; project?: string }> = [];
  const top = format === "servers" ? "servers" : "mcpServers";
  const topNode = childOf(root, top);
  if (topNode !== undefined) containers.push({ path: [top], node: topNode });
  const projects = format === "claude-json" ? childOf(root, "projects") : undefined;
  if (projects !== undefined && projects.kind !== "object")
    problems.push(`projects is ${describeKind(projects)}, expected an object`);
  if (projects?.kind === "object") {
    for (const project of projects.properties) {
      if (project.value.kind !== "object") continue; // Claude Code's own state; not ours to judge
      const servers = childOf(project.value, "mcpServers");
      if (servers !== undefined)
        containers.push({ path: ["projects", project.key, "mcpServers"], node: servers, project: project.key });
    }
  }

  for (const container of containers) {
    if (container.node.kind !== "object") {
      problems.push(`${describeJsonPath(container.path)} is ${describeKind(container.node)}, expected an object`);
      continue;
    }
    const names = new Set<string>();
    for (const property of container.node.properties) {
      const path = [...container.path, property.key];
      // A repeated name would make an edit land on an entry JSON readers ignore (the last one wins).
      if (names.has(property.key)) problems.push(`${describeJsonPath(path)} appears twice`);
      names.add(property.key);
      if (property.value.kind !== "object") {
        problems.push(`${describeJsonPath(path)} is ${describeKind(property.value)}, expected an object`);
        continue;
      }
      const value = toPlainValue(property.value) as Record<string, unknown>;
      const status = classifyEntry(value, execPath);
      if (typeof status === "string") problems.push(`${describeJsonPath(path)} ${status}`);
      else entries.push({ name: property.key, project: container.project, path, node: property.value, value, status });
    }
  }
  return { entries, problems };
}

/**
 * Classifies one entry: remote (`url` field, or a `type` other than `stdio`), wrapped (command is
 * a baton-proxy binary), or stdio. Returns a problem text (`has no "command"…`) for an entry that
 * is neither a valid stdio nor a remote entry.
 */
export function classifyEntry(value: Readonly<Record<string, unknown>>, execPath: string): EntryStatus | string {
  const { type, command, args } = value;
  if (typeof type === "string" && type !== "stdio") return remoteStatus(value, `type "${type}"`);
  if ("url" in value) return remoteStatus(value, "has a url");
  if (command === undefined) return `has neither "command" nor "url"`;
  if (typeof command !== "string" || command.trim() === "") return `"command" must be a non-empty string`;
  if (args !== undefined && !isStringArray(args)) return `"args" must be an array of strings`;
  if (!isProxyCommand(command, execPath)) return { kind: "stdio" };
  const env = value.env as Record<string, unknown> | undefined;
  const remoteText =
    typeof env?.[REMOTE_ORIGINAL_KEY] === "string" && isRemoteArgs(args ?? [])
      ? (env[REMOTE_ORIGINAL_KEY] as string)
      : undefined;
  return {
    kind: "wrapped",
    original: parseWrappedArgs(args ?? []),
    ...(remoteText === undefined ? {} : { remoteText }),
  };
}

/** A remote entry's status: `reason` says what makes it remote, and why --url cannot carry it when it cannot. */
function remoteStatus(value: Readonly<Record<string, unknown>>, remote: string): EntryStatus {
  const target = remoteTarget(value);
  return typeof target === "string"
    ? { kind: "remote", reason: `${remote}, ${target}` }
    : { kind: "remote", reason: remote, target };
}

/**
 * Streamable HTTP and SSE entries with a URL and plain string headers can be proxied; another type (ws)
 * stays remote (undefined: the type is the reason). Any other shape --url cannot carry gives its reason,
 * never quoting the URL (it may hold a key), and so does a header the proxy would refuse to start with
 * (its own, not a header name, one name twice, a line break in the value; never quoting the value):
 * wrapping would break an entry that works.
 */
function remoteTarget(value: Readonly<Record<string, unknown>>): RemoteTarget | string | undefined {
  const { type, url, headers } = value;
  if (typeof type === "string" && !["http", "streamable-http", "streamableHttp", "sse"].includes(type))
    return undefined;
  if (url === undefined) return "no url";
  if (typeof url !== "string") return "a url that is not a string";
  // `${BASE}/mcp`: a host expands such a template itself; the proxy would get it as written.
  if (!/^https?:\/\//i.test(url)) return "a url that does not start with http:// or https://";
  if (!URL.canParse(url)) return "a url that is not a valid URL";
  if (
    headers !== undefined &&
    (typeof headers !== "object" ||
      headers === null ||
      Array.isArray(headers) ||
      !Object.values(headers).every((v) => typeof v === "string"))
  )
    return "headers that are not an object of strings";
  const seen = new Set<string>();
  for (const [name, headerValue] of Object.entries((headers ?? {}) as Record<string, string>)) {
    // Not quoted: a name that is not a header name may be a value pasted in the wrong place.
    if (!HEADER_NAME.test(name)) return "a header name that is not a valid HTTP header name";
    if (isReservedHeader(name)) return `header ${name} is set by the proxy itself`;
    if (seen.has(name.toLowerCase())) return `header ${name} is given twice (header names ignore case)`;
    seen.add(name.toLowerCase());
    if (/[\r\n\0]/.test(headerValue)) return `header ${name} has a line break or NUL in its value`;
    if (/[\u0100-\uffff]/.test(headerValue)) return `header ${name} has a character beyond U+00FF in its value`;
  }
  const parsed = new URL(url);
  return {
    url,
    headers: (headers ?? {}) as Record<string, string>,
    allowHttp: parsed.protocol === "http:" && !isLoopback(parsed.hostname),
  };
}

/** True when `command` is this binary or any baton-proxy binary (so it is never wrapped twice). */
export function isProxyCommand(command: string, execPath: string): boolean {
  if (command === execPath) return true;
  const base = command.split(/[\\/]/).pop() ?? command;
  return PROXY_BASENAME.test(base);
}

/**
 * Where the server command starts in a wrapped entry's args, read as the proxy itself reads its
 * command line (src/cli.ts: after the options, `--` optional); failing that (flags this build does
 * not know), right after the first `--`. Undefined when there is no command.
 */
export function wrappedCommandIndex(args: readonly string[]): number | undefined {
  const invocation = parseArgs(args);
  if (invocation.kind === "proxy") return args.length - invocation.command.length;
  const at = args.indexOf(ARGS_SEPARATOR);
  return at !== -1 && at + 1 < args.length ? at + 1 : undefined;
}

/** The original command; the proxy flags (and `--`) before it are dropped. Undefined when there is none. */
export function parseWrappedArgs(args: readonly string[]): OriginalCommand | undefined {
  const at = wrappedCommandIndex(args);
  const command = at === undefined ? undefined : args[at];
  return at === undefined || command === undefined ? undefined : { command, args: args.slice(at + 1) };
}

/** `mcpServers.github`, `projects["/home/me/app"].mcpServers["my server"]`: a readable JSON path. */
export function describeJsonPath(path: readonly string[]): string {
  return path
    .map((key, i) => (/^[A-Za-z_$][\w$-]*$/.test(key) ? (i === 0 ? key : `.${key}`) : `[${JSON.stringify(key)}]`))
    .join("");
}

function childOf(node: JsonObjectNode, key: string): JsonNode | undefined {
  return node.properties.findLast((p) => p.key === key)?.value;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** A proxy entry running `--url`/`--url-env` without the original entry `wrap` keeps: the user wrote it so. */
export function isHandWrittenRemote(entry: ServerEntry): boolean {
  const { args } = entry.value;
  return (
    entry.status.kind === "wrapped" && entry.status.original === undefined && Array.isArray(args) && isRemoteArgs(args)
  );
}

/** Proxy args for a remote server: `--url URL` (by hand, or by earlier versions of wrap) or `--url-env VARIABLE` (wrap now). */
function isRemoteArgs(args: readonly unknown[]): boolean {
  return args.includes("--url") || args.includes("--url-env");
}
