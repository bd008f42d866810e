// The package's TypeScript declarations (wasm_websocket.d.ts): `types/usage.ts`, which uses
// every part of the API the way a TypeScript user would and marks mistakes with
// @ts-expect-error, must compile under `tsc --strict` against the built package.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { staticDir } from "./harness.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(staticDir, "pkg");

test("the .d.ts types a TypeScript user's code correctly (tsc --strict)", () => {
  assert.ok(existsSync(join(pkg, "wasm_websocket.d.ts")), `no package at ${pkg}`);
  const dir = mkdtempSync(join(tmpdir(), "wasm-websocket-types-"));
  try {
    const config = {
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "es2022",
        module: "es2022",
        moduleResolution: "bundler",
        lib: ["es2022", "dom", "dom.iterable", "esnext.disposable"],
        skipLibCheck: false,
        types: [],
        paths: { "wasm-websocket-js": [join(pkg, "wasm_websocket.d.ts")] },
      },
      files: [join(here, "types", "usage.ts")],
    };
    const project = join(dir, "tsconfig.json");
    writeFileSync(project, JSON.stringify(config, null, 2));
    const tsc = join(here, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", project], { encoding: "utf8" });
    assert.equal(run.status, 0, `tsc failed:\n${run.stdout}${run.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
