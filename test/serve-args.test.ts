import { describe, expect, test } from "bun:test";
import { parseCommandArgs, renderCommandHelp } from "../src/command-spec.ts";
import { KNOWN_VARIABLES, URL_ONLY_VARIABLES } from "../src/config.ts";
import { parseServeArgs, SERVE_FLAGS } from "../src/serve/serve-args.ts";
import { SERVE_SPEC } from "../src/serve/serve-spec.ts";

const ok = (argv: string[], env: Record<string, string> = {}) => {
  const result = parseServeArgs(argv, env);
  if (result.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.config;
};

describe("parseServeArgs", () => {
  test("defaults follow the contract", () => {
    const config = ok(["--upstream", "http://127.0.0.1:3000/mcp"]);
    expect(config.upstream.href).toBe("http://127.0.0.1:3000/mcp");
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.adminListen).toEqual({ host: "127.0.0.1", port: 9464 });
    expect(config.path).toBe("/mcp");
    expect(config.allowedOrigins).toBe("loopback");
    expect(config.maxBodyBytes).toBe(16_777_216);
    expect(config.drainTimeoutMs).toBe(20_000);
    expect(config.sessionIdleMs).toBe(1_800_000);
    expect(config.baton.consentMode).toBe("static");
    expect(Object.isFrozen(config)).toBe(true);
  });

  test("an http:// upstream gets the own HTTP/1.1 client unless a forward proxy is configured; https:// always fetch", () => {
    expect(ok(["--upstream", "http://127.0.0.1:3000/mcp"]).upstreamViaFetch).toBe(false);
    expect(ok(["--upstream", "http://127.0.0.1:3000/mcp"], { HTTP_PROXY: " " }).upstreamViaFetch).toBe(false);
    expect(ok(["--upstream", "http://127.0.0.1:3000/mcp"], { HTTP_PROXY: "http://proxy:3128" }).upstreamViaFetch).toBe(
      true,
    );
    expect(ok(["--upstream", "http://127.0.0.1:3000/mcp"], { http_proxy: "http://proxy:3128" }).upstreamViaFetch).toBe(
      true,
    );
    expect(ok(["--upstream", "https://mcp.example/mcp"]).upstreamViaFetch).toBe(true);
  });

  test("every flag has an env form, and the flag wins", () => {
    const env = {
      BATON_UPSTREAM: "https://mcp.example/v1/mcp",
      BATON_LISTEN: "0.0.0.0:8080",
      BATON_PATH: "/env-path",
      BATON_ADMIN_LISTEN: "0.0.0.0:9464",
      BATON_ALLOWED_ORIGINS: "https://app.example, https://Other.example/",
      BATON_MAX_BODY_BYTES: "1024",
      BATON_DRAIN_TIMEOUT_MS: "5000",
      BATON_SESSION_IDLE_MS: "60000",
      BATON_IDLE_TIMEOUT_MS: "30000",
      BATON_BODY_TIMEOUT_MS: "7000",
      BATON_MAX_SESSIONS: "50",
    };
    const fromEnv = ok([], env);
    expect(fromEnv.upstream.href).toBe("https://mcp.example/v1/mcp");
    expect(fromEnv.listen).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(fromEnv.path).toBe("/env-path");
    expect(fromEnv.allowedOrigins).toEqual(["https://app.example", "https://other.example"]);
    expect([fromEnv.maxBodyBytes, fromEnv.drainTimeoutMs, fromEnv.sessionIdleMs, fromEnv.idleTimeoutMs]).toEqual([
      1024, 5000, 60000, 30000,
    ]);
    expect(fromEnv.bodyTimeoutMs).toBe(7000);
    expect([fromEnv.maxSessions, ok(["--max-sessions", "5"], env).maxSessions]).toEqual([50, 5]);
    expect(ok([], { BATON_UPSTREAM: "http://127.0.0.1:1/mcp" }).maxSessions).toBe(10_000);
    expect(ok(["--body-timeout-ms", "2500"], env).bodyTimeoutMs).toBe(2500);
    expect(ok([], { BATON_UPSTREAM: "http://127.0.0.1:1/mcp" }).bodyTimeoutMs).toBe(30_000);
    const flagged = ok(
      ["--upstream=http://127.0.0.1:1/x", "--listen", "[::1]:0", "--path", "/flag", "--max-body-bytes", "2048"],
      env,
    );
    expect(flagged.upstream.href).toBe("http://127.0.0.1:1/x");
    expect(flagged.listen).toEqual({ host: "::1", port: 0 });
    expect(flagged.path).toBe("/flag");
    expect(flagged.maxBodyBytes).toBe(2048);
    expect(flagged.drainTimeoutMs).toBe(5000);
  });

  test("an origin list of only commas is refused: it allowed no browser origin at all, not even the loopback default", () => {
    for (const [argv, env, label] of [
      [["--allowed-origins", ","], {}, "--allowed-origins"],
      [[], { BATON_ALLOWED_ORIGINS: " , ," }, "BATON_ALLOWED_ORIGINS"],
    ] as const) {
      const result = parseServeArgs([...argv, "--upstream", "http://127.0.0.1:1/mcp"], env);
      expect(result.kind === "problems" && result.problems).toEqual([
        `${label} lists no origin (unset, it allows the loopback origins; * allows all)`,
      ]);
    }
    expect(
      ok(["--upstream", "http://127.0.0.1:1/mcp"], { BATON_ALLOWED_ORIGINS: "https://a.example," }).allowedOrigins,
    ).toEqual(["https://a.example"]);
  });

  // A default port, an IDN host or an IPv6 address is written otherwise in a browser's Origin header, so the
  // entry could never match: the refusal said "not an origin (scheme://host[:port], no path)" of what is one.
  test("an origin spelt otherwise than browsers send it is refused with the spelling that works", () => {
    const problems = (origins: string) => {
      const result = parseServeArgs(["--upstream", "http://127.0.0.1:1/mcp", "--allowed-origins", origins], {});
      return result.kind === "problems" ? result.problems.join("\n") : "";
    };
    expect(problems("https://app.example:443")).toContain(
      'entry "https://app.example:443" is not an origin as a browser sends it, which is "https://app.example": give that form',
    );
    expect(problems("http://bücher.example")).toContain('which is "http://xn--bcher-kva.example"');
    expect(problems("https://a.example/path")).toContain("is not an origin (scheme://host[:port], no path)");
  });

  // README: "Secrets never appear in any output: every URL printed has its credentials, query and fragment masked".
  test("a refused origin is quoted with its credentials and query masked", () => {
    for (const origins of [
      "https://user:pw-secret@a.example",
      "https://a.example/?key=pw-secret",
      "https://a.example#pw-secret",
    ]) {
      const result = parseServeArgs(["--upstream", "http://127.0.0.1:1/mcp", "--allowed-origins", origins], {});
      const text = result.kind === "problems" ? result.problems.join("\n") : "";
      expect(text).toContain("--allowed-origins entry");
      expect(text).not.toContain("pw-secret");
    }
  });

  test("every problem at once, secrets never echoed", () => {
    const result = parseServeArgs(
      [
        "--listen",
        "nope",
        "--max-body-bytes",
        "12x",
        "--drain-timeout-ms=-1",
        "--allowed-origins",
        "https://a.example/path",
        "--idle-timeout-ms",
        "999999",
        "--body-timeout-ms",
        "0",
        "--max-sessions",
        "0",
      ],
      { BATON_UPSTREAM: "ftp://x", BATON_SCRUB: "maybe", BATON_API_KEY: "sk-secret-value" },
    );
    expect(result.kind).toBe("problems");
    const text = result.kind === "problems" ? result.problems.join("\n") : "";
    for (const part of [
      "--listen must be HOST:PORT",
      "BATON_UPSTREAM must be an http:// or https:// URL",
      "--max-body-bytes must be a whole number",
      "--drain-timeout-ms must be a whole number",
      'entry "https://a.example/path" is not an origin',
      "--idle-timeout-ms must be at most",
      '--body-timeout-ms must be a whole number ≥ 1 (got "0")',
      '--max-sessions must be a whole number ≥ 1 (got "0")',
      'BATON_SCRUB must be "on" or "off"',
    ]) {
      expect(text).toContain(part);
    }
    expect(text).not.toContain("sk-secret-value");
  });

  test("--body-timeout-ms beyond what a timer can wait is refused", () => {
    const result = parseServeArgs(["--body-timeout-ms", "2147483648"], { BATON_UPSTREAM: "http://127.0.0.1:1/mcp" });
    expect(result.kind === "problems" ? result.problems.join("\n") : "").toContain(
      "--body-timeout-ms must be at most 2147483647",
    );
  });

  test("usage errors: unknown option, stray argument, missing value", () => {
    const problems = (argv: string[]) => {
      const result = parseServeArgs(argv, { BATON_UPSTREAM: "http://127.0.0.1:1/mcp" });
      return result.kind === "problems" ? result.problems.join("\n") : "";
    };
    expect(problems(["--bogus"])).toBe("unknown option --bogus");
    expect(problems(["--lisen", "0.0.0.0:8080"])).toBe("unknown option --lisen (did you mean --listen?)");
    expect(problems(["--max-session", "5"])).toBe("unknown option --max-session (did you mean --max-sessions?)");
    expect(problems(["stray"])).toContain('unexpected argument "stray"');
    expect(problems(["--listen"])).toContain("--listen needs a value");
  });

  test("a flag given a blank value is refused as missing, not read as unset (the default, or its variable's value)", () => {
    // `--listen "$LISTEN"` with LISTEN unset must not listen on the default and call BATON_LISTEN overridden.
    const env = { BATON_UPSTREAM: "http://127.0.0.1:1/mcp", BATON_LISTEN: "127.0.0.1:0", BATON_MAX_SESSIONS: "5" };
    for (const [argv, message] of [
      [["--listen", " "], "--listen needs a value (HOST:PORT)"],
      [["--max-sessions=\t"], "--max-sessions needs a value (N)"],
      [["--upstream", "  "], "--upstream needs a value (URL)"],
    ] as const) {
      const result = parseServeArgs(argv, env);
      expect(result.kind === "problems" && result.problems.join("\n")).toBe(message);
    }
  });

  test("the upstream is required and may not carry credentials", () => {
    const missing = parseServeArgs([], {});
    expect(missing.kind === "problems" && missing.problems.join("\n")).toContain(
      "--upstream (or BATON_UPSTREAM) is required",
    );
    const withUser = parseServeArgs(["--upstream", "https://u:p@mcp.example/mcp"], {});
    expect(withUser.kind === "problems" && withUser.problems.join("\n")).toContain("must not carry credentials");
  });

  test("a server command given to serve (as --upstream, or after it) is told where a stdio server goes", () => {
    for (const argv of [
      ["--upstream", "npx -y @modelcontextprotocol/server-everything"],
      ["--", "npx", "-y", "@modelcontextprotocol/server-everything"],
      ["npx", "@modelcontextprotocol/server-everything"],
    ]) {
      const result = parseServeArgs(argv, {});
      const text = result.kind === "problems" ? result.problems.join("\n") : "";
      expect(text).toContain("baton-proxy -- <command>");
    }
    // The binary parses the subcommand's spec first: the same hint there.
    expect(() => parseCommandArgs(SERVE_SPEC, ["--", "npx", "server"])).toThrow("baton-proxy -- <command>");
  });

  test("an upstream written without its scheme (localhost:3000/mcp, read as the scheme 'localhost:') is said to lack http(s)://, not to be of scheme \"localhost:\"", () => {
    const result = parseServeArgs(["--upstream", "localhost:3000/mcp"], {});
    const text = result.kind === "problems" ? result.problems.join("\n") : "";
    expect(text).toContain("has no http:// or https:// in front");
    expect(text).not.toContain('got "localhost:"');
  });

  test("an upstream URL refused as invalid is quoted masked: its password and query (an API key) never echoed", () => {
    const result = parseServeArgs(["--upstream", "https://u:pw-secret@mcp example/mcp?api_key=key-secret"], {});
    const text = result.kind === "problems" ? result.problems.join("\n") : "";
    expect(text).toContain('--upstream "https://***@mcp example/mcp?***" is not a valid URL');
    expect(text).not.toContain("pw-secret");
    expect(text).not.toContain("key-secret");
  });

  test("--path must be written as requests arrive (URL parsing would never match it otherwise): refused, with the spelling that works", () => {
    const problems = (path: string) => {
      const result = parseServeArgs(["--upstream", "http://127.0.0.1:1/mcp", "--path", path], {});
      return result.kind === "problems" ? result.problems.join("\n") : "";
    };
    expect(problems("/ä")).toContain('--path "/ä" is read as "/%C3%A4"');
    expect(problems("/a/../mcp")).toContain('--path "/a/../mcp" is read as "/mcp"');
    expect(problems("/%7Emcp")).toBe("");
    expect(problems("/mcp/")).toBe("");
    // A path that starts with "/" but holds what no request path can: the refusal names what is wrong.
    expect(problems("mcp")).toContain('--path must start with "/" (got "mcp")');
    // Quoted with its query and fragment masked (a key in it must not reach the log).
    expect(problems("/mcp?key=pw-secret")).toContain(
      '--path must be a path alone, without "?", "#" or spaces (got "/mcp?***")',
    );
    expect(problems("/mcp#pw-secret")).not.toContain("pw-secret");
    expect(problems("mcp?key=pw-secret")).toContain('--path must start with "/" (got "mcp?***")');
    expect(problems("/a b")).toContain('--path must be a path alone, without "?", "#" or spaces (got "/a b")');
    expect(ok(["--upstream", "http://127.0.0.1:1/caf%C3%A9/mcp"]).path).toBe("/caf%C3%A9/mcp");
  });

  test("admin and MCP listeners may not share an address", () => {
    const result = parseServeArgs(
      ["--upstream", "http://127.0.0.1:1/mcp", "--listen", "127.0.0.1:9000", "--admin-listen", "0.0.0.0:9000"],
      {},
    );
    expect(result.kind === "problems" && result.problems.join("\n")).toContain("must differ");
  });

  test("per-request consent allows a remote sink without BATON_CONSENT_TOKEN; static mode does not", () => {
    const env = {
      BATON_UPSTREAM: "http://127.0.0.1:1/mcp",
      BATON_EVENT_SINK: "https://console.example",
      BATON_API_KEY: "k-123456",
    };
    expect(parseServeArgs([], env).kind).toBe("problems");
    const config = ok([], { ...env, BATON_CONSENT_MODE: "per-request" });
    expect(config.baton.consentMode).toBe("per-request");
    expect(config.baton.allSinksLocal).toBe(false);
    const bad = parseServeArgs([], { ...env, BATON_CONSENT_MODE: "sometimes" });
    expect(bad.kind === "problems" && bad.problems.join("\n")).toContain(
      'BATON_CONSENT_MODE must be "static" or "per-request"',
    );
  });

  test("serve variables are known (no typo warning)", () => {
    const config = ok([], {
      BATON_UPSTREAM: "http://127.0.0.1:1/mcp",
      BATON_LISTEN: "127.0.0.1:0",
      BATON_ADMIN_LISTEN: "127.0.0.1:0",
      BATON_CONSENT_MODE: "per-request",
      BATON_UPSTRAEM: "x",
    });
    expect(config.baton.warnings.join("\n")).toContain("BATON_UPSTRAEM");
    expect(config.baton.warnings.join("\n")).not.toContain("ignoring unknown variable BATON_LISTEN");
  });

  test("--help; serve --help lists every flag and its env form", () => {
    expect(parseServeArgs(["--help"], {}).kind).toBe("help");
    const usage = renderCommandHelp(SERVE_SPEC);
    for (const spec of Object.values(SERVE_FLAGS)) {
      expect(usage).toContain(spec.flag);
      expect(usage).toContain(spec.env);
    }
    expect(usage).toContain("BATON_CONSENT_MODE");
  });

  test("serve --help states the range the parser enforces for bounded flags", () => {
    const row = (flag: string) =>
      renderCommandHelp(SERVE_SPEC)
        .split("\n")
        .find((line) => line.includes(` ${flag} `)) ?? "";
    const upstream = ["--upstream", "http://127.0.0.1:1/mcp"];
    expect(parseServeArgs([...upstream, "--idle-timeout-ms", "999"], {}).kind).toBe("problems");
    expect(row("--idle-timeout-ms")).toContain("from 1000 to 255000");
    expect(parseServeArgs([...upstream, "--body-timeout-ms", "2147483648"], {}).kind).toBe("problems");
    expect(row("--body-timeout-ms")).toContain("at most 2147483647");
  });

  test("serve --help lists every BATON_* setting it shares with the stdio proxy (the README says it does)", () => {
    const usage = renderCommandHelp(SERVE_SPEC);
    const own = new Set<string>(Object.values(SERVE_FLAGS).map((spec) => spec.env));
    for (const name of KNOWN_VARIABLES.filter(
      (n) => !own.has(n) && !(URL_ONLY_VARIABLES as readonly string[]).includes(n) && n !== "BATON_PRINCIPAL",
    ))
      expect(usage).toContain(name);
    for (const name of URL_ONLY_VARIABLES) expect(usage).not.toContain(name);
  });

  test("serve --help does not list BATON_PRINCIPAL among the settings that apply: serve never uses it", () => {
    const usage = renderCommandHelp(SERVE_SPEC).replace(/\s+/g, " ");
    const shared = /settings apply too: (.*?)\(see README\)/.exec(usage)?.[1] ?? "";
    expect(shared).toContain("BATON_PRINCIPAL_HEADER");
    expect(shared).not.toMatch(/BATON_PRINCIPAL(?!_)/);
    expect(usage).toMatch(/BATON_PRINCIPAL(?!_)[^.]* not used/);
  });

  test("a variable its flag overrides with another value is named in a warning (the image's default command passes --listen)", () => {
    const result = parseServeArgs(["--upstream", "http://127.0.0.1:3000/mcp", "--listen", "0.0.0.0:8080"], {
      BATON_LISTEN: "0.0.0.0:9000",
      BATON_ADMIN_LISTEN: "0.0.0.0:9465",
    });
    if (result.kind !== "ok") throw new Error(result.kind);
    expect(result.config.listen.port).toBe(8080);
    expect(result.config.baton.warnings).toEqual([
      "BATON_LISTEN is set but --listen is given, and the flag wins: BATON_LISTEN is ignored",
    ]);
    // The same value twice, or only one of them: nothing to say.
    for (const env of [{ BATON_LISTEN: "0.0.0.0:8080" }, {}]) {
      const same = parseServeArgs(["--upstream", "http://127.0.0.1:3000/mcp", "--listen", "0.0.0.0:8080"], env);
      if (same.kind !== "ok") throw new Error(same.kind);
      expect(same.config.baton.warnings).toEqual([]);
    }
  });

  test("every serve flag's environment form is a known variable (else the proxy warns that the setting it uses is ignored)", () => {
    const known = new Set<string>(KNOWN_VARIABLES);
    const unknown = Object.values(SERVE_FLAGS)
      .map((spec) => spec.env)
      .filter((name) => !known.has(name));
    expect(unknown).toEqual([]);
  });
});
