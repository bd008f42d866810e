// Smoke tests of the example chats in headless Chromium, against the test peer, which
// serves the built apps and answers `/echo`, `/stats` and `/chat` on the same port.
//
// examples/yew-chat and examples/leptos-chat, each:
// - it mounts and connects (the ready state shown is "open"; the peer counts the socket);
// - a line typed and sent comes back from `/echo` and is shown as a received line;
// - Disconnect closes cleanly (1000, shown by on_close), the state becomes "closed", and
//   the crate's listeners and timers are released; Connect opens again;
// - Leave unmounts the chat: the peer sees the socket closed and `live_listeners()`
//   returns to 0 (its value before the app mounted: the page uses the crate nowhere else);
// - Join mounts it again and it connects; no page errors or console errors throughout.
//
// examples/chat, one source built as a terminal program and as a page, in one room of
// `/chat`:
// - the terminal program connects (stderr `* open`) and hears its own line back (stdout);
// - the page connects (`#state` "open") and what it sends reaches both sides;
// - a line typed in the terminal reaches both sides too; each side shows exactly the
//   lines said while it was in the room, in order, once;
// - end of stdin makes the terminal leave with a clean 1000 close and exit 0, while the
//   page stays open; no page errors or console errors.
//
// `cargo xtask test` builds the apps into `<target>/examples-site/{yew,leptos,chat}` and
// the terminal program, and passes the peer's address in WS_PEER and the program in
// CHAT_EXE; run by hand (`npm test` here) the harness starts
// `ws-peer --static <target>/examples-site` itself.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, openPage, startPeer, Terminal } from "./harness.mjs";

let peer;
let browser;

before(async () => {
  peer = await startPeer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await peer?.stop();
});

/** The peer's `/stats`, asked from the page: `{ connections, total }` (this socket included). */
function stats(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://${location.host}/stats`);
        ws.onopen = () => ws.send("get");
        ws.onmessage = (event) => {
          ws.close();
          resolve(JSON.parse(event.data));
        };
        ws.onerror = () => reject(new Error("the /stats socket failed"));
      }),
  );
}

/** Polls `read()` until it returns `want`, for up to `ms`; returns the last value. */
async function eventually(read, want, ms = 5000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (value !== want && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

const openConnections = (page) => stats(page).then((s) => s.connections);
const liveListeners = (page) => page.evaluate(() => window.liveListeners());

async function sendAndSeeEcho(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
  await page.locator("#log li.in", { hasText: text }).waitFor({ timeout: 10000 });
  await page.locator("#log li.out", { hasText: text }).waitFor({ timeout: 1000 });
}

for (const app of ["yew", "leptos"]) {
  test(`${app}-chat: connect, echo, close, reopen, unmount releases the socket and every listener`, async () => {
    const { page, problems } = await openPage(browser.context, `http://${peer.host}/${app}/`);
    try {
      await page.waitForFunction(() => window.appReady === true, null, { timeout: 30000 });

      // Mounted: it connects by itself.
      await page.locator('#state[data-state="open"]').waitFor({ timeout: 10000 });
      await page.locator("#log li.event", { hasText: "connected" }).waitFor();
      assert.equal(await eventually(() => openConnections(page), 2), 2, "the chat's socket and the /stats one");
      const mounted = await liveListeners(page);
      assert.ok(mounted > 0, `an open connection has listeners (got ${mounted})`);

      await sendAndSeeEcho(page, `hello from ${app}`);

      // close(): a clean close, reported by on_close, and nothing left behind.
      await page.click("#disconnect");
      await page.locator('#state[data-state="closed"]').waitFor({ timeout: 10000 });
      await page.locator("#log li.event", { hasText: "closed (1000)" }).waitFor();
      assert.equal(await eventually(() => liveListeners(page), 0), 0, "listeners after close()");
      assert.equal(await eventually(() => openConnections(page), 1), 1, "sockets after close()");

      // open(): a new connection.
      await page.click("#connect");
      await page.locator('#state[data-state="open"]').waitFor({ timeout: 10000 });
      await sendAndSeeEcho(page, `again from ${app}`);
      assert.equal(await eventually(() => openConnections(page), 2), 2);

      // Unmount while open: the socket is closed and every listener and timer released.
      await page.click("#toggle");
      await page.locator("#state").waitFor({ state: "detached", timeout: 10000 });
      assert.equal(await eventually(() => liveListeners(page), 0), 0, "listeners after unmount");
      assert.equal(await eventually(() => openConnections(page), 1), 1, "sockets after unmount");

      // Mount again: a fresh hook connects.
      await page.click("#toggle");
      await page.locator('#state[data-state="open"]').waitFor({ timeout: 10000 });
      await sendAndSeeEcho(page, `back in ${app}`);
      await page.click("#toggle");
      await page.locator("#state").waitFor({ state: "detached", timeout: 10000 });
      assert.equal(await eventually(() => liveListeners(page), 0), 0, "listeners after the second unmount");
      assert.equal(await eventually(() => openConnections(page), 1), 1, "sockets after the second unmount");

      assert.deepEqual(problems, [], "no page errors or console errors");
    } finally {
      await page.close();
    }
  });
}

/** The page's log lines of one class (`in`: messages, `event`: the connection's events). */
const logLines = (page, kind) => page.locator(`#log li.${kind}`).allTextContents();

test("chat: the terminal program and the page talk in one room", async () => {
  const room = `smoke-${process.pid}`;
  const terminal = new Terminal(`ws://${peer.host}/chat?room=${room}`);
  try {
    await terminal.waitFor("stderr", "* open");
    terminal.say("hello from the terminal");
    await terminal.waitFor("stdout", "hello from the terminal");

    const { page, problems } = await openPage(browser.context, `http://${peer.host}/chat/?room=${room}`);
    try {
      await page.waitForFunction(() => window.appReady === true, null, { timeout: 30000 });
      await page.locator('#state[data-state="open"]').waitFor({ timeout: 10000 });

      await page.fill("#text", "hello from the browser");
      await page.click("#send");
      await page.locator("#log li.in", { hasText: "hello from the browser" }).waitFor({ timeout: 10000 });
      await terminal.waitFor("stdout", "hello from the browser");

      terminal.say("and back from the terminal");
      await page.locator("#log li.in", { hasText: "and back from the terminal" }).waitFor({ timeout: 10000 });
      await terminal.waitFor("stdout", "and back from the terminal");

      // End of input: the terminal leaves cleanly; the page stays in the room.
      terminal.child.stdin.end();
      await terminal.waitFor("stderr", '* closed (code 1000, reason "bye", clean)');
      assert.equal(await terminal.exited(), 0, "the terminal's exit code");
      assert.deepEqual(terminal.lines.stdout, [
        "hello from the terminal",
        "hello from the browser",
        "and back from the terminal",
      ]);
      assert.deepEqual(terminal.lines.stderr, [
        "* connecting",
        "* open",
        '* closed (code 1000, reason "bye", clean)',
      ]);

      // The page joined after the terminal's first line, so it never heard it.
      assert.deepEqual(await logLines(page, "in"), ["hello from the browser", "and back from the terminal"]);
      assert.deepEqual(await logLines(page, "event"), ["* connecting", "* open"]);
      assert.equal(await page.getAttribute("#state", "data-state"), "open");
      assert.deepEqual(problems, [], "no page errors or console errors");
    } finally {
      await page.close();
    }
  } finally {
    terminal.child.kill();
  }
});
