// Renders before/after diffs of server entries with secrets masked (env/headers values, secret-looking args). Pure: returns text.

import { printable } from "../log.ts";

/** What a masked value is shown as. */
export const MASK = "***";

/** Flag or variable names whose value is a secret: `--api-key`, `GITHUB_TOKEN=`, `--password`. */
const SECRET_NAME =
  /(api[-_]?key|apikey|access[-_]?key|private[-_]?key|token|secret|passw(?:or)?d|pwd|credential|auth|bearer|cookie|session)/i;
/** Values that are secrets whatever flag they follow (well-known token prefixes, JWTs). */
const SECRET_VALUE =
  /^(?:sk-|sk_|rk_|pk_live_|ghp_|gho_|ghu_|ghs_|ghr_|github_pat_|glpat-|xox[abprs]-|AKIA|ASIA|AIza|hf_|npm_|eyJ[\w-]{8,}\.)/;
/** Host-expanded placeholders (`${API_KEY}`, `${input:token}`) are not secrets and are shown. */
const PLACEHOLDER = /^\$\{[^}]+\}$/;
/** Keys of an entry whose nested values are all masked. */
const MASKED_MAPS = new Set(["env", "headers"]);

/**
 * Masks args that look like secrets: `--api-key=…`, the word after `--token`, `NAME_TOKEN=…`,
 * `Authorization: Bearer …`, known token prefixes (`sk-…`, `ghp_…`), URL passwords and secret
 * query parameters. Keeps everything else so the diff stays useful.
 */
export function maskArgs(args: readonly unknown[]): unknown[] {
  let maskNext = false;
  return args.map((arg) => {
    if (typeof arg !== "string") return arg;
    const masked = maskNext && !arg.startsWith("-") ? MASK : maskArg(arg);
    maskNext = /^--?[\w.-]+$/.test(arg) && SECRET_NAME.test(arg);
    return masked;
  });
}

/** Masks one arg on its own (no look at its neighbours); see `maskArgs`. */
export function maskArg(arg: string): string {
  if (PLACEHOLDER.test(arg)) return arg;
  if (SECRET_VALUE.test(arg)) return MASK;
  const assignment = /^(-{0,2}[\w.-]+)=(.*)$/s.exec(arg);
  if (assignment?.[1] !== undefined && SECRET_NAME.test(assignment[1])) {
    return PLACEHOLDER.test(assignment[2] ?? "") ? arg : `${assignment[1]}=${MASK}`;
  }
  const header = /^([\w-]+\s*:\s*)(.+)$/s.exec(arg);
  if (header?.[1] !== undefined && SECRET_NAME.test(header[1]) && !/^[a-z][\w+.-]*:\/\//i.test(arg))
    return `${header[1]}${MASK}`;
  return arg
    .replace(/^([a-z][\w+.-]*:\/\/[^/@\s:]*:)[^/@\s]*@/i, `$1${MASK}@`)
    .replace(/([?&][^=&#]*(?:key|token|secret|auth|password|sig)[^=&#]*=)[^&#]*/gi, `$1${MASK}`);
}

/** A display copy of an entry: `env`/`headers` values and secret-named keys masked, args masked. */
export function maskEntry(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  // fromEntries, not assignment: a key named "__proto__" must stay an ordinary property.
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskField(key, item)]));
}

function maskField(key: string, item: unknown): unknown {
  if (MASKED_MAPS.has(key) && typeof item === "object" && item !== null && !Array.isArray(item)) {
    return Object.fromEntries(Object.keys(item).map((k) => [k, MASK]));
  }
  if (key === "args" && Array.isArray(item)) return maskArgs(item);
  // A remote entry's `url` is masked as its `--url` arg is (a key in the userinfo or query is common).
  if ((key === "command" || key === "url") && typeof item === "string") return maskArg(item);
  if (SECRET_NAME.test(key) && typeof item === "string") return MASK;
  return item;
}

/**
 * A line diff of two entries (each key on one line, values inline, secrets masked): lines only in
 * `before` start with `-`, only in `after` with `+`, shared lines with a space. Under `title`.
 */
export function renderEntryDiff(title: string, before: unknown, after: unknown): string {
  const a = entryLines(maskEntry(before));
  const b = entryLines(maskEntry(after));
  // JSON escapes C0 controls but not C1 or bidi controls, and a project's .mcp.json may hold them.
  return [title, ...diffLines(a, b)].map(printable).join("\n") + "\n";
}

/** Renders a JSON value on one line with `", "` and `": "` spacing, as a person would write it. */
export function renderInline(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(renderInline).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${renderInline(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function entryLines(value: unknown): string[] {
  if (typeof value !== "object" || value === null) return [renderInline(value)];
  return Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${renderInline(item)}`);
}

/** Longest-common-subsequence line diff; entries are a handful of lines, so O(n·m) is fine. */
function diffLines(a: readonly string[], b: readonly string[]): string[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`    ${a[i++]}`);
      j++;
    } else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`  - ${a[i++]}`);
    else out.push(`  + ${b[j++]}`);
  }
  return out;
}
