// The per-server OAuth cache on disk: one JSON file per remote server in the user's config directory (dir 0700, files 0600).

import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { isAbsolutePath, RELATIVE_CONFIG_DIR } from "../config-values.ts";
import { LocalError } from "../errors.ts";

/** What is kept for one server. Shapes are the SDK's (OAuthTokens, client information, discovery state), stored as received. */
export interface ServerAuthRecord {
  /** The MCP server URL the record belongs to (origin + path). */
  readonly server: string;
  clientInformation?: Record<string, unknown>;
  tokens?: Record<string, unknown>;
  /** When `tokens` were obtained (epoch ms): with `expires_in` this dates their expiry. */
  obtainedAt?: number;
  discovery?: Record<string, unknown>;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * `$BATON_CONFIG_DIR`, else `$XDG_CONFIG_HOME/baton-proxy`, else `%APPDATA%\baton-proxy` (Windows) or
 * `~/.config/baton-proxy`. A relative XDG_CONFIG_HOME is ignored, as the XDG spec says: it would put the
 * tokens under whatever directory the host started the proxy in (a project, a repository).
 */
export function configDir(env: Env, homeDir: () => string, platform: NodeJS.Platform): string {
  // Trimmed as every BATON_* value is: " /etc/bp" (or a blank value) would be a path relative to the host's working
  // directory, as would "~/.baton" (host configs pass env unexpanded), often the user's repository.
  const chosen = env.BATON_CONFIG_DIR?.trim();
  if (chosen && !isAbsolutePath(chosen, platform)) throw new LocalError("E_CONFIG", RELATIVE_CONFIG_DIR);
  if (chosen) return chosen;
  // A relative XDG_CONFIG_HOME or APPDATA is invalid per their specs: skipped.
  const absolute = (dir: string | undefined): dir is string =>
    dir !== undefined && dir !== "" && isAbsolutePath(dir, platform);
  if (absolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, "baton-proxy");
  if (platform === "win32" && absolute(env.APPDATA)) return join(env.APPDATA, "baton-proxy");
  return join(homeDir(), ".config", "baton-proxy");
}

/** The key a server is cached under: its URL without query or fragment. */
export function serverKey(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Reads and writes records under `<configDir>/oauth/`. Every write is atomic (temp file + rename) and private. */
export class TokenStore {
  readonly dir: string;
  /** Records that could not be written, kept for this process (see `unsaved` in the constructor). */
  private readonly kept = new Map<string, ServerAuthRecord>();
  /** Paths already said to be untrusted (see `warn`). */
  private readonly distrusted = new Set<string>();

  /**
   * `unsaved`: when given, a record that cannot be written (read-only or missing home, a path
   * through a file) is kept in memory for this process instead of failing, and `unsaved` is told
   * the first time. The proxy passes it, so a sign-in still serves its session; `auth login`
   * does not: its point is the cache, and it must fail. `warn` is told once per path when a record
   * is not read because another user could have written it (see {@link untrustedBecause}).
   */
  constructor(
    configDirectory: string,
    private readonly unsaved?: (error: unknown) => void,
    private readonly warn: (text: string) => void = () => {},
  ) {
    this.dir = join(configDirectory, "oauth");
  }

  load(server: string): ServerAuthRecord {
    const kept = this.kept.get(server);
    if (kept !== undefined) return kept;
    const path = this.pathOf(server);
    if (!existsSync(path) || this.untrusted(this.dir, true) || this.untrusted(path, false)) return { server };
    try {
      const parsed = JSON.parse(readFileSync(path, "utf8")) as ServerAuthRecord;
      return parsed.server === server ? parsed : { server };
    } catch {
      return { server }; // a damaged cache is as good as none: the next login rewrites it
    }
  }

  /** True when `server`'s record could not be written and lives in this process only. */
  isUnsaved(server: string): boolean {
    return this.kept.has(server);
  }

  save(record: ServerAuthRecord): void {
    if (this.unsaved === undefined) return this.write(record);
    try {
      this.write(record);
      this.kept.delete(record.server);
    } catch (error) {
      if (this.kept.size === 0) this.unsaved(error);
      this.kept.set(record.server, record);
    }
  }

  private write(record: ServerAuthRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const path = this.pathOf(record.server);
    // Not the pid alone: proxies in containers sharing the cache (each pid 1) would write one temp
    // file at once and rename each other's half-written tokens into place. Created exclusively.
    const temp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
    try {
      const fd = openSync(temp, "wx", 0o600);
      try {
        writeFileSync(fd, `${JSON.stringify(record, null, 2)}\n`);
        fchmodSync(fd, 0o600); // whatever the umask
        // On the disk before it replaces the record: a crash after the rename could otherwise leave an
        // empty file (XFS, APFS), and the tokens it replaced were just revoked by refresh-token rotation.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
    } catch (error) {
      // A write cut short (a full disk) or a rename refused must not leave the tokens in a file
      // nothing reads again and `auth logout` does not remove.
      rmSync(temp, { force: true });
      throw error;
    }
    syncDirectory(this.dir);
  }

  /** Removes one server's record; true when there was one. */
  remove(server: string): boolean {
    const path = this.pathOf(server);
    if (!existsSync(path)) return false;
    rmSync(path);
    return true;
  }

  /**
   * Removes every file of the cache, damaged records and temp files of an interrupted write
   * included (either may still hold a token); returns how many readable records there were.
   */
  removeAll(): number {
    const records = this.list().length;
    if (!existsSync(this.dir)) return records;
    for (const name of readdirSync(this.dir))
      if (name.endsWith(".json") || name.endsWith(".tmp")) rmSync(join(this.dir, name), { force: true });
    return records;
  }

  /** Every cached record (unreadable files are skipped). */
  list(): ServerAuthRecord[] {
    if (!existsSync(this.dir) || this.untrusted(this.dir, true)) return [];
    const records: ServerAuthRecord[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      if (!name.endsWith(".json") || this.untrusted(join(this.dir, name), false)) continue;
      try {
        const record = JSON.parse(readFileSync(join(this.dir, name), "utf8")) as ServerAuthRecord;
        if (typeof record.server === "string") records.push(record);
      } catch {
        // not ours or damaged: leave it alone
      }
    }
    return records;
  }

  /** True (said once) when `path`, the cache directory or a record, could have been written by another user. */
  private untrusted(path: string, isDirectory: boolean): boolean {
    const uid = process.getuid?.();
    if (uid === undefined) return false; // Windows: no POSIX owner; the profile's ACLs keep others out
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch {
      return false; // gone or unreadable: nothing will be read from it
    }
    const why = untrustedBecause(stat, uid, isDirectory);
    if (why === undefined) return false;
    if (!this.distrusted.has(path))
      this.warn(
        `the OAuth cache ${path} ${why}: its records are not used (whoever can write it could plant tokens); sign in again once it is yours alone`,
      );
    this.distrusted.add(path);
    return true;
  }

  pathOf(server: string): string {
    const url = new URL(server);
    const slug = url.host.replace(/[^A-Za-z0-9.-]/g, "_");
    const hash = new Bun.CryptoHasher("sha256").update(server).digest("hex").slice(0, 12);
    return join(this.dir, `${slug}-${hash}.json`);
  }
}

/** Makes a rename in `dir` durable where the OS allows opening a directory (not on Windows); best effort. */
function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has happened.
  }
}

/**
 * Why a cache directory or record (`stat`) cannot be trusted by user `uid`, or undefined. Tokens read
 * from a place another user can write would be theirs: their access token sent as ours (the agent's
 * work landing in their account), their discovery naming where a refresh sends our refresh token.
 * So, as ssh does for ~/.ssh: owned by us or root, and a directory not writable by group or others.
 */
export function untrustedBecause(
  stat: Pick<Stats, "uid" | "mode">,
  uid: number,
  isDirectory: boolean,
): string | undefined {
  if (stat.uid !== uid && stat.uid !== 0) return `is owned by uid ${stat.uid}, not by this user`;
  if (isDirectory && (stat.mode & 0o022) !== 0)
    return `is writable by ${(stat.mode & 0o002) !== 0 ? "every user" : "its group"} (mode ${(stat.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Epoch ms when the record's access token expires, when the server said. */
export function expiresAt(record: ServerAuthRecord): number | undefined {
  const seconds = record.tokens?.expires_in;
  if (typeof seconds !== "number" || record.obtainedAt === undefined) return undefined;
  return record.obtainedAt + seconds * 1000;
}

/** Refresh an access token this long before it expires, so no request meets an expired one. */
export const REFRESH_MARGIN_MS = 60_000;

/** How long before its expiry the record's access token is refreshed: a minute, or the last half of a shorter lifetime. */
export function refreshMargin(record: ServerAuthRecord): number {
  const seconds = record.tokens?.expires_in;
  const lifetime = typeof seconds === "number" ? seconds * 1000 : Number.POSITIVE_INFINITY;
  return Math.min(REFRESH_MARGIN_MS, lifetime / 2);
}
