// Shared set-up of the example smoke tests: the test peer (which also serves the built apps
// over HTTP) and headless Chromium driven by playwright-core.
//
// `cargo xtask test` builds the apps into `<target>/examples-site`, starts
// `ws-peer --static <target>/examples-site` and passes its address in WS_PEER. Run by hand
// (`npm test` in this directory, after one `cargo xtask test`) the harness starts that
// peer itself, from the same paths.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const targetDir = process.env.CARGO_TARGET_DIR
  ? resolve(root, process.env.CARGO_TARGET_DIR)
  : join(root, "target");
/** What the peer serves: one directory per app, each with index.html and pkg/. */
const siteDir = process.env.WS_STATIC_DIR ?? join(targetDir, "examples-site");

/** The Chromium flags every browser test in this project uses. */
const CHROMIUM_ARGS = [
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
 * Starts `ws-peer --static <site>` unless WS_PEER names a running one.
 * Returns `{ host, stop }` where `host` is `127.0.0.1:PORT`.
 */
export async function startPeer() {
  if (process.env.WS_PEER) {
    return { host: process.env.WS_PEER, stop: async () => {} };
  }
  const exe = process.env.WS_PEER_EXE ?? join(targetDir, "debug", "ws-peer");
  for (const [what, path] of [
    ["the test peer", exe],
    ["the Yew app", join(siteDir, "yew", "pkg", "app.js")],
    ["the Leptos app", join(siteDir, "leptos", "pkg", "app.js")],
  ]) {
    if (!existsSync(path)) {
      throw new Error(`${what} is missing at ${path}; run \`cargo xtask test\` once to build it`);
    }
  }
  const child = spawn(exe, ["--addr", "127.0.0.1:0", "--static", siteDir, "--exit-on-stdin-eof"], {
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

/** Launches headless Chromium with a fresh profile. Returns `{ context, close }`. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "wasm-websocket-examples-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1024, height: 768 },
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
