// The demo page: plain JavaScript on top of the npm package (`wasm-pack build npm --target
// web --out-name wasm_websocket`, served at /pkg/). No framework, no build step.
//
// `?selftest=1` connects, echoes one text and one binary message, runs a short benchmark,
// and sets `data-selftest="ok"` (or `"fail: <reason>"`) on <body>; `cargo xtask test`
// loads the page that way in headless Chromium and takes a screenshot.

import init, { Socket } from "./pkg/wasm_websocket.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const SELFTEST = params.get("selftest") === "1";
const DEFAULT_URL = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/echo`;

/** The socket the page shows; benchmark connections are separate. */
let ws = null;

// ---------------------------------------------------------------------------------------
// Formatting

function fmtBytes(n) {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

function fmtCount(n) {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function clock() {
  const d = new Date();
  const pad = (v, w = 2) => String(v).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function preview(msg) {
  if (typeof msg === "string") return msg.length > 120 ? `${msg.slice(0, 120)}…` : msg;
  const head = Array.from(msg.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return msg.length > 16 ? `${head} …` : head;
}

function describeError(e) {
  return e && e.name ? `${e.name}: ${e.message}` : String(e);
}

// ---------------------------------------------------------------------------------------
// Message log

const MAX_ROWS = 300;

function logRow(kind, cells) {
  const row = document.createElement("tr");
  row.className = kind;
  for (const [text, cls] of cells) {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (cls) cell.className = cls;
    row.append(cell);
  }
  const body = $("log");
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
}

function logMessage(dir, msg) {
  const text = typeof msg === "string";
  const size = text ? new TextEncoder().encode(msg).length : msg.byteLength;
  logRow(dir, [
    [clock()],
    [dir === "in" ? "↓ in" : "↑ out", "dir"],
    [text ? "text" : "binary"],
    [fmtBytes(size), "num"],
    [preview(msg), "content"],
  ]);
}

function logEvent(text, kind = "event") {
  logRow(kind, [[clock()], ["•", "dir"], [kind === "error" ? "error" : "event"], ["", "num"], [text, "content"]]);
}

// ---------------------------------------------------------------------------------------
// Live throughput

const counters = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, total: 0, totalBytes: 0 };
const SAMPLE_MS = 500;
const SAMPLES = 60;
const history = [];

function count(dir, msg) {
  const size = typeof msg === "string" ? msg.length : msg.byteLength;
  counters[`${dir}Msgs`] += 1;
  counters[`${dir}Bytes`] += size;
  counters.total += 1;
  counters.totalBytes += size;
}

function sampleThroughput() {
  const perSecond = 1000 / SAMPLE_MS;
  const sample = {
    in: counters.inMsgs * perSecond,
    out: counters.outMsgs * perSecond,
    inBytes: counters.inBytes * perSecond,
    outBytes: counters.outBytes * perSecond,
  };
  counters.inMsgs = counters.inBytes = counters.outMsgs = counters.outBytes = 0;
  history.push(sample);
  if (history.length > SAMPLES) history.shift();
  $("rate-in").textContent = fmtCount(sample.in);
  $("rate-out").textContent = fmtCount(sample.out);
  $("bytes-in").textContent = `${fmtBytes(sample.inBytes)}/s`;
  $("bytes-out").textContent = `${fmtBytes(sample.outBytes)}/s`;
  $("total").textContent = fmtCount(counters.total);
  $("total-bytes").textContent = fmtBytes(counters.totalBytes);
  drawSparkline();
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Sizes a canvas's backing store to its CSS size and returns a scaled 2D context. */
function prepareCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = Number(canvas.getAttribute("height"));
  canvas.style.height = `${height}px`;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

function drawSparkline() {
  const { ctx, width, height } = prepareCanvas($("sparkline"));
  const max = Math.max(10, ...history.map((s) => Math.max(s.in, s.out)));
  const step = width / (SAMPLES - 1);
  const y = (v) => height - 4 - (v / max) * (height - 16);
  for (const [key, color] of [["in", cssVar("--in")], ["out", cssVar("--out")]]) {
    ctx.beginPath();
    history.forEach((s, i) => {
      const x = (SAMPLES - history.length + i) * step;
      if (i === 0) ctx.moveTo(x, y(s[key]));
      else ctx.lineTo(x, y(s[key]));
    });
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.stroke();
  }
  ctx.fillStyle = cssVar("--muted");
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`${fmtCount(max)} msg/s`, 4, 11);
}

// ---------------------------------------------------------------------------------------
// The connection

/** Resolvers of `nextMessage()` calls, served before messages are only logged. */
const messageWaiters = [];

function nextMessage() {
  return new Promise((resolve) => messageWaiters.push(resolve));
}

function onMessage(msg) {
  count("in", msg);
  logMessage("in", msg);
  messageWaiters.shift()?.(msg);
}

async function readAll(socket) {
  try {
    for await (const msg of socket) onMessage(msg);
  } catch (e) {
    logEvent(describeError(e), "error");
  }
}

async function connect(url) {
  logEvent(`connecting to ${url}`);
  $("connect").disabled = true;
  try {
    const socket = await Socket.connect(url, { highWaterMark: 1 << 20 });
    ws = socket;
    logEvent(`open: ${socket.url}${socket.protocol ? ` (protocol ${socket.protocol})` : ""}`);
    socket.closed.then(({ code, reason, wasClean }) => {
      const text = `${code}${reason ? ` “${reason}”` : ""}, ${wasClean ? "clean" : "not clean"}`;
      $("close-info").textContent = text;
      logEvent(`closed: ${text}`);
    });
    readAll(socket);
    return socket;
  } catch (e) {
    logEvent(describeError(e), "error");
    throw e;
  } finally {
    $("connect").disabled = false;
    refresh();
  }
}

async function send(data) {
  if (!ws) return;
  try {
    await ws.send(data);
    count("out", data);
    logMessage("out", data);
  } catch (e) {
    logEvent(describeError(e), "error");
    throw e;
  }
}

function binaryPayload(size, seed = 0) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i + seed) & 0xff;
  return bytes;
}

function refresh() {
  const state = ws ? ws.state : "closed";
  const pill = $("state");
  pill.textContent = state;
  pill.className = `pill state-${state}`;
  const live = state === "open" || state === "connecting";
  const button = $("connect");
  button.textContent = live ? "Disconnect" : "Connect";
  button.classList.toggle("primary", !live);
  $("send-text").disabled = state !== "open";
  $("send-binary").disabled = state !== "open";
  $("protocol").textContent = ws ? ws.protocol || "(none)" : "–";
  $("buffered").textContent = ws ? fmtBytes(ws.bufferedAmount) : "–";
  $("hwm").textContent = ws ? fmtBytes(ws.highWaterMark) : "–";
}

// ---------------------------------------------------------------------------------------
// Benchmark: the same workloads through this package and through raw JS WebSocket

/** A raw `WebSocket` with the same promise-shaped surface as `Socket`, for the benchmark. */
function rawConnect(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    const queue = [];
    const waiters = [];
    socket.onmessage = (event) => {
      const data = typeof event.data === "string" ? event.data : new Uint8Array(event.data);
      const waiter = waiters.shift();
      if (waiter) waiter(data);
      else queue.push(data);
    };
    socket.onopen = () =>
      resolve({
        send(data) {
          socket.send(data);
        },
        next() {
          return queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r));
        },
        close() {
          socket.close(1000);
        },
      });
    socket.onerror = () => reject(new Error(`raw WebSocket could not connect to ${url}`));
  });
}

/** The package's Socket, adapted to the benchmark's surface. */
async function crateConnect(url) {
  const socket = await Socket.connect(url);
  return {
    send: (data) => socket.send(data),
    next: async () => (await socket.next()).value,
    close: () => socket.close(),
  };
}

// Both clients count their traffic into the live meter the same way.
const WORKLOADS = {
  "Round trip": async (client, n, payload) => {
    for (let i = 0; i < n; i++) {
      await client.send(payload);
      count("out", payload);
      count("in", await client.next());
    }
  },
  Burst: async (client, n, payload) => {
    const reader = (async () => {
      for (let i = 0; i < n; i++) count("in", await client.next());
    })();
    for (let i = 0; i < n; i++) {
      await client.send(payload);
      count("out", payload);
    }
    await reader;
  },
};

const CLIENTS = { "raw WebSocket": rawConnect, "wasm-websocket": crateConnect };

/** Runs every workload through every client (best of `rounds`) and returns msg/s. */
async function benchmark(url, n, payload, rounds = 2) {
  const results = {};
  for (const [workload, run] of Object.entries(WORKLOADS)) {
    results[workload] = {};
    for (let round = 0; round < rounds; round++) {
      for (const [name, connectClient] of Object.entries(CLIENTS)) {
        const client = await connectClient(url);
        await run(client, Math.min(50, n), payload); // warm-up
        const start = performance.now();
        await run(client, n, payload);
        const seconds = (performance.now() - start) / 1000;
        client.close();
        const rate = n / Math.max(seconds, 1e-6);
        results[workload][name] = Math.max(results[workload][name] ?? 0, rate);
      }
    }
  }
  return results;
}

let lastResults = null;

function drawChart(results = lastResults) {
  const { ctx, width, height } = prepareCanvas($("chart"));
  const muted = cssVar("--muted");
  const colors = { "raw WebSocket": cssVar("--raw"), "wasm-websocket": cssVar("--accent") };
  ctx.font = "12px system-ui, sans-serif";
  ctx.textBaseline = "alphabetic";

  // Legend.
  let x = 0;
  for (const [name, color] of Object.entries(colors)) {
    ctx.fillStyle = color;
    ctx.fillRect(x, 4, 12, 12);
    ctx.fillStyle = cssVar("--text");
    ctx.fillText(name, x + 17, 14);
    x += ctx.measureText(name).width + 40;
  }
  const top = 38;
  const bottom = height - 26;
  ctx.strokeStyle = cssVar("--line");
  ctx.beginPath();
  ctx.moveTo(0, bottom + 0.5);
  ctx.lineTo(width, bottom + 0.5);
  ctx.stroke();

  if (!results) {
    ctx.fillStyle = muted;
    ctx.textAlign = "center";
    ctx.fillText("Run the benchmark to compare msg/s", width / 2, (top + bottom) / 2);
    ctx.textAlign = "left";
    return;
  }
  const groups = Object.entries(results);
  const max = Math.max(...groups.flatMap(([, byClient]) => Object.values(byClient)));
  const groupWidth = width / groups.length;
  const barWidth = Math.min(70, groupWidth / 3.2);
  groups.forEach(([workload, byClient], g) => {
    const center = groupWidth * (g + 0.5);
    const names = Object.keys(colors);
    names.forEach((name, i) => {
      const value = byClient[name] ?? 0;
      const h = (value / max) * (bottom - top - 16);
      const left = center + (i - names.length / 2) * (barWidth + 8) + 4;
      ctx.fillStyle = colors[name];
      ctx.fillRect(left, bottom - h, barWidth, h);
      ctx.fillStyle = cssVar("--text");
      ctx.textAlign = "center";
      ctx.fillText(`${fmtCount(value)}/s`, left + barWidth / 2, bottom - h - 5);
    });
    const ratio = (byClient["wasm-websocket"] ?? 0) / (byClient["raw WebSocket"] || 1);
    ctx.fillStyle = muted;
    ctx.fillText(`${workload} · ${ratio.toFixed(2)}× raw`, center, height - 8);
    ctx.textAlign = "left";
  });
}

async function runBenchmark(n, kind) {
  const [type, size] = kind.split(":");
  const payload = type === "text" ? "x".repeat(Number(size)) : binaryPayload(Number(size));
  const button = $("bench-run");
  button.disabled = true;
  button.textContent = "Running…";
  try {
    const url = $("url").value.trim() || DEFAULT_URL;
    lastResults = await benchmark(url, n, payload);
    drawChart();
    const summary = Object.entries(lastResults)
      .map(([w, r]) => `${w}: ${fmtCount(r["wasm-websocket"])} vs ${fmtCount(r["raw WebSocket"])} msg/s`)
      .join("; ");
    logEvent(`benchmark (${n} × ${type} ${fmtBytes(Number(size))}): ${summary}`);
    return lastResults;
  } catch (e) {
    logEvent(`benchmark failed: ${describeError(e)}`, "error");
    throw e;
  } finally {
    button.disabled = false;
    button.textContent = "Run benchmark";
  }
}

// ---------------------------------------------------------------------------------------
// Self-test

async function selftest() {
  const body = document.body;
  let finished = false;
  const finish = (result) => {
    if (!finished) {
      finished = true;
      body.dataset.selftest = result;
    }
  };
  const watchdog = setTimeout(() => finish("fail: timed out after 30 s"), 30_000);
  try {
    await connect(DEFAULT_URL);
    const text = `self-test ✓ ${new Date().toISOString()}`;
    let echo = nextMessage();
    await send(text);
    const gotText = await echo;
    if (gotText !== text) throw new Error(`text echo differs: ${JSON.stringify(gotText)}`);

    const bytes = binaryPayload(1024, 7);
    echo = nextMessage();
    await send(bytes);
    const gotBytes = await echo;
    const same =
      gotBytes instanceof Uint8Array &&
      gotBytes.length === bytes.length &&
      gotBytes.every((b, i) => b === bytes[i]);
    if (!same) throw new Error("binary echo differs");

    await runBenchmark(500, "binary:1024");
    finish("ok");
  } catch (e) {
    finish(`fail: ${describeError(e)}`);
  } finally {
    clearTimeout(watchdog);
  }
}

// ---------------------------------------------------------------------------------------
// Wiring

async function main() {
  $("url").value = DEFAULT_URL;
  drawChart();
  drawSparkline();
  try {
    await init();
  } catch (e) {
    logEvent(`could not load the package: ${describeError(e)}`, "error");
    if (SELFTEST) document.body.dataset.selftest = `fail: ${describeError(e)}`;
    return;
  }

  $("connect-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (ws && (ws.state === "open" || ws.state === "connecting")) {
      ws.close(1000, "bye from the demo").catch((e) => logEvent(describeError(e), "error"));
      refresh();
    } else {
      connect($("url").value.trim()).catch(() => {});
    }
  });
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send($("text").value).catch(() => {});
  });
  $("binary-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const size = Math.max(0, Math.min(64 << 20, Math.floor(Number($("binary-size").value) || 0)));
    const times = Math.max(1, Math.min(10_000, Math.floor(Number($("binary-count").value) || 1)));
    try {
      for (let i = 0; i < times; i++) await send(binaryPayload(size, i));
    } catch {
      // Logged by send().
    }
  });
  $("bench-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const n = Math.max(10, Math.min(100_000, Math.floor(Number($("bench-n").value) || 1000)));
    runBenchmark(n, $("bench-kind").value).catch(() => {});
  });
  $("clear-log").addEventListener("click", () => $("log").replaceChildren());
  window.addEventListener("resize", () => {
    drawChart();
    drawSparkline();
  });
  setInterval(sampleThroughput, SAMPLE_MS);
  setInterval(refresh, 100);
  refresh();

  if (SELFTEST) await selftest();
}

main();
