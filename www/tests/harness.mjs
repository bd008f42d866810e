// Set-up of the JS tests: the test peer (which also serves the page and the package over
// HTTP) and headless Chromium driven by playwright-core. The parts shared with the example
// tests are in harness-core.mjs.
//
// `cargo xtask test` builds the package into `<target>/www/pkg`, copies `www/` next to it,
// starts `ws-peer --static <target>/www` and passes its address in WS_PEER. Run by hand
// (`npm test` in this directory) the harness starts that peer itself, from the same paths.

import { join } from "node:path";

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
