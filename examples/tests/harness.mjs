// Set-up of the example smoke tests: the test peer (which also serves the built apps over
// HTTP) and headless Chromium driven by playwright-core. The parts shared with the JS
// tests are in ../../www/tests/harness-core.mjs (which needs no npm package).
//
// `cargo xtask test` builds the apps into `<target>/examples-site`, starts
// `ws-peer --static <target>/examples-site` and passes its address in WS_PEER. Run by hand
// (`npm test` in this directory, after one `cargo xtask test`) the harness starts that
// peer itself, from the same paths.

import { join } from "node:path";

import { chromium } from "playwright-core";

import * as core from "../../www/tests/harness-core.mjs";

export { openPage } from "../../www/tests/harness-core.mjs";

/** What the peer serves: one directory per app, each with index.html and pkg/. */
const siteDir = process.env.WS_STATIC_DIR ?? join(core.targetDir, "examples-site");

/**
 * Starts `ws-peer --static <site>` unless WS_PEER names a running one.
 * Returns `{ host, stop }` where `host` is `127.0.0.1:PORT`.
 */
export function startPeer() {
  return core.startPeer({
    staticDir: siteDir,
    needs: [
      ["the Yew app", join(siteDir, "yew", "pkg", "app.js")],
      ["the Leptos app", join(siteDir, "leptos", "pkg", "app.js")],
    ],
    build: "`cargo xtask test`",
  });
}

/** Launches headless Chromium with a fresh profile. Returns `{ context, close }`. */
export function launchBrowser() {
  return core.launchBrowser(chromium, {
    profilePrefix: "wasm-websocket-examples-",
    viewport: { width: 1024, height: 768 },
  });
}
