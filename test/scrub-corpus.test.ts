// The privacy stage against a realistic, seeded corpus of tool results: every secret planted must go (recall), and ordinary data the report needs must stay (precision).

import { describe, expect, test } from "bun:test";
import { scrubValue, type ScrubOptions, type ScrubStats } from "../src/telemetry/scrub.ts";
import { createKeyMatcher } from "../src/telemetry/scrub-keys.ts";

const ON: ScrubOptions = { mode: "on", extraKeys: [] };

function scrub(value: unknown, options: ScrubOptions = ON): { out: any; stats: ScrubStats } {
  const stats: ScrubStats = { redactions: {}, truncated: 0 };
  return { out: scrubValue(value, options, stats), stats };
}

/** mulberry32: the corpus is random in shape but the same on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SECRET_VALUES = ["hunter2-Winter!", "p@55w0rd", "s3cr3t value", "tok_9f8e7d6c5b4a", "x"];
const SECRET_KEYS = ["password", "api_key", "apiKey", "client_secret", "access_token", "Authorization", "DB_PASSWORD"];
/** Data the report needs, under names the key rule must leave alone. */
const PLAIN = {
  id: "0190a3c2-7b1e-7c3d-8e4f-123456789abc",
  created_ms: 1733140800123,
  commit: "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
  version: "v1.2.3",
  path: "/usr/local/lib/node_modules/foo/index.js",
  max_tokens: 4096,
  token_count: 812,
  tokenizer_name: "cl100k",
  note: "the token expired; ask for a new one",
};

/** One tool result the way servers write them: a record as JSON text (compact, pretty, or itself a JSON string), an env dump, a URL. */
function corpusEntry(random: () => number, secret: string, key: string): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const record = { ...PLAIN, [key]: secret, nested: { items: [{ [key]: secret }] } };
  switch (pick(["compact", "pretty", "twice", "env", "query", "yaml"] as const)) {
    case "compact":
      return JSON.stringify(record);
    case "pretty":
      return JSON.stringify(record, null, 2);
    case "twice":
      return JSON.stringify({ body: JSON.stringify(record) });
    case "env":
      return `HOME=/home/app\n${key.toUpperCase()}=${secret.replace(/\s/g, "_")}\nNODE_ENV=production`;
    case "query":
      return `GET https://api.example.com/v1/items?page=2&${key}=${encodeURIComponent(secret)}&max_tokens=4096 failed`;
    case "yaml":
      return `db:\n  host: db.internal\n  ${key}: ${secret}\n  pool: 5`;
  }
}

