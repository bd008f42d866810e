// Set-up of the JS tests: the test peer (which also serves the page and the package over
// HTTP) and headless Chromium driven by playwright-core. The parts shared with the example
// tests are in harness-core.mjs.
//
// `cargo xtask test` builds the package into `<target>/www/pkg`, copies `www/` next to it,
// starts `ws-peer --static <target>/www` and passes its address in WS_PEER. Run by hand
// (`npm test` in this directory) the harness starts that peer itself, from the same paths.

import { join } from "node:path";
import { after, before } from "node:test";

import { chromium } from "playwright-core";

import * as core from "./harness-core.mjs";
import { targetDir } from "./harness-core.mjs";

export { CHROMIUM_ARGS, openPage, root, targetDir } from "./harness-core.mjs";

/** What the peer serves: `www/` with the package built into `pkg/`. */
export const staticDir = process.env.WS_STATIC_DIR ?? join(targetDir, "www");

/**
 * Starts `ws-peer --static <target>/www` unless WS_PEER names a running one.
 * Returns `{ host, stop }` where `host` is `127.0.0.1:PORT`.
 */
export function startPeer() {
  return core.startPeer({
    staticDir,
    needs: [["the package", join(staticDir, "pkg", "wasm_websocket.js")]],
    build: "`cargo xtask test` (or `cargo xtask demo`)",
  });
}

/** Launches headless Chromium with a fresh profile. Returns `{ context, close }`. */
export function launchBrowser() {
  return core.launchBrowser(chromium, {
    profilePrefix: "wasm-websocket-chromium-",
    viewport: { width: 1280, height: 900 },
  });
}

/**
 * Starts the peer and Chromium with `tests/api.html` before the calling test file's tests
 * and stops them after. The returned session's `peer`, `browser`, `page` and `problems`
 * are set once that has run; `run(fn, args)` runs `fn(args)` in the page, with `args.ws`
 * and `args.http` set to the peer's base URLs.
 */
export function apiPage() {
  const session = {
    peer: null,
    browser: null,
    page: null,
    problems: null,
    run: (fn, args = {}) =>
      session.page.evaluate(fn, { ...args, ws: `ws://${session.peer.host}`, http: `http://${session.peer.host}` }),
  };
  before(async () => {
    session.peer = await startPeer();
    session.browser = await launchBrowser();
    const opened = await core.openPage(session.browser.context, `http://${session.peer.host}/tests/api.html`);
    session.page = opened.page;
    session.problems = opened.problems;
    await session.page.waitForSelector("html[data-ready='1']", { state: "attached", timeout: 20_000 });
  });
  after(async () => {
    await session.browser?.close();
    await session.peer?.stop();
  });
  return session;
}
