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

export async function raw_pingpong(url, n) {
  const ws = await open(url);
  const ms = await roundTrips(ws, n, payload(false, 16));
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
export async function raw_many(url, sockets, rounds) {
  const all = await Promise.all(Array.from({ length: sockets }, () => open(url)));
  const message = payload(false, 16);
  const t0 = performance.now();
  await Promise.all(all.map((ws) => roundTrips(ws, rounds, message)));
  const ms = performance.now() - t0;
  await Promise.all(all.map(close));
  return ms;
}
