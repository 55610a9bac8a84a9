// Reads the S3 sink's settings (credentials, endpoint, batching) from the standard AWS_*/S3_* and BATON_S3_* variables. Pure; never logs a value.

/** Everything the S3 client and batcher need, read once by `loadConfig`. The secret fields never reach a log line. */
export interface S3Settings {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string | undefined;
  readonly region: string;
  /** An S3-compatible endpoint (MinIO, R2…); when set, requests use path-style addressing. */
  readonly endpoint: string | undefined;
  /** An object is written at the latest this long after its first event. */
  readonly batchMs: number;
  /** An object is written once its NDJSON reaches this size (before gzip). */
  readonly batchBytes: number;
  readonly gzip: boolean;
}

/** Default flush window per session object. */
export const DEFAULT_S3_BATCH_MS = 10_000;
/** setTimeout's limit (2^31 - 1 ms, ~24.8 days): the batch timer would fire after 1 ms, again and again. */
export const MAX_S3_BATCH_MS = 2_147_483_647;
/** Default size bound per object (8 MiB). */
export const DEFAULT_S3_BATCH_BYTES = 8 * 1024 * 1024;
/** Used when neither AWS_REGION, AWS_DEFAULT_REGION nor S3_REGION is set (MinIO ignores it; AWS needs the bucket's). */
export const DEFAULT_S3_REGION = "us-east-1";

/** The BATON_* variables this module reads (added to config-variables.ts's KNOWN_VARIABLES). */
export const S3_VARIABLES = ["BATON_S3_BATCH_MS", "BATON_S3_BATCH_BYTES", "BATON_S3_GZIP"] as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the S3 settings from `env`, pushing one problem per bad or missing value (never the value
 * of a credential). The first variable set wins in each list: AWS_* before S3_* (Bun's names).
 */
export function parseS3Settings(env: Env, problems: string[]): S3Settings | undefined {
  const first = (...names: string[]): string | undefined => {
    for (const name of names) {
      const raw = env[name]?.trim();
      if (raw !== undefined && raw !== "") return raw;
    }
    return undefined;
  };
  const before = problems.length;
  const accessKeyId = first("AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY_ID");
  const secretAccessKey = first("AWS_SECRET_ACCESS_KEY", "S3_SECRET_ACCESS_KEY");
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    problems.push(
      "an s3:// sink needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)",
    );
  }
  const endpoint = first("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "S3_ENDPOINT", "AWS_ENDPOINT");
  let endpointUrl: string | undefined;
  if (endpoint !== undefined) {
    try {
      const url = new URL(endpoint);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("scheme");
      if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") throw new Error("extras");
      endpointUrl = url.href.replace(/\/+$/, "");
    } catch {
      problems.push(
        "the S3 endpoint (AWS_ENDPOINT_URL / S3_ENDPOINT) must be a plain http:// or https:// URL without credentials or query",
      );
    }
  }
  const { batchMs, batchBytes, gzip } = parseS3Knobs(env, problems);
  if (problems.length > before || accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  return Object.freeze({
    accessKeyId,
    secretAccessKey,
    sessionToken: first("AWS_SESSION_TOKEN", "S3_SESSION_TOKEN"),
    region: first("AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION") ?? DEFAULT_S3_REGION,
    endpoint: endpointUrl,
    batchMs,
    batchBytes,
    gzip,
  });
}

/**
 * The BATON_S3_* knobs alone (batching, gzip), one problem per bad value: parseS3Settings reads
 * them, and loadConfig checks them when no s3:// sink is configured (to warn about a bad one).
 */
export function parseS3Knobs(env: Env, problems: string[]): Pick<S3Settings, "batchMs" | "batchBytes" | "gzip"> {
  const batchMs = positiveInt(
    env.BATON_S3_BATCH_MS,
    DEFAULT_S3_BATCH_MS,
    "BATON_S3_BATCH_MS",
    "milliseconds",
    problems,
    MAX_S3_BATCH_MS,
  );
  const batchBytes = positiveInt(
    env.BATON_S3_BATCH_BYTES,
    DEFAULT_S3_BATCH_BYTES,
    "BATON_S3_BATCH_BYTES",
    "bytes",
    problems,
  );
  const gzipRaw = env.BATON_S3_GZIP?.trim().toLowerCase() || "off";
  if (gzipRaw !== "on" && gzipRaw !== "off")
    problems.push(`BATON_S3_GZIP must be "on" or "off" (got "${gzipRaw.slice(0, 40)}")`);
  return { batchMs, batchBytes, gzip: gzipRaw === "on" };
}

function positiveInt(
  raw: string | undefined,
  fallback: number,
  name: string,
  unit: string,
  problems: string[],
  most: number = Number.MAX_SAFE_INTEGER,
): number {
  const text = raw?.trim() ?? "";
  if (text === "") return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value <= 0 || value > most) {
    const range = most === Number.MAX_SAFE_INTEGER ? "" : `, at most ${most}`;
    problems.push(`${name} must be a positive whole number of ${unit}${range} (got "${text.slice(0, 40)}")`);
    return fallback;
  }
  return value;
}

/**
 * Bun's S3 client for `bucket` with these credentials: path-style addressing (what MinIO and
 * other endpoints need; AWS accepts it too). `retries`: Bun's own retries (the sink retries itself).
 */
export function createS3Client(bucket: string, settings: S3Settings, retries?: number): Bun.S3Client {
  return new Bun.S3Client({
    bucket,
    accessKeyId: settings.accessKeyId,
    secretAccessKey: settings.secretAccessKey,
    sessionToken: settings.sessionToken,
    region: settings.region,
    endpoint: settings.endpoint,
    virtualHostedStyle: false,
    ...(retries === undefined ? {} : { retry: retries }),
  });
}
