// Unit: the BATON_* variables of issue 13 (intent params, capture groups, user_id key and principals) in loadConfig.

import { describe, expect, test } from "bun:test";
import { loadConfig } from "../src/config.ts";
import { hashUserId } from "../src/identity/user-id.ts";

describe("issue 13 variables", () => {
  test("defaults: optional intent params, every capture group, no key, no principal", () => {
    const loaded = loadConfig({});
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(loaded.config.intentParam).toBe("optional");
    expect([...loaded.config.capture]).toEqual(["tools", "resources", "prompts"]);
    expect([loaded.config.userIdKey, loaded.config.principal, loaded.config.principalHeader]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(loaded.config.warnings).toEqual([]);
  });

  test.each([
    [{ BATON_INTENT_PARAM: "REQUIRED" }, "intentParam", "required"],
    [{ BATON_INTENT_PARAM: " off " }, "intentParam", "off"],
    [{ BATON_CAPTURE: "Tools, prompts," }, "capture", new Set(["tools", "prompts"])],
    [{ BATON_CAPTURE: "None" }, "capture", new Set()],
    [{ BATON_PRINCIPAL_HEADER: "X-Forwarded-User" }, "principalHeader", "X-Forwarded-User"],
  ] as const)("%j", (env, key, value) => {
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(loaded.config[key]).toEqual(value as never);
  });

  test("bad values are all reported at once", () => {
    const loaded = loadConfig({ BATON_INTENT_PARAM: "always", BATON_CAPTURE: "tools,logs,sampling" });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems).toEqual([
      'BATON_INTENT_PARAM must be one of optional, required, off (got "always")',
      'BATON_CAPTURE lists unknown group "logs" (known: tools, resources, prompts)',
      'BATON_CAPTURE lists unknown group "sampling" (known: tools, resources, prompts)',
    ]);
  });

  test("a BATON_CAPTURE that lists no group is refused: an empty value means every group, so `,` meaning none would be a trap", () => {
    for (const value of [",", " , ,"]) {
      const loaded = loadConfig({ BATON_CAPTURE: value });
      expect(loaded.ok).toBe(false);
      if (loaded.ok) return;
      expect(loaded.problems).toEqual([
        "BATON_CAPTURE lists no group (to record no tool, resource or prompt events write none; unset, it records all three)",
      ]);
    }
    const mixed = loadConfig({ BATON_CAPTURE: "none,tools" });
    expect(mixed.ok ? [] : mixed.problems).toEqual(['BATON_CAPTURE "none" cannot be listed with groups']);
  });

  test("the HMAC key is the variable's bytes as given, as upstream keys it: a Secret with a trailing newline still joins", () => {
    const loaded = loadConfig({ BATON_USER_ID_HMAC_KEY: "tenant-secret-key\n", BATON_TENANT_ID: "acme" });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(loaded.config.userIdKey).toBe("tenant-secret-key\n");
    // Python: hmac.new(b"tenant-secret-key\n", b"acme\x00u123", sha256), upstream's hash_user_id
    expect(hashUserId({ id: "u123" }, loaded.config.tenantId, loaded.config.userIdKey as string)).toBe(
      "h1:1f826fef7f7a381865a31ef565a5915f0a0d2e1c47300b91f558c71dff18687a",
    );
    const blank = loadConfig({ BATON_USER_ID_HMAC_KEY: "  " });
    expect(blank.ok && blank.config.userIdKey).toBeUndefined();
  });

  test("the HMAC key and the stdio principal are secrets (redacted from every log line)", () => {
    const loaded = loadConfig({ BATON_USER_ID_HMAC_KEY: "k-very-secret", BATON_PRINCIPAL: "alice@example.com" });
    if (!loaded.ok) throw new Error(loaded.problems.join("; "));
    expect(loaded.config.secrets).toEqual(["k-very-secret", "alice@example.com"]);
  });
});
