// How an S3 object is uploaded: the sink's one seam to the network, and the production uploader on Bun's built-in S3 client.

import { describeError, LocalError } from "../../errors.ts";
import { createS3Client, type S3Settings } from "./s3-settings.ts";

/** Uploads one object; rejects on any failure. Production: Bun's S3 client (see {@link createBunS3Put}). */
export type S3Put = (key: string, body: Uint8Array, contentType: string) => Promise<void>;

/** The production uploader: Bun's built-in S3 client, path-style when an endpoint is set (MinIO, R2…), no retries of its own. */
export function createBunS3Put(bucket: string, settings: S3Settings): S3Put {
  // Bun's own retries off: the sink retries with its own bounded backoff and counts what it drops.
  const client = createS3Client(bucket, settings, 0);
  return async (key, body, contentType) => {
    try {
      await client.write(key, body, { type: contentType });
    } catch (error) {
      throw new LocalError("E_SINK", `PUT ${key} failed: ${describeError(error)}`, { cause: error });
    }
  };
}