describe("the key-name rule inside text (tool results are mostly JSON text)", () => {
  test("a secret-named key's value is redacted in JSON text, escaped JSON text, env dumps, query strings and YAML", () => {
    const random = seeded(6);
    for (let i = 0; i < 300; i++) {
      const secret = SECRET_VALUES[i % SECRET_VALUES.length] as string;
      const key = SECRET_KEYS[i % SECRET_KEYS.length] as string;
      const text = corpusEntry(random, secret, key);
      const { out, stats } = scrub({ content: [{ type: "text", text }] });
      const kept: string = out.content[0].text;
      for (const form of [
        secret,
        JSON.stringify(secret).slice(1, -1),
        encodeURIComponent(secret),
        secret.replace(/\s/g, "_"),
      ])
        if (form.length > 1) expect({ text, kept, leaked: kept.includes(form) }).toMatchObject({ leaked: false });
      expect(stats.redactions.key).toBeGreaterThan(0);
      // What the report needs is still there, and JSON text is still JSON.
      for (const plain of [PLAIN.id, PLAIN.commit, PLAIN.version, PLAIN.path])
        if (text.includes(plain)) expect(kept).toContain(plain);
      if (text.startsWith("{")) expect(() => JSON.parse(kept)).not.toThrow();
    }
  });

  test.each([
    ['{"password": "hunter2", "max_tokens": 512}', '{"password": "[redacted:password]", "max_tokens": 512}'],
    ['{"token":12345,"token_count":3}', '{"token":"[redacted:token]","token_count":3}'],
    [
      '{"body":"{\\"api_key\\":\\"abc\\",\\"page\\":2}"}',
      '{"body":"{\\"api_key\\":\\"[redacted:api_key]\\",\\"page\\":2}"}',
    ],
    ["mysql --password=hunter2 -h db", "mysql --password=[redacted:password] -h db"],
    ["Config(user='bob', password='hunter 2')", "Config(user='bob', password=[redacted:password])"],
    ["Cookie: session=abc123", "Cookie: [redacted:cookie]"],
    ["HTTP/1.1 401\r\nx-api-key: 0123456789abcdef\r\n", "HTTP/1.1 401\r\nx-api-key: [redacted:api_key]\r\n"],
    ['cut here: {"secret":"abcd', 'cut here: {"secret":"[redacted:secret]"'],
  ])("%s", (text, expected) => {
    expect(scrub(text).out).toBe(expected);
  });

  test.each([
    '{"max_tokens": 512, "token_count": 3, "tokenizer_name": "cl100k", "author": "bob"}',
    '{"type": "password", "name": "password", "description": "the user\'s password"}',
    "https://example.com/search?q=token&page=2&sort=asc",
    '<input type="password" name="password">',
    "the token expired: ask for a new one",
    "max_tokens=4096 temperature=0.2",
    "sha256=3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c",
  ])("leaves ordinary text alone: %s", (text) => {
    expect(scrub(text).out).toBe(text);
  });

  test("JSON text stays JSON, at one level of escaping or two, whatever the secret holds (quotes, backslashes, newlines)", () => {
    const secret = 'said "hi" \\ then\nleft \u00e9 \\"';
    const record = { user: "bob", password: secret, api_key: `k-${secret}`, tail: 'x"y' };
    for (const text of [JSON.stringify(record), JSON.stringify({ body: JSON.stringify(record) })]) {
      const out: string = scrub(text).out;
      const inner = JSON.parse(out);
      const parsed = typeof inner.body === "string" ? JSON.parse(inner.body) : inner;
      expect(parsed).toEqual({
        user: "bob",
        password: "[redacted:password]",
        api_key: "[redacted:api_key]",
        tail: 'x"y',
      });
    }
  });

  test("off mode leaves the text as it is", () => {
    const text = '{"password":"hunter2"}';
    expect(scrub(text, { mode: "off", extraKeys: [] }).out).toBe(text);
  });

  test("BATON_SCRUB_KEYS names are matched inside text too", () => {
    expect(scrub('{"member_no":"M-991"}', { mode: "on", extraKeys: ["member_no"] }).out).toBe(
      '{"member_no":"[redacted:member_no]"}',
    );
  });
});

describe("the key-name rule inside text, and cuts", () => {
  test("a value cut on the hot path keeps its marker when its key is secret-named", () => {
    const text = `{"password":"${"p".repeat(70_000)}"}`;
    const hot = scrubValue(text, { mode: "off", extraKeys: [] }) as string;
    expect(hot).toMatch(/\.\.\.\[truncated \d+ bytes\]$/);
    const { out } = scrub(hot);
    expect(out).toBe(`{"password":"[redacted:password]"${hot.slice(hot.indexOf("..."))}`);
  });
});

describe("name/value pairs (headers, env vars, form fields as lists)", () => {
  test.each([
    [
      {
        headers: [
          { name: "Authorization", value: "Token abc" },
          { name: "Accept", value: "text/html" },
        ],
      },
      {
        headers: [
          { name: "Authorization", value: "[redacted:authorization]" },
          { name: "Accept", value: "text/html" },
        ],
      },
    ],
    [
      {
        env: [
          { name: "DB_PASSWORD", value: "hunter2" },
          { name: "MAX_TOKENS", value: "512" },
        ],
      },
      {
        env: [
          { name: "DB_PASSWORD", value: "[redacted:password]" },
          { name: "MAX_TOKENS", value: "512" },
        ],
      },
    ],
    [{ form: [{ key: "api_key", value: { v: 1 } }] }, { form: [{ key: "api_key", value: "[redacted:api_key]" }] }],
  ])("the value of a secret-named pair is redacted: %j", (input, expected) => {
    const { out, stats } = scrub(input);
    expect(out).toEqual(expected);
    expect(stats.redactions.key).toBe(1);
  });

  test("a pair whose name is ordinary, or an object with only a value, stays", () => {
    const input = { a: { name: "token_count", value: 3 }, b: { value: "x" }, c: { name: 7, value: "y" } };
    expect(scrub(input).out).toBe(input);
  });
});

