// A floor for `bench-http.ts`: a do-nothing TCP relay on Bun's own sockets (Bun.listen + Bun.connect, bytes copied, no HTTP), to tell what Bun's socket layer costs from what its HTTP server and client add.
import type { Socket } from "bun";

const upstreamPort = Number(process.argv[2]);

/** One side of a relayed connection: its peer once connected, bytes it could not take yet (Bun's sockets do not buffer). */
interface Side {
  peer?: Socket<Side>;
  unsent: Uint8Array[];
}

/** Writes in order; what the socket did not take waits for its drain. */
function send(socket: Socket<Side>, chunk: Uint8Array): void {
  if (socket.data.unsent.length > 0) {
    socket.data.unsent.push(chunk.slice());
    return;
  }
  const written = socket.write(chunk);
  if (written < chunk.length) socket.data.unsent.push(chunk.slice(Math.max(written, 0)));
}

function drain(socket: Socket<Side>): void {
  const { unsent } = socket.data;
  while (unsent.length > 0) {
    const chunk = unsent[0] as Uint8Array;
    const written = socket.write(chunk);
    if (written < chunk.length) {
      unsent[0] = chunk.subarray(Math.max(written, 0));
      return;
    }
    unsent.shift();
  }
}

const server = Bun.listen<Side>({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open(client) {
      client.data = { unsent: [] };
      Bun.connect<Side>({
        hostname: "127.0.0.1",
        port: upstreamPort,
        socket: {
          open(upstream) {
            // What the client sent before this connection opened was queued on this side.
            upstream.data = { peer: client, unsent: client.data.unsent };
            client.data = { peer: upstream, unsent: [] };
            drain(upstream);
          },
          data: (upstream, chunk) => {
            if (upstream.data.peer !== undefined) send(upstream.data.peer, chunk);
          },
          drain,
          close(upstream) {
            upstream.data.peer?.end();
          },
          error(upstream) {
            upstream.data.peer?.end();
          },
        },
      }).catch(() => {
        client.end();
      });
    },
    data(client, chunk) {
      if (client.data.peer === undefined) client.data.unsent.push(chunk.slice());
      else send(client.data.peer, chunk);
    },
    drain,
    close(client) {
      client.data.peer?.end();
    },
    error(client) {
      client.data.peer?.end();
    },
  },
});
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
