// Joining byte pieces: the one copy loop for buffers that arrived in parts (HTTP bodies, SSE events, queued wire writes).

/** The pieces as one buffer: the piece itself when there is only one, else one copy. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
