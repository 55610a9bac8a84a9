// A local S3-compatible server for tests: s3rver (real S3 XML over HTTP) behind a front that verifies every SigV4 signature with AWS's own signer.

import { createHash, createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignatureV4 } from "@smithy/signature-v4";
import S3rver from "s3rver";

/** s3rver only knows this key id; its own check of V4 signatures is a stub, which is why the front verifies them. */
export const S3_ACCESS_KEY_ID = "S3RVER";
export const S3_SECRET_ACCESS_KEY = "S3RVER-secret-for-tests";
export const S3_REGION = "us-east-1";

export interface LocalS3 {
  /** The verifying front (give this to clients as the endpoint). */
  readonly endpoint: string;
  /** Requests seen by the front, with whether their signature held. */
  readonly requests: { method: string; path: string; signed: boolean }[];
  /** Makes the next `n` requests fail with HTTP 503 (after signature checks). */
  failNext(n: number): void;
  stop(): Promise<void>;
}

/** Node's crypto in the shape the signer wants (a hash or, with a secret, an HMAC). */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === "string") return data;
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Starts s3rver with `buckets` on loopback port 0 and the verifying front on another; `stop()` removes its directory. */
export async function startLocalS3(buckets: readonly string[]): Promise<LocalS3> {
  const directory = mkdtempSync(join(tmpdir(), "baton-s3-"));
  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const address = await s3rver.run();
  const backend = `http://127.0.0.1:${address.port}`;
  const requests: LocalS3["requests"] = [];
  let failures = 0;

  const front = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const body = new Uint8Array(await request.arrayBuffer());
      const signed = await verifySignature(request, url, body);
      requests.push({ method: request.method, path: url.pathname, signed });
      if (!signed) return new Response("<Error><Code>SignatureDoesNotMatch</Code></Error>", { status: 403 });
      if (failures > 0) {
        failures--;
        return new Response("<Error><Code>SlowDown</Code></Error>", { status: 503 });
      }
      const headers = new Headers(request.headers);
      headers.delete("host");
      const answer = await fetch(`${backend}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        body: body.length > 0 ? body : undefined,
      });
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers: answer.headers });
    },
  });

  return {
    endpoint: `http://127.0.0.1:${front.port}`,
    requests,
    failNext: (n) => {
      failures = n;
    },
    async stop() {
      await front.stop(true);
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Recomputes the request's SigV4 signature (header form) with the known secret; also checks the payload hash when one is signed. */
async function verifySignature(request: Request, url: URL, body: Uint8Array): Promise<boolean> {
  const auth = request.headers.get("authorization") ?? "";
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (match === null) return false;
  const [, keyId, , region, signedHeaders, signature] = match as unknown as string[];
  if (keyId !== S3_ACCESS_KEY_ID) return false;
  const payloadHash = request.headers.get("x-amz-content-sha256") ?? "";
  if (/^[0-9a-f]{64}$/.test(payloadHash) && createHash("sha256").update(body).digest("hex") !== payloadHash)
    return false;
  const amzDate = request.headers.get("x-amz-date") ?? "";
  const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate);
  if (date === null) return false;
  const headers: Record<string, string> = {};
  for (const name of (signedHeaders as string).split(";")) headers[name] = request.headers.get(name) ?? "";
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: { accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY },
    region: region as string,
    service: "s3",
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers,
    },
    { signingDate },
  );
  const recomputed = /Signature=([0-9a-f]{64})/.exec(
    String(signed.headers.authorization ?? signed.headers.Authorization),
  )?.[1];
  return recomputed === signature;
}
