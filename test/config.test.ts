import { describe, expect, test } from "bun:test";
import { KNOWN_VARIABLES, loadConfig, maskUrl } from "../src/config.ts";
import { defaultFileSinkPath, RELATIVE_CONFIG_DIR, RELATIVE_LOG_FILE } from "../src/config-values.ts";

describe("loadConfig", () => {
  test("defaults: stderr + /tmp file, placeholders, scrubbing on", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.sinks).toEqual([{ kind: "stderr" }, { kind: "file", path: "/tmp/baton-proxy.jsonl" }]);
    expect(result.config.allSinksLocal).toBe(true);
    expect(result.config.tenantId).toBe("local");
    expect(result.config.vendorId).toBe("unknown");
    expect(result.config.scrub).toBe("on");
    expect(Object.isFrozen(result.config)).toBe(true);
    expect(Object.isFrozen(result.config.sinks)).toBe(true);
  });

  test.each([
    [
      "https sink with key and token",
      { BATON_EVENT_SINK: "https://console.example/", BATON_API_KEY: "k-123456", BATON_CONSENT_TOKEN: "ct_1" },
      [{ kind: "http", url: "https://console.example" }],
    ],
    [
      "file with percent-encoding",
      { BATON_EVENT_SINK: "file:///tmp/a%20b.jsonl" },
      [{ kind: "file", path: "/tmp/a b.jsonl" }],
    ],
    ["whitespace and trailing comma", { BATON_EVENT_SINK: " stderr: , " }, [{ kind: "stderr" }]],
  ])("%s", (_name, env, sinks) => {
    const result = loadConfig(env);
    expect(result.ok && result.config.sinks).toEqual(sinks as never);
  });

  test("every problem is reported at once", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "ftp://bucket,https://console.example,file://relative/x.jsonl,::not a url",
      BATON_SCRUB: "maybe",
      BATON_SLOW_CALL_MS: "12abc",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.join("\n");
    expect(text).toContain('unsupported scheme "ftp:"');
    expect(text).toContain("BATON_API_KEY is required");
    expect(text).toContain("BATON_CONSENT_TOKEN is still the placeholder");
    expect(text).toContain("must be an absolute path");
    expect(text).toContain("is not a valid URL");
    expect(text).toContain("BATON_SCRUB");
    expect(text).toContain("BATON_SLOW_CALL_MS");
    expect(result.problems).toHaveLength(7);
  });

  test("a sink entry refused for its shape still has its own settings checked, so one round shows every problem", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "https://console.example/ingest?tenant=a,s3://x/events",
      BATON_S3_GZIP: "maybe",
    });
    expect(result.ok).toBe(false);
    const text = !result.ok && result.problems.join("\n");
    expect(text).toContain("must not have a query");
    expect(text).toContain("missing a valid bucket name");
    expect(text).toContain("BATON_API_KEY is required");
    expect(text).toContain("BATON_CONSENT_TOKEN is still the placeholder");
    expect(text).toContain("an s3:// sink needs AWS_ACCESS_KEY_ID");
    expect(text).toContain("BATON_S3_GZIP");
  });

  test.each([
    ["empty list", { BATON_EVENT_SINK: "," }, "is empty"],
    ["duplicate sink", { BATON_EVENT_SINK: "stderr:,stderr:" }, "twice"],
    ["directory as file", { BATON_EVENT_SINK: "file:///tmp/" }, "directory"],
    [
      "http with query",
      { BATON_EVENT_SINK: "https://c.example/?x=1", BATON_API_KEY: "k", BATON_CONSENT_TOKEN: "t" },
      "query",
    ],
    ["zero slow threshold", { BATON_SLOW_CALL_MS: "0" }, "BATON_SLOW_CALL_MS"],
    ["NaN slow threshold", { BATON_SLOW_CALL_MS: "NaN" }, "BATON_SLOW_CALL_MS"],
  ])("refuses %s", (_name, env, fragment) => {
    const result = loadConfig(env);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join("\n")).toContain(fragment);
  });

  test("BATON_SCRUB_KEYS: names trimmed and lower-cased, empty entries dropped", () => {
    const result = loadConfig({ BATON_SCRUB_KEYS: " SSN , Member_No ,, " });
    expect(result.ok && result.config.scrubKeys).toEqual(["ssn", "member_no"]);
    expect(Object.isFrozen(result.ok && result.config.scrubKeys)).toBe(true);
    const none = loadConfig({ BATON_SCRUB_KEYS: " , " });
    expect(none.ok && none.config.scrubKeys).toEqual([]);
  });

  test("a variable set to blanks counts as unset: a blank BATON_CONSENT_TOKEN is still the placeholder a remote sink refuses", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "https://console.example",
      BATON_API_KEY: "k-1",
      BATON_CONSENT_TOKEN: " \t ",
    });
    expect(!result.ok && result.problems.join("\n")).toContain("BATON_CONSENT_TOKEN is still the placeholder");
    const blankTenant = loadConfig({ BATON_TENANT_ID: "  " });
    expect(blankTenant.ok && blankTenant.config.tenantId).toBe("local");
  });

  test("s3:// entries: credentials, a port or a bad prefix are refused (never dropped while the other sinks run); a 3-letter bucket is fine", () => {
    const env = {
      BATON_CONSENT_TOKEN: "ct-1",
      AWS_ACCESS_KEY_ID: "AKIA1",
      AWS_SECRET_ACCESS_KEY: "s3-secret-1",
      AWS_REGION: "eu-west-1",
    };
    const refused = (entry: string): string => {
      const result = loadConfig({ ...env, BATON_EVENT_SINK: `stderr:,${entry}` });
      return result.ok ? "accepted" : result.problems.join("\n");
    };
    expect(refused("s3://key:hunter2@bucket/p")).toContain(
      "must be s3://bucket/prefix (credentials come from AWS_* variables)",
    );
    expect(refused("s3://key:hunter2@bucket/p")).not.toContain("hunter2");
    expect(refused("s3://AKIAONLY@bucket/p")).toContain("must be s3://bucket/prefix");
    expect(refused("s3://bucket:9000/p")).toContain("must be s3://bucket/prefix");
    expect(refused("s3://bucket/%zz")).toContain("has a badly percent-encoded prefix");
    expect(refused("s3://ab/p")).toContain("missing a valid bucket name");
    const ok = loadConfig({ ...env, BATON_EVENT_SINK: "s3://abc/events/" });
    expect(ok.ok && ok.config.sinks).toEqual([{ kind: "s3", bucket: "abc", prefix: "events" }]);
  });

  test("secrets never appear in problems, and URL credentials are masked", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "ftp://user:hunter2@host/x",
      BATON_API_KEY: "sk-supersecret-key",
      BATON_CONSENT_TOKEN: "ct-secret-token",
    });
    expect(result.ok).toBe(false);
    const text = !result.ok ? result.problems.join("\n") : "";
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("sk-supersecret-key");
    expect(text).not.toContain("ct-secret-token");
  });

  test("BATON_PRINCIPAL_HEADER must be an HTTP header name: one that is not (X-User:, X User) made every serve request a 500", () => {
    for (const name of ["X-User:", "X User", "x-üser"]) {
      const result = loadConfig({ BATON_PRINCIPAL_HEADER: name });
      expect(!result.ok && result.problems).toEqual([
        "BATON_PRINCIPAL_HEADER must be an HTTP header name (letters, digits and !#$%&'*+-.^_`|~; no colon, no space)",
      ]);
    }
    const fine = loadConfig({ BATON_PRINCIPAL_HEADER: " X-Forwarded-User " });
    expect(fine.ok && fine.config.principalHeader).toBe("X-Forwarded-User");
  });

  test("a token sent in an HTTP header must be one a header can carry (else every request or flush failed), never quoted", () => {
    const http = { BATON_EVENT_SINK: "https://c.example", BATON_CONSENT_TOKEN: "ct-1" };
    const result = loadConfig({
      ...http,
      BATON_API_KEY: "sk-\u2192secret",
      BATON_UPSTREAM_AUTH_TOKEN: "tok-\u2192secret",
    });
    expect(!result.ok && result.problems).toEqual([
      "BATON_API_KEY has a line break, NUL or a character beyond U+00FF (it is sent in an HTTP header, which cannot carry it)",
      "BATON_UPSTREAM_AUTH_TOKEN has a line break, NUL or a character beyond U+00FF (it is sent in an HTTP header, which cannot carry it)",
    ]);
    expect(loadConfig({ BATON_UPSTREAM_AUTH_TOKEN: "line-one\nline-two" }).ok).toBe(false);
    // Without an http(s):// sink the key is not sent anywhere: not refused.
    expect(loadConfig({ BATON_API_KEY: "sk-\u2192secret" }).ok).toBe(true);
  });

  test("BATON_API_KEY without an http(s):// sink is named in a warning (a forgotten console sink would otherwise send nothing, silently), never its value", () => {
    const result = loadConfig({ BATON_API_KEY: "sk-live-abc123" });
    expect(result.ok && result.config.warnings).toEqual([
      "BATON_API_KEY is set but no http(s):// sink is configured (BATON_EVENT_SINK): it is not used, and no event goes to a console",
    ]);
    const withSink = loadConfig({
      BATON_API_KEY: "sk-live-abc123",
      BATON_EVENT_SINK: "https://console.example",
      BATON_CONSENT_TOKEN: "consent-123",
    });
    expect(withSink.ok && withSink.config.warnings).toEqual([]);
  });

  test("a log file that is a file:// sink's event file is not written (its lines would break the JSON Lines every reader parses), with a warning", () => {
    // Each log line became a line of the event file: `report` skipped it as malformed without saying why, jq stopped at it.
    for (const env of [
      { BATON_PROXY_LOG_FILE: "/tmp/baton-proxy.jsonl" },
      {
        BATON_EVENT_SINK: "stderr:,file:///var/log/baton/events.jsonl",
        BATON_PROXY_LOG_FILE: "/var/log//baton/./events.jsonl",
      },
    ]) {
      const result = loadConfig(env, { platform: "linux" });
      expect(result.ok && result.config.logFile).toBeUndefined();
      expect(result.ok && result.config.warnings).toEqual([
        `BATON_PROXY_LOG_FILE ${env.BATON_PROXY_LOG_FILE} is the event file of a file:// sink (BATON_EVENT_SINK): log lines there would break its JSON Lines; logging to stderr only`,
      ]);
    }
    const apart = loadConfig({ BATON_PROXY_LOG_FILE: "/tmp/baton-proxy.log" }, { platform: "linux" });
    expect(apart.ok && apart.config.logFile).toBe("/tmp/baton-proxy.log");
    expect(apart.ok && apart.config.warnings).toEqual([]);
  });

  test("unknown BATON_ variables are warnings naming the likely intended variable", () => {
    const result = loadConfig({ BATON_EVENT_SINKS: "stderr:", BATON_NONSENSE_THING: "1", baton_scrub: "off" });
    expect(result.ok && result.config.warnings).toEqual([
      "unknown variable BATON_EVENT_SINKS is ignored: did you mean BATON_EVENT_SINK?",
      `unknown variable BATON_NONSENSE_THING is ignored (known: ${KNOWN_VARIABLES.join(", ")})`,
      "unknown variable baton_scrub is ignored: did you mean BATON_SCRUB?",
    ]);
  });

  test("BUN_OPTIONS (read by the Bun runtime before the proxy runs) is named in a warning, its value never quoted", () => {
    const result = loadConfig({ BUN_OPTIONS: "--preload /home/me/secret-hook.ts" });
    const warnings = result.ok ? result.config.warnings : [];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toStartWith("BUN_OPTIONS is set: Bun applied it to this binary");
    expect(warnings.join("\n")).not.toContain("secret-hook");
    const blank = loadConfig({ BUN_OPTIONS: "  " });
    expect(blank.ok && blank.config.warnings).toEqual([]);
  });

  test("a misspelt name is reported together with the refusal it probably caused", () => {
    const result = loadConfig({
      BATON_EVENT_SINK: "https://c.example",
      BATON_APIKEY: "k-1234567",
      BATON_CONSENT_TOKEN: "t-1",
    });
    expect(!result.ok && result.problems).toEqual([
      "BATON_API_KEY is required with an http(s):// sink (it is sent as the Bearer token)",
      "unknown variable BATON_APIKEY is ignored: did you mean BATON_API_KEY?",
    ]);
  });

  test.each([
    ["stderr", 'BATON_EVENT_SINK entry "stderr" is not a valid URL: did you mean "stderr:"?'],
    ["/tmp/x.jsonl", 'BATON_EVENT_SINK entry "/tmp/x.jsonl" is not a valid URL: did you mean "file:///tmp/x.jsonl"?'],
    [
      "events.jsonl",
      'BATON_EVENT_SINK entry "events.jsonl" is not a valid URL (use stderr:, file:///abs/path.jsonl or https://host)',
    ],
    ["STDERR", 'BATON_EVENT_SINK entry "STDERR" is not a valid URL: did you mean "stderr:"?'],
  ])("the sink %j gets a suggestion", (sink, problem) => {
    const result = loadConfig({ BATON_EVENT_SINK: sink });
    expect(!result.ok && result.problems).toEqual([problem]);
  });

  test("no printed URL carries its query, fragment or credentials", () => {
    const result = loadConfig({
      BATON_EVENT_SINK:
        "https://u:pw-secret@c.example/x?api_key=SECRET1,ftp://h/?token=SECRET2,file://host/a?k=SECRET3,https://c.example/#access_token=SECRET4",
      BATON_API_KEY: "k-123456",
      BATON_CONSENT_TOKEN: "t-1",
    });
    const text = !result.ok ? result.problems.join("\n") : "";
    expect(result.ok).toBe(false);
    expect(text).toContain('"https://***@c.example/x?***" must not have a query');
    expect(text).toContain('"https://c.example/#***" must not have a query');
    for (const secret of ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "pw-secret"]) expect(text).not.toContain(secret);
  });

  test("maskUrl masks userinfo, query and fragment and leaves the rest", () => {
    expect(maskUrl("https://a:b@h.example:8443/p/q?x=1#y")).toBe("https://***@h.example:8443/p/q?***#***");
    expect(maskUrl("https://h.example/p")).toBe("https://h.example/p");
  });

  test("a URL behind another scheme (otlp:https://user:pw@host) is masked too: its userinfo is never echoed", () => {
    expect(maskUrl("otlp:https://a:b@h.example/p")).toBe("otlp:https://***@h.example/p");
    const result = loadConfig({ BATON_EVENT_SINK: "otlp:https://user:SECRET9@collector.example:4318" });
    const text = !result.ok ? result.problems.join("\n") : "";
    expect(result.ok).toBe(false);
    expect(text).toContain('"otlp:https://***@collector.example:4318"');
    expect(text).not.toContain("SECRET9");
  });

  test("secrets are collected for log redaction; the placeholder is not a secret", () => {
    const remote = loadConfig({
      BATON_EVENT_SINK: "https://c.example",
      BATON_API_KEY: "key-1234",
      BATON_CONSENT_TOKEN: "ct-5678",
    });
    expect(remote.ok && remote.config.secrets).toEqual(["key-1234", "ct-5678"]);
    expect(remote.ok && remote.config.allSinksLocal).toBe(false);
    const local = loadConfig({});
    expect(local.ok && local.config.secrets).toEqual([]);
  });
});

