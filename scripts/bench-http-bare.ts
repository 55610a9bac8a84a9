// The floor for `bench-http.ts`: the barest Bun reverse proxy (Bun.serve + fetch, no checks, no telemetry), to tell the runtime's cost from ours.
const upstream = process.argv[2] ?? "";
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: async (request) => {
    const response = await fetch(upstream, {
      method: request.method,
      headers: request.headers,
      body: await request.bytes(),
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  },
});
process.stderr.write(`bare proxy on http://127.0.0.1:${server.port}/mcp\n`);
