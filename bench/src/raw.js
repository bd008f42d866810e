// The raw-JS implementation of every workload: the browser's own WebSocket, no wrapper, the
// physical limit the Rust implementations are compared with. Each function resolves with the
// elapsed milliseconds of its timed part (set-up and tear-down are not timed), exactly like
// the Rust loops in `src/lib.rs`.

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      ws.onopen = null;
      ws.onclose = null;
      resolve(ws);
    };
    ws.onclose = (e) => reject(new Error(`connect failed: ${e.code}`));
  });
}

function close(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) {
      resolve();
      return;
    }
    ws.onmessage = null;
    ws.onclose = () => resolve();
    ws.close(1000);
  });
}

function payload(binary, size) {
  if (binary) {
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = i & 0xff;
    return bytes;
  }
  // Built with join, not `+=`: a flat string, so no send has to flatten a rope first.
  const codes = [];
  for (let i = 0; i < size; i++) codes.push(String.fromCharCode(97 + (i % 26)));
  return codes.join("");
}

function size(data) {
  return typeof data === "string" ? data.length : data.byteLength;
}

// n sequential round trips of a 16-byte text message on one socket; elapsed ms.
function roundTrips(ws, n, message) {
  return new Promise((resolve, reject) => {
    let left = n;
    const t0 = performance.now();
    ws.onmessage = (e) => {
      if (size(e.data) !== message.length) {
        reject(new Error("bad echo"));
        return;
      }
      left -= 1;
      if (left === 0) {
        ws.onmessage = null;
        resolve(performance.now() - t0);
      } else {
        ws.send(message);
      }
    };
    ws.onclose = () => reject(new Error("closed during round trips"));
    ws.send(message);
  });
}

// `awaiting`: take each echo with `roundTripsAwait` (see the end of this file).
export async function raw_pingpong(url, n, awaiting) {
  const ws = await open(url);
  const ms = await (awaiting ? roundTripsAwait : roundTrips)(ws, n, payload(false, 16));
  await close(ws);
  return ms;
}

// Sends n messages at once, and waits until all n came back; elapsed ms.
export async function raw_echo(url, binary, bytes, n) {
  const ws = await open(url);
  const message = payload(binary, bytes);
  const ms = await new Promise((resolve, reject) => {
    let got = 0;
    let total = 0;
    const t0 = performance.now();
    ws.onmessage = (e) => {
      total += size(e.data);
      got += 1;
      if (got === n) {
        if (total !== n * bytes) reject(new Error(`echoed ${total} bytes`));
        else resolve(performance.now() - t0);
      }
    };
    ws.onclose = () => reject(new Error("closed during echo"));
    for (let i = 0; i < n; i++) ws.send(message);
  });
  await close(ws);
  return ms;
}

// Receives the peer's flood of n messages, from the open event to the last message.
export function raw_flood(url, n) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    let t0 = 0;
    let got = 0;
    let ms = -1;
    ws.onopen = () => {
      t0 = performance.now();
    };
    ws.onmessage = (e) => {
      if (e.data.byteLength < 4) return;
      got += 1;
      if (got === n) ms = performance.now() - t0;
    };
    ws.onclose = () => {
      if (ms < 0) reject(new Error(`flood: got ${got} of ${n}`));
      else resolve(ms);
    };
  });
}

// Sends n text messages of `bytes` bytes to /count, then `?count`; elapsed ms until the peer
// answers that it counted all n.
export async function raw_send_count(url, n, bytes) {
  const ws = await open(url);
  const message = payload(false, bytes);
  const ms = await new Promise((resolve, reject) => {
    const t0 = performance.now();
    ws.onmessage = (e) => {
      const want = `count=${n} bytes=${n * bytes}`;
      if (e.data !== want) reject(new Error(`peer said ${e.data}, want ${want}`));
      else resolve(performance.now() - t0);
    };
    ws.onclose = () => reject(new Error("closed during send"));
    for (let i = 0; i < n; i++) ws.send(message);
    ws.send("?count");
  });
  await close(ws);
  return ms;
}

// n sequential cycles of: connect, wait for open, close(1000), wait for the close event.
export async function raw_connect_close(url, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const ws = await open(url);
    await close(ws);
  }
  return performance.now() - t0;
}

// `sockets` sockets, all open, each doing `rounds` sequential round trips at the same time.
export async function raw_many(url, sockets, rounds, awaiting) {
  const all = await Promise.all(Array.from({ length: sockets }, () => open(url)));
  const message = payload(false, 16);
  const trips = awaiting ? roundTripsAwait : roundTrips;
  const t0 = performance.now();
  await Promise.all(all.map((ws) => trips(ws, rounds, message)));
  const ms = performance.now() - t0;
  await Promise.all(all.map(close));
  return ms;
}

// ---------------------------------------------------------------------------------------
// The same loops written the way a Rust `Stream` consumer is: every received message is
// taken with one awaited promise (a microtask hop, like an executor's wake + poll) instead
// of being handled inside the event handler. Nothing is copied (JS can keep the
// ArrayBuffer; a Rust `Vec<u8>` cannot). These measure what the async model itself costs,
// in JS; `send-count` and `connect + close` have no variant, they receive (almost) nothing.

// Takes over `ws`'s message and close events; returns `next()`, which resolves with the next
// message's data, or null once the socket has closed and every message was taken.
function reader(ws) {
  let queue = [];
  let head = 0;
  let wake = null;
  let closed = false;
  const wakeUp = () => {
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  ws.onmessage = (e) => {
    queue.push(e.data);
    wakeUp();
  };
  ws.onclose = () => {
    closed = true;
    wakeUp();
  };
  return async () => {
    while (head === queue.length) {
      if (closed) return null;
      await new Promise((resolve) => {
        wake = resolve;
      });
    }
    const data = queue[head];
    head += 1;
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    return data;
  };
}

async function roundTripsAwait(ws, n, message) {
  const next = reader(ws);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    ws.send(message);
    const data = await next();
    if (data === null || size(data) !== message.length) throw new Error("bad echo");
  }
  return performance.now() - t0;
}

export async function raw_echo_await(url, binary, bytes, n) {
  const ws = await open(url);
  const message = payload(binary, bytes);
  const next = reader(ws);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) ws.send(message);
  let total = 0;
  for (let got = 0; got < n; got++) {
    const data = await next();
    if (data === null) throw new Error("closed during echo");
    total += size(data);
  }
  const ms = performance.now() - t0;
  if (total !== n * bytes) throw new Error(`echoed ${total} bytes`);
  await close(ws);
  return ms;
}

export async function raw_flood_await(url, n) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const next = reader(ws);
  let t0 = 0;
  ws.onopen = () => {
    t0 = performance.now();
  };
  let got = 0;
  let ms = -1;
  for (;;) {
    const data = await next();
    if (data === null) break;
    if (data.byteLength < 4) continue;
    got += 1;
    if (got === n) ms = performance.now() - t0;
  }
  if (ms < 0) throw new Error(`flood: got ${got} of ${n}`);
  return ms;
}
