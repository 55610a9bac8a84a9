// Reads the selected config files and finds their servers, gathering every problem with the file named. Reads only; never writes.

import { LocalError } from "../errors.ts";
import { detectFormat, displayPath, type ConfigLocation } from "./config-locations.ts";
import { JsoncSyntaxError, parseJsonc, type JsonNode } from "./jsonc.ts";
import { readConfigFile, type ConfigFileText } from "./rewrite-file.ts";
import { findServerEntries, type ServerEntry } from "./server-entries.ts";

/** A config file that parsed and has the expected shape. `location.format` is resolved (never guessed later). */
export interface LoadedConfig {
  readonly location: ConfigLocation;
  readonly file: ConfigFileText;
  readonly root: JsonNode;
  readonly entries: readonly ServerEntry[];
}

export interface LoadResult {
  readonly loaded: LoadedConfig[];
  /** Known locations with no file (normal: most people use one or two clients). */
  readonly missing: ConfigLocation[];
  /** One line per problem, each naming its file; a file with problems is not in `loaded`. */
  readonly problems: string[];
}

/**
 * Loads every location. A missing file is noted in `missing`, except a `custom` (`--config`)
 * file, whose absence is a problem. Unreadable, unparsable or oddly shaped files become problems.
 */
export async function loadConfigs(
  locations: readonly ConfigLocation[],
  execPath: string,
  homeDir: string,
): Promise<LoadResult> {
  const result: LoadResult = { loaded: [], missing: [], problems: [] };
  for (const location of locations) {
    const shown = displayPath(location.path, homeDir);
    let file: ConfigFileText | undefined;
    try {
      file = await readConfigFile(location.path);
    } catch (error) {
      result.problems.push(
        error instanceof LocalError ? error.message.replace(location.path, shown) : `${shown}: ${String(error)}`,
      );
      continue;
    }
    if (file === undefined) {
      if (location.client === "custom") result.problems.push(`${shown}: no such file`);
      else result.missing.push(location);
      continue;
    }
    const analysed = analyseConfig(location, file, execPath);
    if (analysed.ok) result.loaded.push(analysed.config);
    else result.problems.push(...analysed.problems.map((problem) => `${shown}: ${problem}`));
  }
  return result;
}

/**
 * Parses a file's text and finds its servers. Pure. Problems read `not valid JSON: line 3,
 * column 7: …` or `mcpServers.github "args" must be an array of strings`.
 */
function analyseConfig(
  location: ConfigLocation,
  file: ConfigFileText,
  execPath: string,
): { readonly ok: true; readonly config: LoadedConfig } | { readonly ok: false; readonly problems: string[] } {
  let root: JsonNode;
  try {
    root = parseJsonc(file.text);
  } catch (error) {
    if (error instanceof JsoncSyntaxError) return { ok: false, problems: [`not valid JSON: ${error.message}`] };
    throw error;
  }
  const format = location.client === "custom" ? detectFormat(root) : location.format;
  const { entries, problems } = findServerEntries(root, format, execPath);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { location: { ...location, format }, file, root, entries } };
}