test("name/value pairs written as JSON text: the secret-named pair's value is redacted", () => {
  const text = JSON.stringify({
    headers: [
      { name: "Authorization", value: "Token abc" },
      { name: "Accept", value: "text/html" },
    ],
    env: [{ key: "DB_PASSWORD", value: "hunter2" }],
  });
  expect(JSON.parse(scrub(text).out)).toEqual({
    headers: [
      { name: "Authorization", value: "[redacted:authorization]" },
      { name: "Accept", value: "text/html" },
    ],
    env: [{ key: "DB_PASSWORD", value: "[redacted:password]" }],
  });
});

describe("internationalised email addresses (RFC 6530)", () => {
  test.each([
    ["contact jörg@müller.de please", "contact [email] please"],
    ["contact jörg@example.de please", "contact [email] please"],
    ["écrire à andré.dupont@exemple.fr.", "écrire à [email]."],
    ["почта: иван@пример.рф", "почта: [email]"],
    ["mail 用户@例子.中国 now", "mail [email] now"],
  ])("%s", (text, expected) => {
    const { out, stats } = scrub(text);
    expect(out).toBe(expected);
    expect(stats.redactions.email).toBe(1);
  });

  test.each(["größe@2x.png", "nutzer@localhost", "Grüße @ Müller"])("near misses stay: %s", (text) => {
    expect(scrub(text).out).toBe(text);
  });
});

describe("URL-encoded email addresses", () => {
  test.each([
    ["GET /v1/users?email=bob%40example.com&page=2 404", "GET /v1/users?email=[email]&page=2 404"],
    ["https://x.example/u?to=bob.smith%2Btag%40mail.example.co.uk", "https://x.example/u?to=[email]"],
  ])("%s", (text, expected) => {
    const { out, stats } = scrub(text);
    expect(out).toBe(expected);
    expect(stats.redactions.email).toBe(1);
  });

  test.each(["https://cdn.example/icon%402x.png", "size%40", "100%40 of them"])("near misses stay: %s", (text) => {
    expect(scrub(text).out).toBe(text);
  });
});

