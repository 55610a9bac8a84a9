// The CORS fields of the upstream's answers, repeated on the answers the proxy gives a session itself: a browser client reads an answer only with them. Pure.

import type { UpstreamAnswer } from "./upstream-client.ts";

/** The fields that let a browser read a cross-origin answer (the Fetch standard's CORS check, and the headers it may see). */
const ECHOED = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "access-control-expose-headers",
] as const;

export type CorsFields = readonly (readonly [string, string])[];

/** An upstream answer's CORS fields; undefined when it allows no origin (the upstream speaks no CORS, or not to this one). */
export function corsFieldsOf(answer: UpstreamAnswer): CorsFields | undefined {
  if (answer.header("access-control-allow-origin") === null) return undefined;
  return ECHOED.flatMap((name) => {
    const value = answer.header(name);
    return value === null ? [] : [[name, value] as const];
  });
}

/**
 * `response` (one the proxy built) with `fields` when they allow the request's `origin` (`*` or
 * that very origin, as the upstream echoes it): the proxy grants no origin the upstream did not.
 */
export function withCorsFields(response: Response, fields: CorsFields | undefined, origin: string | null): Response {
  if (fields === undefined || origin === null) return response;
  const allowed = fields.find(([name]) => name === "access-control-allow-origin")?.[1];
  if (allowed !== "*" && allowed !== origin) return response;
  for (const [name, value] of fields) response.headers.set(name, value);
  if (allowed !== "*") response.headers.append("vary", "Origin");
  return response;
}
