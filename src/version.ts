// The product version: injected by scripts/build.ts at compile time, read from package.json when run from source.

import pkg from "../package.json" with { type: "json" };

declare const BATON_BUILD_VERSION: string | undefined;

/** Semver of this build, e.g. `0.1.0`. */
export const VERSION: string = typeof BATON_BUILD_VERSION === "string" ? BATON_BUILD_VERSION : pkg.version;

/** The `sdk_version` stamped on every event. */
export const SDK_VERSION = `baton-proxy/${VERSION}`;