describe("more provider credentials", () => {
  test.each([
    ["STRIPE_WEBHOOK whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "STRIPE_WEBHOOK [token]"],
    ["hf token hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "hf token [token]"],
    [
      "post to https://hooks.slack.com/services/T0123ABCD/B0456EFGH/AbCdEfGhIjKlMnOpQrStUvWx now",
      "post to https://hooks.slack.com/services/[token] now",
    ],
    ["xapp-1-A0123ABCD-1234567890123-abcdef0123456789abcdef", "[token]"],
    ["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", "[token]"],
    ["shpat_0123456789abcdef0123456789abcdef", "[token]"],
    [`dop_v1_${"a1".repeat(32)}`, "[token]"],
    ["lin_api_abcdefghijklmnopqrstuvwxyz0123456789", "[token]"],
    [`pypi-AgEIcHlwaS5vcmc${"x".repeat(60)}`, "[token]"],
  ])("%s", (text, expected) => {
    const { out, stats } = scrub(text);
    expect(out).toBe(expected);
    expect(stats.redactions.token).toBe(1);
  });

  test.each(["hf_hub_download", "the whsec_ prefix", "SG.example", "shpat_ is Shopify's prefix", "TEAM/BOARD/x"])(
    "near misses stay: %s",
    (text) => {
      expect(scrub(text).out).toBe(text);
    },
  );
});

test("a quoted key=value inside JSON text is redacted to its escaped closing quote", () => {
  const text = JSON.stringify({ cmd: 'export DB_PASSWORD="s3cr3t value" && run' });
  expect(JSON.parse(scrub(text).out)).toEqual({ cmd: "export DB_PASSWORD=[redacted:password] && run" });
});

test("INI files: `key = value` lines (an AWS credentials file) have secret-named values redacted to the line's end", () => {
  const text =
    "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion = eu-west-1\n";
  expect(scrub(text).out).toBe(
    "[default]\naws_access_key_id = [token]\naws_secret_access_key = [redacted:access_key]\nregion = eu-west-1\n",
  );
});

describe("long keys", () => {
  test.each([
    ["a token", `${"x".repeat(230)} ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 tail`, "ghp_A1b2"],
    ["a card", `${"y".repeat(240)} 4111 1111 1111 1111`, "4111 1111"],
    ["an email", `${"z".repeat(245)} bob.smith@example.com`, "bob.smith"],
  ])("a key cut to 256 characters never keeps part of %s crossing the cut", (_, key, part) => {
    const { out, stats } = scrub({ [key]: 1 });
    const [name] = Object.keys(out);
    expect(name).not.toContain(part);
    expect(name?.endsWith("...")).toBe(true);
    expect(stats.redactions).toEqual({});
  });
});

describe("identifiers the report needs stay whole", () => {
  const hex = (random: () => number, n: number) =>
    Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(random() * 16)]).join("");

  test("UUIDs and hashes (20 000 of each, seeded) are never taken for a card, alone or in a sentence", () => {
    const random = seeded(42);
    const changed: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const h = hex(random, 32);
      const uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
      for (const text of [uuid, `request ${uuid} failed`, hex(random, 40), hex(random, 64)])
        if (scrub(text).out !== text) changed.push(text);
    }
    expect(changed).toEqual([]);
  });

  test("a card glued to letters on either side is one word, like one glued to digits", () => {
    expect(scrub("46957166-1177-4678-9dd7-f089fcafff57").out).toBe("46957166-1177-4678-9dd7-f089fcafff57");
    expect(scrub("card 4111 1111 1111 1111, exp 12/27").out).toBe("card [card], exp 12/27");
  });
});

test("a git remote in scp form names a repository, not a person: it stays", () => {
  for (const text of ["git@github.com:org/repo.git", "cloning git@gitlab.example.com:team/app.git failed"])
    expect(scrub(text).out).toBe(text);
  expect(scrub("mail git@example.com: the bot").out).toBe(
    "mail git@example.com: the bot".replace("git@example.com", "[email]"),
  );
  expect(scrub("bob@github.com:org/repo.git").out).toBe("[email]:org/repo.git");
});

test("the key rule's text hint is found in every secret key name it matches, built-in or extra", () => {
  const matchKey = createKeyMatcher(["member_no", "SSN"]);
  const names = (
    "password passwd pwd secret token api_key apiKey API-KEY x-api-key authorization Proxy-Authorization auth oauth " +
    "cookie Set-Cookie cookies session private_key privateKey client_secret clientSecret access_token refresh_token " +
    "credentials credential passphrase secret_key access_key aws_secret_access_key sessionToken user_password " +
    "password_hash secret_name cookie_jar api_key_id memberNo MEMBER-NO ssn"
  ).split(" ");
  for (const name of names) {
    expect({ name, keyword: matchKey(name) !== undefined }).toEqual({ name, keyword: true });
    expect({ name, hinted: matchKey.hint?.test(name) }).toEqual({ name, hinted: true });
  }
});

