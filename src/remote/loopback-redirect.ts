// The OAuth redirect target: a one-shot HTTP listener on 127.0.0.1 that receives the authorization code, and the browser opener.

import { LocalError } from "../errors.ts";

/** A listening redirect endpoint. `code` settles with the first callback that carries our `state`. */
export interface LoopbackRedirect {
  readonly redirectUrl: string;
  readonly port: number;
  /** Resolves with the authorization code; rejects on an error callback or after `timeoutMs`. */
  waitForCode(state: string, timeoutMs: number): Promise<string>;
  /** The code was exchanged for tokens (true) or not: the browser's page, held until now, says which. */
  finish(signedIn: boolean): void;
  /** Stops listening (a page still held says the sign-in failed). */
  close(): void;
}

const CALLBACK_PATH = "/callback";
/** How long the browser's page waits for the token exchange before saying to look at the terminal. */
const PAGE_WAIT_MS = 30_000;

/**
 * Listens on 127.0.0.1 (never all interfaces): `preferredPort` when it is free (a registered
 * redirect URI stays valid), else any free port.
 */
export function listenForRedirect(preferredPort: number | undefined): LoopbackRedirect {
  /** Hands a callback to the waiting login; false when it is not the one awaited (another state, or none). */
  let deliver: ((outcome: { code?: string; error?: string; state?: string }) => boolean) | undefined;
  let finish: (signedIn: boolean) => void = () => undefined;
  const finished = new Promise<boolean>((resolve) => (finish = resolve));
  const serve = (port: number) =>
    Bun.serve({
      hostname: "127.0.0.1",
      port,
      async fetch(request) {
        const url = new URL(request.url);
        if (url.pathname !== CALLBACK_PATH) return new Response("Not found", { status: 404 });
        const code = url.searchParams.get("code") ?? undefined;
        const error = url.searchParams.get("error") ?? undefined;
        const state = url.searchParams.get("state") ?? undefined;
        const accepted = deliver?.({
          code,
          error:
            error === undefined
              ? undefined
              : `${error}${url.searchParams.get("error_description") ? `: ${url.searchParams.get("error_description")}` : ""}`,
          state,
        });
        // A stale tab of an earlier attempt, or a forged link, must not be told it signed anything in;
        // the awaited code is only a sign-in once the token endpoint has exchanged it.
        const signedIn =
          accepted === true && code !== undefined
            ? await Promise.race([finished, Bun.sleep(PAGE_WAIT_MS).then(() => undefined)])
            : false;
        const text =
          accepted !== true
            ? "This sign-in redirect is not the one baton-proxy is waiting for (an old or foreign link): nothing was done."
            : signedIn === true
              ? "baton-proxy is signed in. You can close this window."
              : signedIn === undefined
                ? "baton-proxy received the sign-in and is still finishing it; see the terminal."
                : "baton-proxy could not sign in; see the terminal.";
        return new Response(`<!doctype html><meta charset="utf-8"><title>baton-proxy</title><p>${text}</p>`, {
          status: accepted === true ? 200 : 400,
          headers: { "Content-Type": "text/html; charset=utf-8" },
        });
      },
    });
  let server: ReturnType<typeof serve>;
  try {
    server = serve(preferredPort ?? 0);
  } catch {
    server = serve(0);
  }
  const port = server.port as number;
  return {
    port,
    redirectUrl: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    waitForCode(state, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new LocalError("E_AUTH", `no answer from the browser within ${Math.round(timeoutMs / 1000)} s`)),
          timeoutMs,
        );
        deliver = (outcome) => {
          if (outcome.state !== state) return false; // a stale or forged callback: keep waiting for ours
          clearTimeout(timer);
          if (outcome.code !== undefined) resolve(outcome.code);
          else
            reject(
              new LocalError(
                "E_AUTH",
                `the authorization server refused: ${outcome.error ?? "no code in the redirect"}`,
              ),
            );
          return true;
        };
      });
    },
    finish,
    close() {
      finish(false);
      // Not forced: a page held for the exchange's outcome is still sent.
      void server.stop();
    },
  };
}

/**
 * Opens `url` for the user: `BATON_OAUTH_OPENER` (a command line, split on spaces, run with the
 * URL appended) when set, else the platform's opener. Failing to open is not fatal: the caller
 * prints the URL too. False when no opener could be started (none on this machine).
 */
export function openBrowser(
  url: string,
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
): boolean {
  const custom = env.BATON_OAUTH_OPENER?.trim();
  const command = custom
    ? [...custom.split(/\s+/), url]
    : platform === "darwin"
      ? ["open", url]
      : platform === "win32"
        ? ["rundll32", "url.dll,FileProtocolHandler", url]
        : ["xdg-open", url];
  try {
    const child = Bun.spawn(command, {
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      env: { ...env } as Record<string, string>,
    });
    child.unref();
    return true;
  } catch {
    // No opener on this machine (a server, a container): the printed URL is the way.
    return false;
  }
}
