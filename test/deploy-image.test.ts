// Checks deploy/container/Dockerfile without Docker: it copies the Linux binaries scripts/build.ts produces, per architecture, and its final image is distroless, non-root, with the contract's default command.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RELEASE_TARGETS } from "../scripts/build.ts";
import { ROOT } from "./support/binary.ts";
import { DOCKERFILE, execForm, type Instruction, parseDockerfile } from "./support/dockerfile.ts";

const instructions = parseDockerfile(readFileSync(DOCKERFILE, "utf8"));
/** Stages: FROM lines split the file; each stage's instructions up to the next FROM (global ARGs before the first are left out). */
const stages: Instruction[][] = [];
for (const instruction of instructions) {
  if (instruction.op === "FROM") stages.push([instruction]);
  else stages.at(-1)?.push(instruction);
}
const finalStage = stages.at(-1) ?? [];

describe("deploy/container/Dockerfile", () => {
  test("one binary stage per Docker architecture, copying the release artifact scripts/build.ts names", () => {
    const dockerArch: Record<string, string> = { amd64: "linux-x64", arm64: "linux-arm64" };
    for (const [arch, suffix] of Object.entries(dockerArch)) {
      expect(Object.keys(RELEASE_TARGETS)).toContain(suffix);
      const stage = stages.find((s) => s[0]?.args.endsWith(` AS binary-${arch}`));
      expect(stage, `stage binary-${arch}`).toBeDefined();
      const copy = stage?.find((i) => i.op === "COPY");
      // scripts/build.ts --all writes dist/baton-proxy-<suffix> (Windows adds .exe).
      expect(readFileSync(join(ROOT, "scripts", "build.ts"), "utf8")).toContain(
        "const name = `baton-proxy-${suffix}${",
      );
      expect(copy?.args).toBe(`dist/baton-proxy-${suffix} /baton-proxy`);
    }
    expect(instructions.some((i) => i.op === "FROM" && i.args === "binary-${TARGETARCH} AS binary")).toBe(true);
  });

  test("the final image is distroless glibc, runs no build step and has no shell to run one", () => {
    expect(finalStage[0]?.args).toBe("${BASE_IMAGE}");
    const base = instructions.find((i) => i.op === "ARG" && i.args.startsWith("BASE_IMAGE="))?.args.split("=")[1];
    expect(base).toMatch(/^gcr\.io\/distroless\/(base-nossl|base|cc)-debian\d+:nonroot$/);
    expect(instructions.filter((i) => i.op === "RUN")).toEqual([]);
  });

  test("installs the binary read-only at the ENTRYPOINT path and runs it as a numeric non-root user", () => {
    const copy = finalStage.find((i) => i.op === "COPY");
    expect(copy?.args).toBe("--from=binary --chown=0:0 --chmod=0555 /baton-proxy /usr/local/bin/baton-proxy");
    expect(execForm(instructions, "ENTRYPOINT")).toEqual(["/usr/local/bin/baton-proxy"]);
    const user = finalStage.find((i) => i.op === "USER")?.args ?? "";
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(finalStage.find((i) => i.op === "EXPOSE")?.args).toBe("8080 9464");
  });

  test("the default command is the serve contract's container command", () => {
    expect(execForm(instructions, "CMD")).toEqual([
      "serve",
      "--listen",
      "0.0.0.0:8080",
      "--admin-listen",
      "0.0.0.0:9464",
    ]);
  });

  test("carries the OCI labels: source, version, revision, licence", () => {
    const labels = finalStage
      .filter((i) => i.op === "LABEL")
      .map((i) => i.args)
      .join(" ");
    for (const key of ["source", "version", "revision", "licenses", "title", "description"]) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    const license = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(license).toContain("Apache License");
    expect(labels).toContain('org.opencontainers.image.licenses="Apache-2.0"');
  });
});