describe("records printed by Python and Node (str(dict), console.log)", () => {
  test.each([
    [
      "[{'id': 1, 'active': True, 'password': 'hunter2', 'api_key': \"it's-k3y\", 'token': 12345}]",
      "[{'id': 1, 'active': True, 'password': '[redacted:password]', 'api_key': \"[redacted:api_key]\", 'token': '[redacted:token]'}]",
    ],
    [
      "{ user: 'bob', password: 'hunter2', apiKey: \"k-123\", max_tokens: 4096 }",
      "{ user: 'bob', password: '[redacted:password]', apiKey: \"[redacted:api_key]\", max_tokens: 4096 }",
    ],
    [
      "{'name': 'Authorization', 'value': 'Token abc'}",
      "{'name': 'Authorization', 'value': '[redacted:authorization]'}",
    ],
  ])("%s", (text, expected) => {
    expect(scrub(text).out).toBe(expected);
  });

  test.each(["reset your password: click the link", "Note: 'token' is a word here", "ratio: '16:9'"])(
    "prose stays: %s",
    (text) => {
      expect(scrub(text).out).toBe(text);
    },
  );
});

describe("tables written as text (CSV, TSV, Markdown): a secret-named column's cells", () => {
  test.each([
    [
      'id,email,password_hash,created\n1,bob@x.com,$2b$10$abc,2026-01-01\n2,"ann, jr","$2b$10$d,ef",2026-01-02\n',
      'id,email,password_hash,created\n1,[email],[redacted:password],2026-01-01\n2,"ann, jr",[redacted:password],2026-01-02\n',
    ],
    [
      "| id | user | api_key |\n|---|---|---|\n| 1 | bob | k-123 |\n| 2 | ann | k-456 |\n\n2 rows",
      "| id | user | api_key |\n|---|---|---|\n| 1 | bob | [redacted:api_key] |\n| 2 | ann | [redacted:api_key] |\n\n2 rows",
    ],
    [
      "name\ttoken\r\nbob\tabc123\r\nann\tdef456\r\n",
      "name\ttoken\r\nbob\t[redacted:token]\r\nann\t[redacted:token]\r\n",
    ],
    // Written with ", " (by hand or `", ".join(row)`): a table as long as it names a column that is not a secret.
    ["user, password\nbob, hunter2", "user, password\nbob, [redacted:password]"],
    // Only secret columns: a CSV writer's (no space after the comma) is still a table.
    [
      "access_token,refresh_token\nat-1,rt-1",
      "access_token,refresh_token\n[redacted:access_token],[redacted:refresh_token]",
    ],
  ])("%s", (text, expected) => {
    expect(scrub(text).out).toBe(expected);
  });

  test.each([
    "id,max_tokens,token_count\n1,4096,12\n",
    "Hello, world\nfoo, bar",
    "Fields: token, session\nfoo, bar",
    // A prose line that lists secret words (written with ", ", every word a secret name) is no header.
    "We keep two cookies:\ntoken, session\nboth expire, after a day",
    "password, secret, cookie\nare, never, logged",
  ])("other tables and prose stay: %s", (text) => {
    expect(scrub(text).out).toBe(text);
  });

  test("a row cut on the hot path keeps its marker", () => {
    const text = `id,password\n1,${"p".repeat(70_000)}`;
    const hot = scrubValue(text, { mode: "off", extraKeys: [] }) as string;
    expect(scrub(hot).out).toBe(`id,password\n1,[redacted:password]${hot.slice(hot.lastIndexOf("..."))}`);
  });
});

describe("command lines (a shell tool's command, a CI log)", () => {
  test.each([
    [
      `curl -H "Authorization: Token abc123" -H 'X-Api-Key: k-9f8e' https://api.example.com/v1`,
      `curl -H "Authorization: [redacted:authorization]" -H 'X-Api-Key: [redacted:api_key]' https://api.example.com/v1`,
    ],
    ["curl -u bob:hunter2 https://x.example", "curl -u bob:[redacted:password] https://x.example"],
    ["curl --user bob:hunter2 -X POST", "curl --user bob:[redacted:password] -X POST"],
    ["mysql --user root --password hunter2 db", "mysql --user root --password [redacted:password] db"],
    ["app --api-key k-123 --verbose", "app --api-key [redacted:api_key] --verbose"],
    ['{"h":"Authorization: Token abc"}', '{"h":"Authorization: [redacted:authorization]"}'],
  ])("%s", (text, expected) => {
    expect(scrub(text).out).toBe(expected);
  });

  test.each([
    "tool --token-file /run/t --max-tokens 5 --verbose",
    "ls -la --color auto",
    "git log --author bob --since 2026-01-01",
    '"Note: this is fine"',
  ])("other flags stay: %s", (text) => {
    expect(scrub(text).out).toBe(text);
  });
});

