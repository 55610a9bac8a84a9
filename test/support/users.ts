// Test helper: run a check as an unprivileged user when the suite runs as root, and give a file to another user when it does not.

import { chownSync } from "node:fs";

const isRoot = process.getuid?.() === 0;

/** The uid and gid of `nobody` on this system (65534 on Linux; macOS says -2 as an unsigned number). */
export function nobody(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(Bun.spawnSync(["id", flag, "nobody"]).stdout.toString().trim());
  const uid = id("-u");
  const gid = id("-g");
  return { uid: Number.isInteger(uid) && uid > 0 ? uid : 65534, gid: Number.isInteger(gid) && gid > 0 ? gid : 65534 };
}

/**
 * How this process can run a command without root's powers: directly when it is not root, else
 * through `setpriv` (util-linux) as nobody with no supplementary groups. Undefined when root
 * cannot drop privileges here, or when nobody could not read every path in `needs` (the checkout
 * may sit in a folder only root can enter, e.g. under `mktemp -d`): the caller then says the
 * check was skipped.
 */
export function unprivilegedPrefix(needs: readonly string[] = []): string[] | undefined {
  if (!isRoot) return [];
  if (Bun.which("setpriv") === null) return undefined;
  const { uid, gid } = nobody();
  const prefix = ["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"];
  const reachable = needs.every((path) => Bun.spawnSync([...prefix, "test", "-r", path]).exitCode === 0);
  return reachable ? prefix : undefined;
}

/**
 * Makes `path` belong to nobody: directly as root, else through passwordless sudo (CI runners
 * have it). Returns the new owner's uid, or undefined when neither is possible here.
 */
export function giveToAnotherUser(path: string): number | undefined {
  const { uid, gid } = nobody();
  if (isRoot) {
    chownSync(path, uid, gid);
    return uid;
  }
  if (Bun.which("sudo") === null) return undefined;
  return Bun.spawnSync(["sudo", "-n", "chown", `${uid}:${gid}`, path], { stderr: "ignore" }).exitCode === 0
    ? uid
    : undefined;
}
