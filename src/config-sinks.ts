// BATON_EVENT_SINK -> the list of SinkSpecs (a problem per bad entry), their log-safe labels, and the URL masking every printed URL goes through. Pure.

import path from "node:path";
import { suggestSinkSpelling } from "./config-hints.ts";

/** One event destination, as configured in BATON_EVENT_SINK. */
export type SinkSpec =
  | { readonly kind: "stderr" }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "http"; readonly url: string }
  | { readonly kind: "s3"; readonly bucket: string; readonly prefix: string }
  | { readonly kind: "otlp" };

/**
 * Parses the comma-separated sink list; pushes a problem per bad entry. `refused` collects the kind
 * of each entry refused for its shape (`https://c/?q`, `s3://x`), so the settings that kind needs
 * are checked in the same round, not only once the entry is fixed.
 */
export function parseSinks(
  list: string,
  problems: string[],
  refused?: Set<SinkSpec["kind"]>,
  platform: NodeJS.Platform = process.platform,
): SinkSpec[] {
  const sinks: SinkSpec[] = [];
  const seen = new Set<string>();
  for (const entry of list.split(",").map((s) => s.trim())) {
    if (entry === "") continue; // a trailing comma is harmless
    const sink = parseSink(entry, problems, platform);
    if (sink === undefined) {
      const kind = knownKind(entry);
      if (kind !== undefined) refused?.add(kind);
      continue;
    }
    const label = sinkLabel(sink);
    // One file however its path is spelt (/tmp//a.jsonl is /tmp/a.jsonl), and macOS's and Windows' file
    // systems ignore case by default: /tmp/A.jsonl is /tmp/a.jsonl there.
    const spelt = sink.kind === "file" ? (platform === "win32" ? path.win32 : path.posix).normalize(sink.path) : label;
    const key = sink.kind === "file" && (platform === "darwin" || platform === "win32") ? spelt.toLowerCase() : spelt;
    if (seen.has(key)) {
      problems.push(`BATON_EVENT_SINK lists ${label} twice`);
      continue;
    }
    seen.add(key);
    sinks.push(Object.freeze(sink));
  }
  if (sinks.length === 0 && !problems.some((p) => p.startsWith("BATON_EVENT_SINK"))) {
    problems.push("BATON_EVENT_SINK is empty: give at least one sink (stderr:, file:///abs/path.jsonl, https://host)");
  }
  return sinks;
}

/** The kind an entry's scheme names, whatever the rest of it. */
function knownKind(entry: string): SinkSpec["kind"] | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(entry)?.[1]?.toLowerCase();
  if (scheme === "http" || scheme === "https") return "http";
  return scheme === "s3" || scheme === "file" || scheme === "otlp" ? scheme : undefined;
}

