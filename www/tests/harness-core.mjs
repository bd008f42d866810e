// What the browser test harnesses of this project share: `www/tests/harness.mjs` (the JS
// tests) and `examples/tests/harness.mjs` (the example apps' smoke tests) each fill in
// what their peer serves and how their browser looks, and pass in playwright-core's
// `chromium`.
//
// This module imports node's built-in modules only: `examples/tests` imports it from here,
// and a package such as playwright-core would resolve from `www/tests/node_modules`, which
// the example tests do not install.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
/** The workspace root. */
export const root = resolve(here, "../..");
/** Cargo's target directory: CARGO_TARGET_DIR (relative to the root) or `<root>/target`. */
export const targetDir = process.env.CARGO_TARGET_DIR
  ? resolve(root, process.env.CARGO_TARGET_DIR)
  : join(root, "target");

/** The Chromium flags every browser test in this project uses. */
export const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

/**
 * Starts `ws-peer --static <staticDir>` unless WS_PEER names a running one. `needs` lists
 * the `[what, path]` pairs that must exist first (the peer itself is checked too), and
 * `build` is the command that builds them, for the error when one is missing.
 * Returns `{ host, stop }` where `host` is `127.0.0.1:PORT`.
 */
export async function startPeer({ staticDir, needs, build }) {
  if (process.env.WS_PEER) {
    return { host: process.env.WS_PEER, stop: async () => {} };
  }
  const exe = process.env.WS_PEER_EXE ?? join(targetDir, "debug", "ws-peer");
  for (const [what, path] of [["the test peer", exe], ...needs]) {
    if (!existsSync(path)) {
      throw new Error(`${what} is missing at ${path}; run ${build} once to build it`);
    }
  }
  const child = spawn(exe, ["--addr", "127.0.0.1:0", "--static", staticDir, "--exit-on-stdin-eof"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolveLine);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`ws-peer exited (${code}) before listening`)));
  });
  const match = /^listening on (\S+)/.exec(line);
  if (!match) {
    child.kill();
    throw new Error(`ws-peer printed ${JSON.stringify(line)}`);
  }
  return {
    host: match[1],
    stop: async () => {
      child.stdin.end();
      await new Promise((done) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          done();
        }, 2000);
        child.once("exit", () => {
          clearTimeout(timer);
          done();
        });
      });
    },
  };
}

/**
 * Launches headless Chromium (playwright-core's `chromium`) with a fresh profile in a
 * temporary directory named `<profilePrefix>XXXXXX`. Returns `{ context, close }`.
 */
export async function launchBrowser(chromium, { profilePrefix, viewport }) {
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `url` in a new page and records uncaught page errors and console errors, so a
 * test can assert that there were none.
 */
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
  });
  await page.goto(url);
  return { page, problems };
}
