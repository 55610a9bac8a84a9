// Tests src/wrap/rewrite-file.ts on a temp directory: strict reads, backup once, atomic writes with permissions.

import { expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalError } from "../src/errors.ts";
import {
  BACKUP_SUFFIX,
  readBackup,
  readConfigFile,
  writeBackupOnce,
  writeFileAtomic,
} from "../src/wrap/rewrite-file.ts";
import { nobody, unprivilegedPrefix } from "./support/users.ts";
import { tempDir } from "./support/temp.ts";

const dir = tempDir("baton-rewrite-");

function fresh(name: string, content: string | Uint8Array, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

test("a missing file reads as undefined; a directory or invalid UTF-8 is an E_WRAP error", async () => {
  expect(await readConfigFile(join(dir, "absent.json"))).toBeUndefined();
  mkdirSync(join(dir, "a-dir"));
  await expect(readConfigFile(join(dir, "a-dir"))).rejects.toThrow("not a regular file");
  const bad = fresh("latin1.json", new Uint8Array([0x7b, 0xe9, 0x7d]));
  const error = await readConfigFile(bad).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(LocalError);
  expect((error as LocalError).code).toBe("E_WRAP");
  expect((error as LocalError).message).toBe(`${bad}: not valid UTF-8 text`);
});

test("reads keep a BOM and the permission bits", async () => {
  const path = fresh("bom.json", "\uFEFF{}", 0o640);
  const file = await readConfigFile(path);
  const { uid, gid } = statSync(path);
  expect(file).toEqual({ path, realPath: path, text: "\uFEFF{}", mode: 0o640, uid, gid });
});

test("the backup is written once, with the original's permissions", async () => {
  const path = fresh("backup.json", '{"v": 1}', 0o600);
  const file = (await readConfigFile(path))!;
  expect(await writeBackupOnce(file)).toEqual({ path: path + BACKUP_SUFFIX, kept: false });
  expect(statSync(path + BACKUP_SUFFIX).mode & 0o777).toBe(0o600);
  const later = { ...file, text: '{"v": 2}' };
  expect(await writeBackupOnce(later)).toEqual({ path: path + BACKUP_SUFFIX, kept: true });
  expect(await readBackup(path)).toBe('{"v": 1}');
  expect(await readBackup(join(dir, "nothing.json"))).toBeUndefined();
});

test("atomic write replaces the content, keeps the mode and leaves no temp file", async () => {
  const path = fresh("atomic.json", "\uFEFF{}\r\n", 0o600);
  const file = (await readConfigFile(path))!;
  await writeFileAtomic(file, '\uFEFF{"a": 1}\r\n');
  expect(readFileSync(path)).toEqual(Buffer.from('\uFEFF{"a": 1}\r\n'));
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readdirSync(dir).filter((n) => n.endsWith(".baton-tmp"))).toEqual([]);
});

test("a file changed since it was read is not overwritten", async () => {
  const path = fresh("raced.json", "{}");
  const file = (await readConfigFile(path))!;
  writeFileSync(path, '{"written": "by the client"}');
  await expect(writeFileAtomic(file, '{"ours": true}')).rejects.toThrow("changed while being edited");
  expect(readFileSync(path, "utf8")).toBe('{"written": "by the client"}');
  expect(readdirSync(dir).filter((n) => n.endsWith(".baton-tmp"))).toEqual([]);
});

// Root writes anywhere, so as root the check runs in a child process that dropped to nobody, which
// must be able to read the runtime and the module under test.
const REWRITE_FILE = join(import.meta.dir, "..", "src", "wrap", "rewrite-file.ts");
const unprivileged = unprivilegedPrefix([process.execPath, REWRITE_FILE]);
test.skipIf(unprivileged === undefined)(
  `a directory we cannot write to fails with E_IO and leaves the file alone (as a user without root's powers)${
    unprivileged === undefined
      ? " (SKIPPED: as root, no setpriv, or nobody cannot read the runtime and this checkout)"
      : ""
  }`,
  async () => {
    const locked = join(dir, "locked");
    mkdirSync(locked);
    const path = join(locked, "c.json");
    writeFileSync(path, "{}");
    const { uid, gid } = nobody();
    if (process.getuid?.() === 0) {
      chownSync(dir, uid, gid);
      chownSync(locked, uid, gid);
      chownSync(path, uid, gid);
    }
    chmodSync(locked, 0o500);
    try {
      const script = `
      import { readConfigFile, writeFileAtomic } from ${JSON.stringify(REWRITE_FILE)};
      const file = await readConfigFile(${JSON.stringify(path)});
      const error = await writeFileAtomic(file, '{"x": 1}').then(() => undefined, (e) => e);
      console.log(JSON.stringify({ uid: process.getuid(), code: error?.code ?? null, message: error?.message ?? null }));`;
      const child = Bun.spawnSync([...(unprivileged ?? []), process.execPath, "-e", script], {
        env: { PATH: process.env.PATH ?? "", HOME: dir },
        stderr: "pipe",
      });
      expect(child.stderr.toString()).toBe("");
      const result = JSON.parse(child.stdout.toString()) as {
        uid: number;
        code: string | null;
        message: string | null;
      };
      expect(result.uid).not.toBe(0);
      expect(result.code).toBe("E_IO");
      expect(result.message).toContain("cannot write");
      expect(readFileSync(path, "utf8")).toBe("{}");
    } finally {
      chmodSync(locked, 0o700);
    }
  },
);

// Only root can give a file to another user, so only root can rewrite one without taking it over.
const asRoot = process.getuid?.() === 0;
test.skipIf(!asRoot)(
  `a file of another user rewritten by root (sudo wrap, a Dockerfile's RUN as root) stays that user's, and so does its backup${
    asRoot ? "" : " (SKIPPED: not root)"
  }`,
  async () => {
    // The rename put a root-owned 0600 file in its place: the user's client could no longer read its own config.
    const path = fresh("their.json", "{}", 0o600);
    const { uid, gid } = nobody();
    chownSync(path, uid, gid);
    const file = (await readConfigFile(path))!;
    await writeBackupOnce(file);
    await writeFileAtomic(file, '{"a": 1}');
    for (const written of [path, path + BACKUP_SUFFIX]) {
      const stat = statSync(written);
      expect({ written, uid: stat.uid, gid: stat.gid, mode: stat.mode & 0o777 }).toEqual({
        written,
        uid,
        gid,
        mode: 0o600,
      });
    }
  },
);