function parseSink(entry: string, problems: string[], platform: NodeJS.Platform): SinkSpec | undefined {
  // A URL scheme is read in any case (RFC 3986 §3.1), as `new URL` reads HTTPS:// and S3:// below.
  const lower = entry.toLowerCase();
  if (lower === "stderr:") return { kind: "stderr" };
  if (lower === "otlp:") return { kind: "otlp" };
  // "otlp:http://collector:4318", "stderr:x": the kind is clear, the spelling is not (as a URL
  // it would be refused for an "unsupported scheme" the same message lists as supported).
  const exact = /^(otlp|stderr):/i.exec(entry)?.[1]?.toLowerCase();
  if (exact !== undefined) {
    const where =
      exact === "otlp"
        ? ": the collector comes from OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"
        : "";
    problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must be exactly "${exact}:"${where}`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    const meant = suggestSinkSpelling(entry);
    const hint =
      meant === undefined
        ? " (use stderr:, file:///abs/path.jsonl or https://host)"
        : `: did you mean "${clip(maskUrl(meant))}"?`;
    problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" is not a valid URL${hint}`);
    return undefined;
  }
  switch (url.protocol) {
    case "file:": {
      if (url.host !== "" && url.host !== "localhost") {
        problems.push(
          `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must be an absolute path: file:///abs/path.jsonl`,
        );
        return undefined;
      }
      let path: string;
      try {
        path = decodeURIComponent(url.pathname);
      } catch {
        // `file:///%APPDATA%/x.jsonl`: nothing expands variables here, and a stray % is no escape.
        problems.push(
          `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" has a badly percent-encoded path (write "%" as %25; variables such as %APPDATA% are not expanded)`,
        );
        return undefined;
      }
      if (path === "/" || path.endsWith("/")) {
        problems.push(`BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" names a directory, not a file`);
        return undefined;
      }
      return { kind: "file", path: fileUrlPath(path, platform) };
    }
    case "http:":
    case "https:": {
      if (url.search !== "" || url.hash !== "") {
        problems.push(
          `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must not have a query or fragment (events go to {url}/v0/events)`,
        );
        return undefined;
      }
      return { kind: "http", url: url.href.replace(/\/+$/, "") };
    }
    case "s3:":
      return parseS3Location(url, entry, problems);
    default: {
      // A Windows path (C:\x.jsonl) parses as a URL with a one-letter scheme.
      const meant = suggestSinkSpelling(entry);
      const hint = meant === undefined ? "" : `: did you mean "${clip(maskUrl(meant))}"?`;
      problems.push(
        `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" has unsupported scheme "${url.protocol}" (supported: stderr:, file://, http://, https://, s3://, otlp:)${hint}`,
      );
      return undefined;
    }
  }
}

/**
 * The file a `file:` URL's decoded path names: on Windows `/C:/x.jsonl` is `C:/x.jsonl` (the URL
 * keeps a slash before the drive; opened as is it would name `\C:\x.jsonl` on the current drive).
 */
export function fileUrlPath(path: string, platform: NodeJS.Platform): string {
  return platform === "win32" && /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}

/** A log-safe name for a sink: credentials embedded in a URL are masked. */
export function sinkLabel(sink: SinkSpec): string {
  switch (sink.kind) {
    case "stderr":
      return "stderr:";
    case "file":
      return `file://${sink.path}`;
    case "http":
      return maskUrl(sink.url);
    case "s3":
      return `s3://${sink.bucket}${sink.prefix === "" ? "" : `/${sink.prefix}`}`;
    case "otlp":
      return "otlp:";
  }
}

/** `s3://bucket[/prefix]`: the prefix without its outer slashes; no credentials, query or fragment. */
function parseS3Location(url: URL, entry: string, problems: string[]): SinkSpec | undefined {
  if (url.username !== "" || url.password !== "" || url.port !== "" || url.search !== "" || url.hash !== "") {
    problems.push(
      `BATON_EVENT_SINK entry "${clip(maskUrl(entry))}" must be s3://bucket/prefix (credentials come from AWS_* variables)`,
    );
    return undefined;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(url.hostname)) {
    problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" is missing a valid bucket name (s3://bucket/prefix)`);
    return undefined;
  }
  let prefix: string;
  try {
    prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, "");
  } catch {
    problems.push(`BATON_EVENT_SINK entry "${clip(entry)}" has a badly percent-encoded prefix`);
    return undefined;
  }
  return { kind: "s3", bucket: url.hostname, prefix };
}

/** A URL written as host:port/path (`localhost:3000/mcp`), which parses with the host as its scheme: what is missing is said. */
export const MISSING_SCHEME =
  "has no http:// or https:// in front: write https://… (http:// for a server on this machine)";

/**
 * Masks what in a URL-ish string may be a credential: `user:pass@` becomes `***@`, and a query or
 * fragment (`?api_key=…`, `#access_token=…`) becomes `?***` / `#***`. Every URL we print goes through here.
 * The userinfo is found wherever its `scheme://` starts, so a URL behind another scheme
 * (`otlp:https://user:pw@host`, a natural misspelling of a sink) is masked too.
 */
export function maskUrl(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@")
    .replace(/\?[^#]*/, "?***")
    .replace(/#.*$/s, "#***");
}

/** Shortens a value quoted in a problem text (config.ts quotes its values through it too). */
export function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
