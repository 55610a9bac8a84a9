// Reads the Helm chart's files for tests: values, examples, bad-value fixtures, the schema validator, and Helm's way of merging values.

import Ajv from "ajv";
import type { ErrorObject } from "ajv";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ROOT } from "./binary.ts";

export const CHART_DIR = join(ROOT, "deploy", "helm", "baton-proxy");
export const EXAMPLES_DIR = join(CHART_DIR, "examples");
export const BAD_VALUES_DIR = join(ROOT, "test", "fixtures", "deploy", "bad-values");

export type Values = Record<string, unknown>;

export const readYaml = (path: string): Values => (Bun.YAML.parse(readFileSync(path, "utf8")) ?? {}) as Values;
export const chartValues = (): Values => readYaml(join(CHART_DIR, "values.yaml"));

const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's coalescing: maps merge key by key, anything else (lists included) replaces, null deletes the key. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key] as Values, value);
    else out[key] = value;
  }
  return out;
}

/** The documented examples: name -> the file's path. */
export function examples(): Map<string, string> {
  return new Map(
    readdirSync(EXAMPLES_DIR)
      .filter((f) => f.endsWith(".yaml"))
      .sort()
      .map((f) => [basename(f, ".yaml"), join(EXAMPLES_DIR, f)]),
  );
}

export interface BadValues {
  readonly name: string;
  readonly path: string;
  readonly values: Values;
  /** ajv's message for the schema (absent: the schema accepts it and the templates refuse it). */
  readonly ajv: string | undefined;
  /** The field that Helm's schema error names (absent for template-level refusals). */
  readonly field: string | undefined;
  /** Text of the templates' `fail` message, when the templates are what refuses it. */
  readonly helm: string | undefined;
  /** Text of serve's own refusal (exit 78) when the values are rendered without the schema: why the schema refuses them. */
  readonly serve: string | undefined;
}

/** The bad-value fixtures with their `# ajv:`, `# field:` and `# helm:` header expectations. */
export function badValues(): BadValues[] {
  return readdirSync(BAD_VALUES_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => {
      const path = join(BAD_VALUES_DIR, f);
      const text = readFileSync(path, "utf8");
      const header = (key: string): string | undefined => text.match(new RegExp(`^# ${key}: (.+)$`, "m"))?.[1]?.trim();
      return {
        name: basename(f, ".yaml"),
        path,
        values: readYaml(path),
        ajv: header("ajv"),
        field: header("field"),
        helm: header("helm"),
        serve: header("serve"),
      };
    });
}

const ajv = new Ajv({
  allErrors: true,
  strict: true,
  strictTypes: false,
  strictRequired: false,
  allowUnionTypes: true,
});
const schemaValidator = ajv.compile(JSON.parse(readFileSync(join(CHART_DIR, "values.schema.json"), "utf8")));

/** Validates merged values against values.schema.json; returns one readable line per problem (empty when valid). */
export function schemaProblems(values: Values): string[] {
  if (schemaValidator(values)) return [];
  return (schemaValidator.errors ?? []).map((e: ErrorObject) => {
    const extra = (e.params as { additionalProperty?: string }).additionalProperty;
    return `${e.instancePath} ${e.message ?? e.keyword}${extra === undefined ? "" : ` (${extra})`}`.trim();
  });
}

/** Every leaf path of a values tree, dotted (`serve.port`); lists and empty maps count as leaves. */
export function leafPaths(values: Values, prefix = ""): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix === "" ? key : `${prefix}.${key}`;
    return isMap(value) && Object.keys(value).length > 0 ? leafPaths(value, path) : [path];
  });
}

/** Every `.Values.a.b.c` reference in the chart's templates (also `$.Values…`), as dotted paths. */
export function templateValueReferences(): Map<string, string[]> {
  const dir = join(CHART_DIR, "templates");
  const refs = new Map<string, string[]>();
  for (const file of readdirSync(dir).sort()) {
    const text = readFileSync(join(dir, file), "utf8");
    for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      const path = (match[1] ?? "").slice(1);
      refs.set(path, [...(refs.get(path) ?? []), file]);
    }
  }
  return refs;
}

/** Whether `path` (dotted) exists in `values` (a key whose value is null or a map counts). */
export function hasPath(values: Values, path: string): boolean {
  let node: unknown = values;
  for (const key of path.split(".")) {
    if (!isMap(node) || !(key in node)) return false;
    node = node[key];
  }
  return true;
}
