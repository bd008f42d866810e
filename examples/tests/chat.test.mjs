// Smoke tests of the example chats (examples/yew-chat, examples/leptos-chat) in headless
// Chromium, against the test peer, which serves the built apps and answers `/echo` and
// `/stats` on the same port. For each app:
// - it mounts and connects (the ready state shown is "open"; the peer counts the socket);
// - a line typed and sent comes back from `/echo` and is shown as a received line;
// - Disconnect closes cleanly (1000, shown by on_close), the state becomes "closed", and
//   the crate's listeners and timers are released; Connect opens again;
// - Leave unmounts the chat: the peer sees the socket closed and `live_listeners()`
//   returns to 0 (its value before the app mounted: the page uses the crate nowhere else);
// - Join mounts it again and it connects; no page errors or console errors throughout.
//
// `cargo xtask test` builds the apps into `<target>/examples-site/{yew,leptos}` and passes
// the peer's address in WS_PEER; run by hand (`npm test` here) the harness starts
// `ws-peer --static <target>/examples-site` itself.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { launchBrowser, openPage, startPeer } from "./harness.mjs";

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
