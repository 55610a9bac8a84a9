// `bun run bench` baseline: a do-nothing Bun relay (spawn the server, copy chunks both ways, nothing parsed) — the cost of any extra Bun process on the pipe.
// usage: bun scripts/bench-relay.ts CMD ARGS...

const child = Bun.spawn(process.argv.slice(2), { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
const out = Bun.stdout.writer();

// Server -> client: every chunk as it arrives.
const toClient = (async () => {
  for await (const chunk of child.stdout) {
    out.write(chunk);
    await out.flush();
  }
})();

// Client -> server: every chunk as it arrives; our stdin's EOF closes the server's stdin.
(async () => {
  for await (const chunk of Bun.stdin.stream()) {
    child.stdin.write(chunk);
    await child.stdin.flush();
  }
  await child.stdin.end();
})();

const code = await child.exited;
await toClient;
process.exit(code);

export {}; // a module, for top-level await