test("a Windows path as a sink gets its file:/// spelling", () => {
  const result = loadConfig({ BATON_EVENT_SINK: "C:\\Users\\me\\events.jsonl" });
  expect(!result.ok && result.problems).toEqual([
    'BATON_EVENT_SINK entry "C:\\Users\\me\\events.jsonl" has unsupported scheme "c:" (supported: stderr:, file://, http://, https://, s3://, otlp:): did you mean "file:///C:/Users/me/events.jsonl"?',
  ]);
});

test("otlp: and stderr: with anything after the colon: told the exact spelling (not an 'unsupported scheme' the list supports), otlp:'s settings checked in the same round", () => {
  const otlp = loadConfig({ BATON_EVENT_SINK: "otlp:http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
  expect(!otlp.ok && otlp.problems.filter((p) => !p.startsWith("OTEL_"))).toEqual([
    'BATON_EVENT_SINK entry "otlp:http://127.0.0.1:4318" must be exactly "otlp:": the collector comes from OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)',
    'BATON_CONSENT_TOKEN is still the placeholder "local": set a real consent token before sending events to a remote sink',
  ]);
  expect(!otlp.ok && otlp.problems.some((p) => p.startsWith("OTEL_EXPORTER_OTLP_PROTOCOL"))).toBe(true);
  const upper = loadConfig({ BATON_EVENT_SINK: "OTLP:x", BATON_CONSENT_TOKEN: "ct-1" });
  expect(!upper.ok && upper.problems[0]).toStartWith('BATON_EVENT_SINK entry "OTLP:x" must be exactly "otlp:"');
  const stderr = loadConfig({ BATON_EVENT_SINK: "stderr:x" });
  expect(!stderr.ok && stderr.problems).toEqual(['BATON_EVENT_SINK entry "stderr:x" must be exactly "stderr:"']);
});

test("a sink's scheme is read in any case (RFC 3986), for every sink alike: STDERR: and OTLP: as HTTPS:// and S3:// are", () => {
  const result = loadConfig({
    BATON_EVENT_SINK: "STDERR:,Otlp:,FILE:///tmp/a.jsonl,HTTPS://console.example,S3://bucket/p",
    BATON_CONSENT_TOKEN: "ct-1",
    BATON_API_KEY: "k",
    AWS_ACCESS_KEY_ID: "a",
    AWS_SECRET_ACCESS_KEY: "b",
  });
  expect(result.ok && result.config.sinks.map((s) => s.kind)).toEqual(["stderr", "otlp", "file", "http", "s3"]);
  const twice = loadConfig({ BATON_EVENT_SINK: "stderr:,STDERR:" });
  expect(!twice.ok && twice.problems).toEqual(["BATON_EVENT_SINK lists stderr: twice"]);
});

test("a file sink path with a % that is no escape (a Windows %APPDATA% written into the URL) is a listed problem, not a crash", () => {
  const result = loadConfig({ BATON_EVENT_SINK: "file:///%APPDATA%/baton/events.jsonl,file:///tmp/%E0.jsonl" });
  expect(!result.ok && result.problems).toEqual([
    'BATON_EVENT_SINK entry "file:///%APPDATA%/baton/events.jsonl" has a badly percent-encoded path (write "%" as %25; variables such as %APPDATA% are not expanded)',
    'BATON_EVENT_SINK entry "file:///tmp/%E0.jsonl" has a badly percent-encoded path (write "%" as %25; variables such as %APPDATA% are not expanded)',
  ]);
});

test("file:///C:/x.jsonl, the spelling the refusal of C:\\x.jsonl suggests, names C:/x.jsonl on Windows (the URL's path keeps a slash before the drive)", () => {
  const sink = "file:///C:/Users/me/My%20Events/events.jsonl";
  const windows = loadConfig({ BATON_EVENT_SINK: sink }, { platform: "win32" });
  expect(windows.ok && windows.config.sinks).toEqual([{ kind: "file", path: "C:/Users/me/My Events/events.jsonl" }]);
  const lower = loadConfig({ BATON_EVENT_SINK: "file://localhost/d:/x.jsonl" }, { platform: "win32" });
  expect(lower.ok && lower.config.sinks).toEqual([{ kind: "file", path: "d:/x.jsonl" }]);
  // Elsewhere /C:/… is an ordinary absolute path (a directory named "C:").
  const linux = loadConfig({ BATON_EVENT_SINK: sink }, { platform: "linux" });
  expect(linux.ok && linux.config.sinks).toEqual([{ kind: "file", path: "/C:/Users/me/My Events/events.jsonl" }]);
});

test("Windows: the default file sink is in %TEMP% (/tmp there names \\tmp on the current drive, which rarely exists: every event was lost)", () => {
  const windows = loadConfig({ TEMP: "C:\\Users\\me\\AppData\\Local\\Temp" }, { platform: "win32" });
  expect(windows.ok && windows.config.sinks).toEqual([
    { kind: "stderr" },
    { kind: "file", path: "C:\\Users\\me\\AppData\\Local\\Temp\\baton-proxy.jsonl" },
  ]);
  const noTemp = loadConfig({ SystemRoot: "D:\\Windows" }, { platform: "win32" });
  expect(noTemp.ok && noTemp.config.sinks[1]).toEqual({ kind: "file", path: "D:\\Windows\\Temp\\baton-proxy.jsonl" });
  expect(defaultFileSinkPath({ TEMP: "C:\\T" }, "darwin")).toBe("/tmp/baton-proxy.jsonl");
});

test("macOS and Windows: two file sinks whose paths differ only by case are one file there (every event written twice): refused as listed twice", () => {
  const env = { BATON_EVENT_SINK: "file:///tmp/Events.jsonl,file:///tmp/events.jsonl" };
  for (const platform of ["darwin", "win32"] as const) {
    const result = loadConfig(env, { platform });
    expect(!result.ok && result.problems).toEqual(["BATON_EVENT_SINK lists file:///tmp/events.jsonl twice"]);
  }
  expect(loadConfig(env, { platform: "linux" }).ok).toBe(true);
});

test("two file sinks whose paths differ only by a doubled slash are one file (every event written twice): refused as listed twice", () => {
  for (const [platform, list] of [
    ["linux", "file:///tmp/x//a.jsonl,file:///tmp/x/a.jsonl"],
    ["win32", "file:///C:/x//a.jsonl,file:///C:/x/a.jsonl"],
  ] as const) {
    const result = loadConfig({ BATON_EVENT_SINK: list }, { platform });
    expect(!result.ok && result.problems.length === 1 && result.problems[0]).toEndWith("twice");
  }
});

test("a relative BATON_CONFIG_DIR (~ is expanded by shells only, not by a host's env block) is refused: the sign-in tokens went under the host's working directory", () => {
  for (const dir of ["~/.baton", "baton"]) {
    const result = loadConfig({ BATON_CONFIG_DIR: dir }, { platform: "linux" });
    expect(!result.ok && result.problems).toEqual([RELATIVE_CONFIG_DIR]);
  }
  expect(loadConfig({ BATON_CONFIG_DIR: "/home/me/.baton" }, { platform: "linux" }).ok).toBe(true);
  expect(loadConfig({ BATON_CONFIG_DIR: "C:\\Users\\me\\baton" }, { platform: "win32" }).ok).toBe(true);
});

test("a relative BATON_PROXY_LOG_FILE (a ~ a host does not expand) is refused with every other problem: it was opened under whatever directory the host started the proxy in", () => {
  for (const file of ["~/baton.log", "baton.log", "logs/baton.log"]) {
    const result = loadConfig({ BATON_PROXY_LOG_FILE: file, BATON_CONFIG_DIR: "baton" }, { platform: "linux" });
    expect(!result.ok && result.problems).toEqual([RELATIVE_CONFIG_DIR, RELATIVE_LOG_FILE]);
  }
  expect(loadConfig({ BATON_PROXY_LOG_FILE: "/var/log/baton.log" }, { platform: "linux" }).ok).toBe(true);
  expect(loadConfig({ BATON_PROXY_LOG_FILE: "C:\\logs\\baton.log" }, { platform: "win32" }).ok).toBe(true);
  expect(loadConfig({ BATON_PROXY_LOG_FILE: "logs\\baton.log" }, { platform: "win32" }).ok).toBe(false);
});
