// The requests of one serve POST the upstream still owes an answer, known by their ids as written. Pure.

import { idKey, idOfKey, keyOfSource, type IdKey } from "../wire/id-keys.ts";
import { isObject, type JsonRpcId, type WireId } from "../wire/jsonrpc.ts";

const RawJson = JSON as unknown as { isRawJSON(value: unknown): value is { rawJSON: string } };

/**
 * A POST's requests still owed an answer. Kept by id as written (IdKey), so two whose ids one number
 * stands for (`1` and `1.0`, two beyond 2^53) are two: the answer to one leaves the other owed, and a
 * stream that breaks then still answers it with an error. An answer is matched as the engine does
 * (pending.ts answeredKey): its exact id first, else the oldest owed of its value (a JavaScript server
 * writes `1.0` back as `1`).
 */
export interface OwedAnswers {
  readonly size: number;
  /** Ends what an answer with `id` (`idText`: its text when JSON.parse changed it) answers; true when one was owed. */
  answer(id: JsonRpcId, idText?: string): boolean;
  /** Their ids by value, oldest first (for the engine's failures, which match by value the same way). */
  ids(): JsonRpcId[];
  /** Their ids as the client wrote them, oldest first (for the proxy's own error answers). */
  written(): WireId[];
}

/** What `requests` owe, less those the proxy answered itself (`local`, ids as written). */
export function owedAnswers(
  requests: readonly { readonly kind: string; readonly id?: JsonRpcId | null; readonly idText?: string }[],
  local: readonly unknown[],
): OwedAnswers {
  const owed = new Map<IdKey, JsonRpcId>();
  for (const m of requests)
    if (m.kind === "request" && m.id !== undefined && m.id !== null) owed.set(idKey(m.id, m.idText), m.id);
  for (const answer of local) {
    const id = isObject(answer) ? answer.id : undefined;
    if (typeof id === "string" || typeof id === "number") owed.delete(idKey(id, undefined));
    else if (RawJson.isRawJSON(id)) owed.delete(keyOfSource(id.rawJSON));
  }
  return {
    get size() {
      return owed.size;
    },
    answer(id, idText) {
      if (owed.delete(idKey(id, idText))) return true;
      for (const [key, value] of owed) if (value === id) return owed.delete(key);
      return false;
    },
    ids: () => [...owed.values()],
    written: () => [...owed.keys()].map(idOfKey),
  };
}
