// Set-up of the example smoke tests: the test peer (which also serves the built apps over
// HTTP) and headless Chromium driven by playwright-core. The parts shared with the JS
// tests are in ../../www/tests/harness-core.mjs (which needs no npm package).
//
// `cargo xtask test` builds the apps into `<target>/examples-site`, starts
// `ws-peer --static <target>/examples-site` and passes its address in WS_PEER. Run by hand
// (`npm test` in this directory, after one `cargo xtask test`) the harness starts that
// peer itself, from the same paths.

import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { chromium } from "playwright-core";

import * as core from "../../www/tests/harness-core.mjs";

export { openPage } from "../../www/tests/harness-core.mjs";

/** What the peer serves: one directory per app, each with index.html and pkg/. */
const siteDir = process.env.WS_STATIC_DIR ?? join(core.targetDir, "examples-site");

/** The cross-platform chat's terminal program (`cargo build -p chat`). */
export const chatExe = process.env.CHAT_EXE ?? join(core.targetDir, "debug", "chat");

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
      ["the chat page", join(siteDir, "chat", "pkg", "app.js")],
      ["the chat's terminal program", chatExe],
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

/** How long the terminal program may take to print a line or to exit. */
const WAIT_MS = 10000;

/** The terminal program as a child process: what it printed, line by line, per stream. */
export class Terminal {
  /** Starts the program with `--url URL`. */
  constructor(url) {
    this.child = spawn(chatExe, ["--url", url], { stdio: ["pipe", "pipe", "pipe"] });
    this.lines = { stdout: [], stderr: [] };
    this.printed = new EventEmitter();
    for (const stream of ["stdout", "stderr"]) {
      createInterface({ input: this.child[stream] }).on("line", (line) => {
        this.lines[stream].push(line);
        this.printed.emit("line");
      });
    }
    this.exit = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** Types a line. */
  say(line) {
    this.child.stdin.write(`${line}\n`);
  }

  /** Resolves once `stream` has printed `line`; fails after WAIT_MS, showing what it printed. */
  waitFor(stream, line) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.lines[stream].includes(line)) {
          stop();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        stop();
        const printed = JSON.stringify(this.lines);
        reject(new Error(`no ${JSON.stringify(line)} on ${stream} within ${WAIT_MS} ms: ${printed}`));
      }, WAIT_MS);
      const stop = () => {
        clearTimeout(timer);
        this.printed.off("line", check);
      };
      this.printed.on("line", check);
      check();
    });
  }

  /** The exit code, once it has exited; fails after WAIT_MS. */
  exited() {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the terminal chat did not exit within ${WAIT_MS} ms`)), WAIT_MS);
    });
    return Promise.race([this.exit, late]).finally(() => clearTimeout(timer));
  }
}
