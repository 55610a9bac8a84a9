// The scripted client sessions of the differential tests: each step's value, or its error's code and message, in order.

/** What one step gave: its value, or the error's code and message (compared between direct and proxied runs). */
export type Outcome = { readonly step: string; readonly value: unknown };

/** A recorder: `step(name, run)` awaits `run` and appends what it gave to `into`, an error included. */
export function stepsInto(into: Outcome[]): (name: string, run: () => Promise<unknown>) => Promise<void> {
  return async (name, run) => {
    try {
      into.push({ step: name, value: await run() });
    } catch (error) {
      const e = error as { code?: unknown; message?: unknown };
      into.push({ step: name, value: { code: e.code, message: e.message } });
    }
  };
}
