// The OAuth redirect listener of `auth login` and the proxy: only the callback with our state completes the flow, and the
// browser is told what happened to its callback.

import { expect, test } from "bun:test";
import { listenForRedirect } from "../src/remote/loopback-redirect.ts";

const visit = async (redirectUrl: string, query: Record<string, string>) => {
  const response = await fetch(`${redirectUrl}?${new URLSearchParams(query)}`);
  return { status: response.status, text: await response.text() };
};

test("a callback with another state (or none) completes nothing, and its page does not claim a sign-in", async () => {
  const loopback = listenForRedirect(undefined);
  try {
    expect(new URL(loopback.redirectUrl).hostname).toBe("127.0.0.1");
    const code = loopback.waitForCode("our-state", 10_000);
    const forged: Record<string, string>[] = [{ code: "forged", state: "other" }, { code: "forged" }];
    for (const query of forged) {
      const page = await visit(loopback.redirectUrl, query);
      expect(page.status).toBe(400);
      expect(page.text).not.toContain("signed in");
    }
    const ours = visit(loopback.redirectUrl, { code: "real", state: "our-state" });
    expect(await code).toBe("real");
    loopback.finish(true); // the code was exchanged for tokens
    expect((await ours).status).toBe(200);
    expect((await ours).text).toContain("is signed in");
  } finally {
    loopback.close();
  }
});

test("an error redirect with our state ends the wait with the server's reason; the page says so", async () => {
  const loopback = listenForRedirect(undefined);
  try {
    const code = loopback.waitForCode("s", 10_000);
    code.catch(() => undefined);
    const page = await visit(loopback.redirectUrl, {
      error: "access_denied",
      error_description: "user said no",
      state: "s",
    });
    expect(page.text).toContain("could not sign in");
    await expect(code).rejects.toThrow("the authorization server refused: access_denied: user said no");
  } finally {
    loopback.close();
  }
  // Closed: nothing listens on the port any more.
  await expect(fetch(loopback.redirectUrl)).rejects.toThrow();
});

test("a code the token endpoint then refuses: the page says the sign-in failed, not that it succeeded", async () => {
  const loopback = listenForRedirect(undefined);
  try {
    const code = loopback.waitForCode("s", 10_000);
    const page = visit(loopback.redirectUrl, { code: "c", state: "s" });
    expect(await code).toBe("c");
    loopback.close(); // the login failed after the redirect (its finally closes without finish(true))
    expect((await page).text).toContain("could not sign in");
  } finally {
    loopback.close();
  }
});
