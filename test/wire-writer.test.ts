// Unit: the wire writer hands each peer one buffer per drain, byte for byte in order: a view when the pieces are adjacent slices of one chunk, else one copy.

import { describe, expect, test } from "bun:test";
import { WireWriter } from "../src/transport/wire-writer.ts";
import type { ByteSink } from "../src/transport/upstream.ts";
import { createMemoryLogger } from "./support/memory-logger.ts";

function recording(): ByteSink & { readonly given: Uint8Array[] } {
  const given: Uint8Array[] = [];
  return { given, write: (bytes) => (given.push(bytes), bytes.length), flush: () => 0 };
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("one buffer per drain", () => {
  test("adjacent slices of one chunk go out as a view of it, without a copy", () => {
    const sink = recording();
    const writer = new WireWriter(sink, "client", createMemoryLogger());
    const chunk = new TextEncoder().encode('{"a":1}\n{"b":2}\n');
    writer.write(chunk.subarray(0, 8));
    writer.write(chunk.subarray(8));
    expect(writer.drain()).toBeUndefined(); // taken at once: no promise on the hot path
    expect(sink.given).toHaveLength(1);
    expect(sink.given[0]?.buffer).toBe(chunk.buffer);
    expect(text(sink.given[0] as Uint8Array)).toBe('{"a":1}\n{"b":2}\n');
  });

  test("pieces from different buffers are joined in order into one copy", () => {
    const sink = recording();
    const writer = new WireWriter(sink, "server", createMemoryLogger());
    const enc = new TextEncoder();
    const pieces = ['{"a":1}\n', '{"b":', "2}\n", '{"c":3}\n'].map((p) => enc.encode(p));
    for (const piece of pieces) writer.write(piece);
    writer.drain();
    expect(sink.given).toHaveLength(1);
    expect(pieces.some((p) => p.buffer === sink.given[0]?.buffer)).toBe(false);
    expect(text(sink.given[0] as Uint8Array)).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
  });

  test("nothing written, nothing handed over", () => {
    const sink = recording();
    const writer = new WireWriter(sink, "client", createMemoryLogger());
    writer.write(new Uint8Array(0));
    expect(writer.drain()).toBeUndefined();
    expect(sink.given).toHaveLength(0);
  });
});

describe("a peer whose input the proxy closed", () => {
  test("writes after Bun's FileSink was ended (the client goes on after the server's stdin was closed) are dropped with a plain reason, not a TypeError", async () => {
    const child = Bun.spawn(["sleep", "30"], { stdin: "pipe", stdout: "ignore", stderr: "ignore" });
    try {
      await child.stdin.end(); // what upstream.close() does when the server closed its stdout or the client stopped reading
      const logger = createMemoryLogger();
      let broken = 0;
      const writer = new WireWriter(child.stdin, "server", logger, () => broken++);
      writer.write(new TextEncoder().encode('{"jsonrpc":"2.0","id":5,"method":"ping"}\n'));
      await writer.drain();
      writer.write(new TextEncoder().encode('{"jsonrpc":"2.0","id":6,"method":"ping"}\n'));
      await writer.drain();
      expect(logger.lines).toEqual(["baton-proxy: info: stopped writing to the server: its input is closed"]);
      expect(broken).toBe(1);
    } finally {
      child.kill("SIGKILL");
      await child.exited;
    }
  });
});