test("labelled lines as people and Markdown write them: list items, emphasis, two-word names", () => {
  const text =
    "Created the app.\n- **API key:** 0123abcdef\n- **Client secret:** s3cr3t\n- **Name:** demo\n1. Password: hunter2";
  expect(scrub(text).out).toBe(
    "Created the app.\n- **API key:** [redacted:api_key]\n- **Client secret:** [redacted:client_secret]\n- **Name:** demo\n1. Password: [redacted:password]",
  );
  for (const kept of ["Token limit: 4096", "Max tokens: 4096", "Session closed: bye", "**Note:** the token is fine"])
    expect(scrub(kept).out).toBe(kept);
});

test("a two-word label followed by a sentence is prose, not a secret; a value that is no sentence is still redacted", () => {
  for (const kept of [
    "Your account.\nReset password: click the link below.\nThanks",
    "Forgot password: use the reset link we sent you",
    "- **Client secret:** rotate it from the dashboard every month",
  ])
    expect(scrub(kept).out).toBe(kept);
  for (const [text, expected] of [
    ["Reset password: hunter2-Winter", "Reset password: [redacted:password]"],
    ["User password: correct horse", "User password: [redacted:password]"],
    ["Client secret: s3cr3t and more", "Client secret: [redacted:client_secret]"],
    ["API key: sk 1234 abcd efgh", "API key: [redacted:api_key]"],
    ["Password: correct horse battery staple", "Password: [redacted:password]"], // one-word key: a passphrase
    ["password: click the link below", "password: [redacted:password]"], // YAML-like key: its value whatever it says
  ])
    expect(scrub(text as string).out).toBe(expected);
});

test("an extra key written without separators still finds its other spellings inside text", () => {
  const options = { mode: "on" as const, extraKeys: ["memberno"] };
  expect(scrub("member_no=M-991 and MEMBER-NO: x", options).out).toBe("member_no=[redacted:memberno] and MEMBER-NO: x");
  expect(scrub('{"memberNo":"M-991"}', options).out).toBe('{"memberNo":"[redacted:memberno]"}');
});

test("a word before an extra key's key=value at a line start is no two-word label: the key is still found", () => {
  const options = { mode: "on" as const, extraKeys: ["member_no"] };
  for (const [text, expected] of [
    ["lookup member_no=M-991 ok", "lookup member_no=[redacted:member_no] ok"],
    ["done.\nfound member_no=M-991", "done.\nfound member_no=[redacted:member_no]"],
    ["- checked member_no=M-991", "- checked member_no=[redacted:member_no]"],
  ])
    expect(scrub(text as string, options).out).toBe(expected);
});

test("a table cut inside a secret cell keeps no part of it", () => {
  const rows = Array.from({ length: 3000 }, (_, i) => `${i},hunter-${i}-Winter,user${i}@example.com`).join("\n");
  const { out } = scrub(`id,password,email\n${rows}`);
  expect(out).toMatch(/\.\.\.\[truncated \d+ bytes\]$/);
  expect(out).not.toMatch(/hunter|Winter|user\d/);
  // Every cut offset through one row: the kept part of the row never shows its password.
  for (let cut = 1; cut < 18; cut++) {
    const text = `id,password,name\n1,${"hunter2-Winter,bob".slice(0, cut)}`;
    expect(scrub(text).out).not.toMatch(/hun|ter|Win/);
  }
});
