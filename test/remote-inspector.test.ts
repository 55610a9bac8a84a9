// Black-box: the MCP Inspector CLI (a real client, under the machine's node) lists and calls tools through `baton-proxy --url`.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { binaryPath, ROOT } from "./support/binary.ts";
import { cleanEnv } from "./support/proxy-process.ts";
import { tempDir } from "./support/temp.ts";
import { startRemoteFixture, type RemoteServer } from "./support/remote-server.ts";

const INSPECTOR = join(ROOT, "node_modules", ".bin", "mcp-inspector");
let server: RemoteServer;
// The Inspector keeps state under $HOME/.mcp-inspector: a home of its own, removed after this file.
const home = tempDir("baton-inspector-home-");

beforeAll(async () => {
  server = await startRemoteFixture();
});
afterAll(async () => {
  await server.stop();
});

async function inspect(args: string[]): Promise<{ json: Record<string, any>; code: number }> {
  const proc = Bun.spawn(
    // The Inspector starts the proxy with its own small environment: the sink goes in with -e, so
    // nothing reaches the default event file.
    [
      "node",
      INSPECTOR,
      "--cli",
      "-e",
      "BATON_EVENT_SINK=stderr:",
      await binaryPath(),
      "--url",
      server.url,
      ...args,
      "--format",
      "json",
    ],
    { env: cleanEnv({ BATON_EVENT_SINK: "stderr:", HOME: home }), stdout: "pipe", stderr: "ignore" },
  );
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { json: JSON.parse(stdout) as Record<string, any>, code };
}

for (const era of ["legacy", "auto"] as const) {
  test(`Inspector CLI (--protocol-era ${era}): tools/list shows the server's and the proxy's tools; tools/call answers`, async () => {
    const list = await inspect(["--protocol-era", era, "--method", "tools/list"]);
    expect(list.code).toBe(0);
    expect(list.json.result.tools.map((t: { name: string }) => t.name)).toEqual(
      expect.arrayContaining(["echo", "slow", "baton_annotate"]),
    );
    const call = await inspect([
      "--protocol-era",
      era,
      "--method",
      "tools/call",
      "--tool-name",
      "echo",
      "--tool-arg",
      "text=inspected",
    ]);
    expect(call.code).toBe(0);
    expect(call.json.result.content[0].text).toBe("echo: inspected");
  }, 60_000);
}
