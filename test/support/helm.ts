// Finds a real Helm binary for the chart tests: the one the pinned @aws-cdk/asset-kubectl-v20 dev dependency ships (linux-x64), else `helm` on PATH.

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { inflateRawSync } from "node:zlib";

const ROOT = resolve(import.meta.dir, "..", "..");
const LAYER_PACKAGE = join(ROOT, "node_modules", "@aws-cdk", "asset-kubectl-v20");
const CACHE_DIR = join(ROOT, "node_modules", ".cache", "baton-helm");

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

/**
 * Reads one file out of a zip archive (no zip64, stored or deflated: what the layer zip uses).
 * Sizes come from the central directory, so local headers with data descriptors are fine.
 */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (zip.readUInt32LE(i) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end-of-central-directory record)");
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error(`bad central directory entry at ${at}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const entryName = zip.toString("utf8", at + 46, at + 46 + nameLength);
    if (entryName === name) {
      if (zip.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) throw new Error(`bad local header for ${name}`);
      const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
      const data = zip.subarray(dataStart, dataStart + compressedSize);
      const out =
        method === METHOD_STORED ? Buffer.from(data) : method === METHOD_DEFLATED ? inflateRawSync(data) : undefined;
      if (out === undefined) throw new Error(`${name}: unsupported zip method ${method}`);
      if (out.length !== size) throw new Error(`${name}: inflated ${out.length} bytes, expected ${size}`);
      return out;
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new Error(`${name} is not in the archive`);
}

/**
 * Path of a Helm binary, or undefined when none can run here. The pinned package's helm is
 * linux-amd64 only: it is extracted once into node_modules/.cache (renamed into place, so
 * concurrent test files never see half a binary).
 */
export function findHelm(): string | undefined {
  if (process.platform === "linux" && process.arch === "x64" && existsSync(LAYER_PACKAGE)) {
    const version = (JSON.parse(readFileSync(join(LAYER_PACKAGE, "package.json"), "utf8")) as { version: string })
      .version;
    const target = join(CACHE_DIR, `helm-asset-kubectl-v20-${version}`);
    if (!existsSync(target)) {
      mkdirSync(CACHE_DIR, { recursive: true });
      const partial = `${target}.partial-${process.pid}`;
      try {
        writeFileSync(partial, readZipEntry(readFileSync(join(LAYER_PACKAGE, "lib", "layer.zip")), "helm/helm"), {
          mode: 0o755,
        });
        renameSync(partial, target);
      } finally {
        rmSync(partial, { force: true });
      }
    }
    return target;
  }
  return Bun.which("helm") ?? undefined;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs helm with `args`; HOME and the helm cache/config dirs point into `home` so nothing outside is touched. */
export function runHelm(helm: string, args: readonly string[], home: string): HelmResult {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    HELM_CACHE_HOME: join(home, "cache"),
    HELM_CONFIG_HOME: join(home, "config"),
    HELM_DATA_HOME: join(home, "data"),
  };
  const proc = Bun.spawnSync([helm, ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}
