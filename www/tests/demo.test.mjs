// The demo page (www/index.html) in headless Chromium:
// - `?selftest=1` connects, echoes one text and one binary message through the package,
//   runs a short benchmark and sets data-selftest="ok" on <body>; a screenshot is saved
//   (DEMO_SCREENSHOT, default <target>/demo-selftest.png) for people to look at
// - the page shows the state, the log and the chart, with no errors in the console

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";

import { launchBrowser, openPage, startPeer, targetDir } from "./harness.mjs";

const screenshot = process.env.DEMO_SCREENSHOT ?? join(targetDir, "demo-selftest.png");

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

test("?selftest=1 echoes text and binary through the package and reports ok", async () => {
  const { page, problems } = await openPage(browser.context, `http://${peer.host}/?selftest=1`);
  await page.waitForSelector("body[data-selftest]", { state: "attached", timeout: 45_000 });
  // Let the live meter take a sample or two before the picture is taken.
  await page.waitForTimeout(1200);
  mkdirSync(dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  const result = await page.evaluate(() => document.body.dataset.selftest);
  assert.equal(result, "ok", `data-selftest="${result}" (screenshot: ${screenshot})`);

  const shown = await page.evaluate(() => ({
    state: document.getElementById("state").textContent,
    url: document.getElementById("url").value,
    rows: document.getElementById("log").rows.length,
    log: document.getElementById("log").textContent,
  }));
  assert.equal(shown.state, "open");
  assert.equal(shown.url, `ws://${peer.host}/echo`);
  assert.ok(shown.rows >= 5, `log rows: ${shown.rows}`);
  assert.match(shown.log, /self-test ✓/);
  assert.match(shown.log, /benchmark \(500 × binary/);
  assert.deepEqual(problems, []);
  console.log(`screenshot: ${screenshot}`);
  await page.close();
});

test("disconnect shows the close code and reason", async () => {
  const { page, problems } = await openPage(browser.context, `http://${peer.host}/`);
  await page.click("#connect");
  await page.waitForSelector("#state.state-open", { timeout: 15_000 });
  await page.fill("#text", "hi there");
  await page.click("#send-text");
  await page.waitForFunction(() => document.getElementById("log").textContent.includes("↓ in"));
  await page.click("#connect");
  await page.waitForSelector("#state.state-closed", { timeout: 15_000 });
  await page.waitForFunction(() => document.getElementById("close-info").textContent !== "–");
  const close = await page.textContent("#close-info");
  assert.equal(close, "1000 “bye from the demo”, clean");
  assert.deepEqual(problems, []);
  await page.close();
});
