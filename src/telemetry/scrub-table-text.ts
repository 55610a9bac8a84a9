// The key-name rule in tables written as text (CSV, TSV, Markdown): a column whose header is a secret key name has its cells redacted. Pure text in, text out.

import { keepOutOfFtl } from "../runtime/jit-tiers.ts";
import type { KeyMatcher } from "./scrub-keys.ts";
import type { RedactionCounts } from "./scrub-patterns.ts";

/** A header cell: a column name, not data (a sentence with a comma is no header). */
const COLUMN_NAME = /^[A-Za-z_][\w .()-]{0,63}$/;
/** A Markdown table's line under its header: `|---|:--:|`. */
const MARKDOWN_RULE = /^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$/;
/** The marker scrub-string.ts puts after a cut value. */
const CUT_MARKER = /\.\.\.\[truncated \d+ bytes\]$/;
/** Longest line read as a header; longer ones are data. */
const MAX_HEADER_CHARS = 2048;

/**
 * Database tools often answer with rows as CSV or a Markdown table (`id,email,password_hash` then
 * one line per row), where the secret's name is a header and its values sit below it. A line
 * whose cells are all column names, one of them a secret key name (per `matchKey`), starts a
 * table; each following line with as many cells has those columns' cells replaced with
 * `[redacted:<keyword>]`, counted under `key`. The table ends at the first line that does not fit.
 * Returns `text` itself when nothing matched. Never throws.
 */
export function redactTableText(text: string, matchKey: KeyMatcher, counts: RedactionCounts): string {
  if (!text.includes("\n") || !(text.includes(",") || text.includes("|") || text.includes("\t"))) return text;
  if (matchKey.hint !== undefined && !matchKey.hint.test(text)) return text;
  // A value cut on the hot path ends in its marker: a last cell taken whole must stop before it.
  const cut = text.endsWith(" bytes]") ? CUT_MARKER.exec(text) : null;
  if (cut !== null) {
    const kept = text.slice(0, cut.index);
    const redacted = redactTableText(kept, matchKey, counts);
    return redacted === kept ? text : redacted + cut[0];
  }
  const lines = text.split("\n");
  let changed = false;
  for (let i = 0; i < lines.length - 1; i++) {
    const header = lines[i] as string;
    const table = header.length <= MAX_HEADER_CHARS ? readHeader(header, matchKey) : undefined;
    if (table === undefined) continue;
    let row = i + 1;
    if (table.separator === "|" && MARKDOWN_RULE.test(lines[row] ?? "")) row++;
    for (; row < lines.length; row++) {
      const cells = splitCells(lines[row] as string, table.separator);
      // The text's last line may be a row cut short (a size cut): its cells so far are a row's.
      const last = row === lines.length - 1;
      if (cells.length !== table.width && !(last && cells.length < table.width)) break;
      for (const [column, keyword] of table.secret) {
        const cell = cells[column];
        if (cell === undefined) continue;
        const redacted = redactCell(cell, keyword);
        if (redacted === cell) continue;
        cells[column] = redacted;
        counts.key = (counts.key ?? 0) + 1;
        changed = true;
      }
      lines[row] = cells.join(table.separator);
    }
    i = row - 1;
  }
  return changed ? lines.join("\n") : text;
}

interface TableHeader {
  readonly separator: string;
  readonly width: number;
  /** Column index → the keyword its name matched. */
  readonly secret: Map<number, string>;
}

/** The table a header line starts, or undefined when it is no header or names no secret. */
function readHeader(line: string, matchKey: KeyMatcher): TableHeader | undefined {
  for (const separator of ["|", "\t", ","]) {
    if (!line.includes(separator)) continue;
    const cells = splitCells(line, separator);
    const secret = new Map<number, string>();
    let names = 0;
    for (let c = 0; c < cells.length; c++) {
      const name = unquote((cells[c] as string).trim());
      if (name === "" && separator === "|" && (c === 0 || c === cells.length - 1)) continue; // `| a | b |`
      if (!COLUMN_NAME.test(name)) return undefined;
      names++;
      const keyword = matchKey(name);
      if (keyword !== undefined) secret.set(c, keyword);
    }
    if (names < 2 || secret.size === 0) return undefined;
    // `token, session`: words listed in prose, every one a secret name, not a table's columns (a
    // table names an id or a user next to its secrets; a CSV writer puts no space after the comma).
    if (separator === "," && secret.size === names && line.includes(", ")) return undefined;
    return { separator, width: cells.length, secret };
  }
  return undefined;
}

/** Cells of one line; a CSV cell in double quotes may hold the separator (`"a,b"`, `""` for a quote). */
function splitCells(line: string, separator: string): string[] {
  if (separator !== "," || !line.includes('"')) return line.split(separator);
  const cells: string[] = [];
  let start = 0;
  let quoted = false;
  for (let at = 0; at <= line.length; at++) {
    const char = line[at];
    if (char === '"') quoted = !quoted;
    else if ((char === separator && !quoted) || at === line.length) {
      cells.push(line.slice(start, at));
      start = at + 1;
    }
  }
  return cells;
}

/** The cell's value replaced, its padding (Markdown) kept. */
function redactCell(cell: string, keyword: string): string {
  const value = cell.trim();
  if (value === "") return cell;
  const at = cell.indexOf(value);
  return `${cell.slice(0, at)}[redacted:${keyword}]${cell.slice(at + value.length)}`;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
// Called from the scrub walk for strings with lines and separators: no FTL compile of its own.
keepOutOfFtl(redactTableText, readHeader, splitCells);
