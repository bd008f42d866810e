// The npm package's JS API (`Socket`), in headless Chromium against the test peer:
// - connect: state, url, protocol, bufferedAmount, highWaterMark, binaryType; relative,
//   http: and URL-object URLs; subprotocol negotiation
// - text and binary round trips (Uint8Array, ArrayBuffer, views with an offset, DataView,
//   empty messages), with both binary types; messages come back as string / Uint8Array
// - sends made without awaiting go out in call order; iterating while sending
// - backpressure: with a small highWaterMark a send to /noread stays pending; flush()
// - async iteration to the end (/flood, /interleave with Blobs), then `done`
// - close(code, reason) result shape, `closed`, state "closing" at once, idempotent close
// - every error name that JS can trigger, with its message and fields: InvalidUrl,
//   InvalidProtocol, Security, ConnectFailed, Timeout, InvalidCloseCode, ReasonTooLong,
//   NotOpen, ConnectionLost, IdleTimeout, ReceiveQueueFull, Unsupported (`Js` wraps browser
//   exceptions that JS cannot provoke here)
// - the options heartbeat, idleTimeout, maxQueued and backend
// - bad argument types reject with TypeError / RangeError and never break the socket
// - hostile inputs (issue 22): oversized and revoked protocol lists, durations out of
//   range, binary data whose own properties lie about its size, payloads larger than wasm
//   memory, a seeded fuzz of every method and option (hostile.mjs) asserting typed
//   rejections and a live module afterwards, and a socket kept only through `closed`
//   surviving garbage collection
// - maxPendingSends (OutboxFull), detached buffers (TypeError), foreign, forged, other-class
//   and freed `this` (TypeError), fractional counts (RangeError)

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { apiPage } from "./harness.mjs";

const session = apiPage();
const { run } = session;

describe("connect", () => {
  test("resolves once open, with the connection's details", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const details = {
        isSocket: s instanceof lib.Socket,
        state: s.state,
        url: s.url,
        protocol: s.protocol,
        extensions: s.extensions,
        bufferedAmount: s.bufferedAmount,
        highWaterMark: s.highWaterMark,
        binaryType: s.binaryType,
        asyncIterable: typeof s[Symbol.asyncIterator] === "function",
        iteratorIsSelf: s[Symbol.asyncIterator]() === s,
      };
      await s.close();
      return details;
    });
    assert.deepEqual(r, {
      isSocket: true,
      state: "open",
      url: `ws://${session.peer.host}/echo`,
      protocol: "",
      extensions: "",
      bufferedAmount: 0,
      highWaterMark: 1048576,
      binaryType: "arraybuffer",
      asyncIterable: true,
      iteratorIsSelf: true,
    });
  });

  test("relative, http: and URL-object URLs resolve like the browser resolves them", async () => {
    const urls = await run(async ({ http }) => {
      const out = [];
      for (const url of ["/echo?a=1", `${http}/echo`, new URL("/echo", location.href)]) {
        const s = await lib.Socket.connect(url);
        out.push(s.url);
        await s.close();
      }
      return out;
    });
    assert.deepEqual(urls, [
      `ws://${session.peer.host}/echo?a=1`,
      `ws://${session.peer.host}/echo`,
      `ws://${session.peer.host}/echo`,
    ]);
  });

  test("offers subprotocols and reports the selected one", async () => {
    const r = await run(async ({ ws }) => {
      const a = await lib.Socket.connect(`${ws}/protocol`, { protocols: ["chat.v2", "chat.v1"] });
      const b = await lib.Socket.connect(`${ws}/protocol`, { protocols: "solo" });
      const c = await lib.Socket.connect(`${ws}/echo`, {
        protocols: [],
        binaryType: "blob",
        highWaterMark: 4096,
      });
      const out = [a.protocol, b.protocol, c.protocol, c.binaryType, c.highWaterMark];
      await Promise.all([a.close(), b.close(), c.close()]);
      return out;
    });
    assert.deepEqual(r, ["chat.v2", "solo", "", "blob", 4096]);
  });
});

describe("messages", () => {
  test("text round trip, including empty and non-ASCII text", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const sent = ["hello", "", "🦀 grüße — ✓", "x".repeat(70_000)];
      for (const text of sent) await s.send(text);
      const got = [];
      for (let i = 0; i < sent.length; i++) got.push((await s.next()).value);
      await s.close();
      return { same: JSON.stringify(got) === JSON.stringify(sent), types: got.map((m) => typeof m) };
    });
    assert.equal(r.same, true);
    assert.deepEqual(r.types, ["string", "string", "string", "string"]);
  });

  for (const binaryType of ["arraybuffer", "blob"]) {
    test(`binary round trip from every kind of buffer (binaryType ${binaryType})`, async () => {
      const r = await run(
        async ({ ws, binaryType }) => {
          const s = await lib.Socket.connect(`${ws}/echo`, { binaryType });
          const base = new Uint8Array(256).map((_, i) => i);
          const inputs = [
            base, // Uint8Array
            base.buffer.slice(10, 20), // ArrayBuffer
            base.subarray(100, 104), // a view with an offset
            new DataView(base.buffer, 250, 6), // DataView
            new Uint16Array([0x0102, 0x0304]), // another typed array: its bytes
            new Uint8Array(0), // empty
            new ArrayBuffer(0), // empty
          ];
          for (const data of inputs) await s.send(data);
          const got = [];
          for (let i = 0; i < inputs.length; i++) {
            const { value } = await s.next();
            got.push({ isU8: value instanceof Uint8Array, hex: hex(value) });
          }
          const expected = inputs.map((d) =>
            hex(ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d)),
          );
          await s.close();
          return { got, expected };
        },
        { binaryType },
      );
      assert.ok(r.got.every((m) => m.isU8), "every binary message is a Uint8Array");
      assert.deepEqual(
        r.got.map((m) => m.hex),
        r.expected,
      );
    });
  }

  test("a large binary message survives the round trip", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const data = new Uint8Array(3 << 20).map((_, i) => (i * 7) & 0xff);
      await s.send(data);
      const { value } = await s.next();
      await s.close();
      return value.length === data.length && value.every((b, i) => b === data[i]);
    });
    assert.equal(r, true);
  });

  test("sends made without awaiting go out in call order, also while iterating", async () => {
    const r = await run(async ({ ws }) => {
      // A small high-water mark makes most of these sends wait in line.
      const s = await lib.Socket.connect(`${ws}/echo`, { highWaterMark: 1024 });
      const n = 300;
      const received = [];
      const reader = (async () => {
        for await (const msg of s) {
          received.push(typeof msg === "string" ? msg : `bin:${msg[0]}`);
          if (received.length === n) break;
        }
      })();
      const sends = [];
      for (let i = 0; i < n; i++) {
        sends.push(s.send(i % 2 ? `t${i}`.padEnd(2000, ".") : new Uint8Array(3000).fill(i & 0xff)));
      }
      await Promise.all(sends);
      await s.flush();
      const flushedTo = s.bufferedAmount;
      await reader;
      // `break` leaves the socket open; it still works.
      await s.send("after");
      const after = (await s.next()).value;
      await s.close();
      const expected = Array.from({ length: n }, (_, i) =>
        i % 2 ? `t${i}`.padEnd(2000, ".") : `bin:${i & 0xff}`,
      );
      return { inOrder: JSON.stringify(received) === JSON.stringify(expected), flushedTo, after };
    });
    assert.deepEqual(r, { inOrder: true, flushedTo: 0, after: "after" });
  });

  test("a send that fits is handed to the browser during the call: send(); close() sends it", async () => {
    // Had the send waited for a later tick, it would find the socket closing and reject
    // with NotOpen. (The echo itself is not delivered: browsers drop messages that arrive
    // after the close has started.)
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const sent = s.send("last words");
      const closing = s.close(4001, "after the send");
      return { sent: await outcome(sent), closed: await closing };
    });
    assert.equal(r.sent.ok, true, JSON.stringify(r.sent));
    assert.deepEqual(r.closed, { code: 4001, reason: "after the send", wasClean: true });
  });

  test("concurrent next() calls resolve in call order", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const pending = [s.next(), s.next(), s.next()];
      s.send("a");
      s.send("b");
      s.send("c");
      const got = (await Promise.all(pending)).map((r) => r.value);
      await s.close();
      return got;
    });
    assert.deepEqual(r, ["a", "b", "c"]);
  });
});

describe("backpressure", () => {
  test("a send waits while bufferedAmount is above the high-water mark", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/noread`, { highWaterMark: 64 * 1024 });
      const chunk = new Uint8Array(256 * 1024);
      // The server never reads: TCP buffers fill up, then bufferedAmount grows.
      let sent = 0;
      let stuck = null;
      for (; sent < 400; sent++) {
        const p = s.send(chunk);
        if (await pendingAfter(p, 200)) {
          stuck = p;
          break;
        }
      }
      const state = {
        stuck: stuck !== null,
        aboveMark: s.bufferedAmount > s.highWaterMark,
        stillPendingLater: stuck ? await pendingAfter(stuck, 300) : false,
        flushPending: await pendingAfter(s.flush(), 100),
      };
      // Closing makes the waiting send fail rather than drop its data silently.
      s.close();
      state.stuckOutcome = stuck ? await outcome(stuck) : null;
      state.stateAfterClose = s.state;
      return state;
    });
    assert.equal(r.stuck, true, "some send stays pending");
    assert.equal(r.aboveMark, true);
    assert.equal(r.stillPendingLater, true);
    assert.equal(r.flushPending, true);
    assert.equal(r.stuckOutcome.ok, false);
    assert.equal(r.stuckOutcome.error.name, "NotOpen");
    assert.equal(r.stateAfterClose, "closing");
  });

  test("flush() resolves once bufferedAmount is 0", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      s.send(new Uint8Array(2 << 20));
      const before = s.bufferedAmount;
      await s.flush();
      const out = { before, after: s.bufferedAmount };
      await s.next();
      await s.close();
      return out;
    });
    assert.ok(r.before > 0, `bufferedAmount after a 2 MiB send: ${r.before}`);
    assert.equal(r.after, 0);
  });
});

describe("iteration and close", () => {
  test("for await reads a flood to the end, then the loop ends", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/flood?n=100&size=12&kind=mixed`);
      const got = [];
      for await (const msg of s) got.push(msg);
      return {
        count: got.length,
        first: got[0],
        second: hex(got[1]),
        last: hex(got[99]),
        kinds: got.every((m, i) => (i % 2 ? m instanceof Uint8Array : typeof m === "string")),
        closed: await s.closed,
        state: s.state,
        nextAfterEnd: await s.next(),
      };
    });
    assert.equal(r.count, 100);
    assert.equal(r.first, "00000000ijkl");
    assert.equal(r.second, "0000000105060708090a0b0c");
    assert.equal(r.last, "000000636768696a6b6c6d6e");
    assert.equal(r.kinds, true);
    assert.deepEqual(r.closed, { code: 1000, reason: "done", wasClean: true });
    assert.equal(r.state, "closed");
    assert.deepEqual(r.nextAfterEnd, { value: undefined, done: true });
  });

  test("Blob messages keep their order (/interleave, binaryType blob)", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/interleave`, { binaryType: "blob" });
      const got = [];
      for await (const msg of s) {
        got.push(typeof msg === "string" ? msg : `${msg.length}x${msg.length ? msg[0] : "-"}`);
      }
      return got;
    });
    assert.deepEqual(r, [
      "t0",
      "262144x1",
      "t2",
      "1x3",
      "",
      "0x-",
      "🦀 t6",
      "65536x7",
      "t8",
      "2x9",
      "1048576x10",
      "t11 — end",
    ]);
  });

  test("close(code, reason) resolves with { code, reason, wasClean }", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const closed = s.closed;
      const closing = s.close(4000, "bye");
      const stateRightAway = s.state;
      const result = await closing;
      return {
        stateRightAway,
        result,
        keys: Object.keys(result).sort(),
        closed: await closed,
        sameClosedPromise: s.closed === closed,
        state: s.state,
        again: await s.close(3000, "ignored"),
      };
    });
    assert.equal(r.stateRightAway, "closing");
    assert.deepEqual(r.result, { code: 4000, reason: "bye", wasClean: true });
    assert.deepEqual(r.keys, ["code", "reason", "wasClean"]);
    assert.deepEqual(r.closed, r.result);
    assert.equal(r.sameClosedPromise, true);
    assert.equal(r.state, "closed");
    assert.deepEqual(r.again, r.result, "closing a closed socket resolves with the same event");
  });

  test("close() defaults to 1000 and an empty reason; the server's close is reported", async () => {
    const r = await run(async ({ ws }) => {
      const a = await lib.Socket.connect(`${ws}/echo`);
      const b = await lib.Socket.connect(`${ws}/close?code=4321&reason=server%20says%20bye`);
      return { a: await a.close(), b: await b.closed, bDone: await b.next() };
    });
    assert.deepEqual(r.a, { code: 1000, reason: "", wasClean: true });
    assert.deepEqual(r.b, { code: 4321, reason: "server says bye", wasClean: true });
    assert.deepEqual(r.bDone, { value: undefined, done: true });
  });
});

describe("options", () => {
  test("heartbeat sends its message after a quiet interval (text and bytes)", async () => {
    const r = await run(async ({ ws }) => {
      const out = {};
      for (const [name, message] of [["text", "hb"], ["bytes", new Uint8Array([1, 2, 3])]]) {
        const s = await lib.Socket.connect(`${ws}/echo`, { heartbeat: { interval: 80, message } });
        const t0 = performance.now();
        const first = (await s.next()).value;
        out[name] = { first: typeof first === "string" ? first : [...first], waited: performance.now() - t0 };
        await s.close();
      }
      return out;
    });
    assert.equal(r.text.first, "hb");
    assert.deepEqual(r.bytes.first, [1, 2, 3]);
    // Never before one interval of quiet (timers may fire a little early: 5 ms slack).
    assert.ok(r.text.waited >= 75, `heartbeat after ${r.text.waited} ms`);
  });

  test("idleTimeout closes with 1000 and ends the iteration with IdleTimeout", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/silent`, { idleTimeout: 150 });
      let error;
      try {
        for await (const _ of s) {
          // /silent never sends
        }
      } catch (e) {
        error = describeError(e);
      }
      const closed = await s.closed;
      return { error, closed, state: s.state };
    });
    assert.equal(r.error.name, "IdleTimeout");
    assert.equal(r.error.message, "nothing received within the idle timeout");
    assert.deepEqual(r.closed, { code: 1000, reason: "idle timeout", wasClean: true });
    assert.equal(r.state, "closed");
  });

  test("maxQueued closes (4009), yields what was queued, then ReceiveQueueFull", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/flood?n=2000&size=16&kind=binary`, {
        maxQueued: { messages: 10 },
      });
      // Do not read until the socket has closed: the queue passes the bound meanwhile.
      const closed = await s.closed;
      let received = 0;
      let error;
      try {
        for await (const msg of s) {
          if (msg.byteLength === 16) received += 1;
        }
      } catch (e) {
        error = describeError(e);
      }
      return { closed, received, error };
    });
    // 4009 is our close; the peer may have finished the flood and closed (1000) first, its
    // close frame crossing ours.
    assert.ok([4009, 1000].includes(r.closed.code), JSON.stringify(r.closed));
    assert.equal(r.error.name, "ReceiveQueueFull");
    assert.equal(r.error.fields.messages, 11);
    assert.equal(r.error.fields.bytes, 11 * 16);
    assert.equal(r.received, 11);
    assert.match(r.error.message, /^receive queue full \(11 messages, 176 bytes\): connection closed$/);
  });

  test("backend stream and auto carry messages; stream without WebSocketStream is Unsupported", async () => {
    const r = await run(async ({ ws }) => {
      const out = {};
      for (const backend of ["classic", "stream", "auto"]) {
        const s = await lib.Socket.connect(`${ws}/echo`, { backend });
        await s.send("x");
        await s.send(new Uint8Array([7]));
        out[backend] = [(await s.next()).value, [...(await s.next()).value]];
        await s.close();
      }
      const saved = globalThis.WebSocketStream;
      delete globalThis.WebSocketStream;
      try {
        out.unsupported = await outcome(lib.Socket.connect(`${ws}/echo`, { backend: "stream" }));
        const s = await lib.Socket.connect(`${ws}/echo`, { backend: "auto" });
        await s.send("classic after all");
        out.autoWithout = (await s.next()).value;
        await s.close();
      } finally {
        globalThis.WebSocketStream = saved;
      }
      return out;
    });
    for (const backend of ["classic", "stream", "auto"]) {
      assert.deepEqual(r[backend], ["x", [7]], backend);
    }
    assert.equal(r.unsupported.ok, false);
    assert.equal(r.unsupported.error.name, "Unsupported");
    assert.match(r.unsupported.error.message, /^not supported by this browser: .*WebSocketStream/);
    assert.equal(r.autoWithout, "classic after all");
  });

  test("bad option values reject with TypeError or RangeError", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const cases = {
        "idleTimeout '1'": { idleTimeout: "1" },
        "heartbeat 5": { heartbeat: 5 },
        "heartbeat without interval": { heartbeat: { message: "x" } },
        "heartbeat without message": { heartbeat: { interval: 100 } },
        "maxQueued 5": { maxQueued: 5 },
        "maxQueued.bytes '1'": { maxQueued: { bytes: "1" } },
        "backend fast": { backend: "fast" },
        "idleTimeout -1": { idleTimeout: -1 },
        "heartbeat interval 0": { heartbeat: { interval: 0, message: "x" } },
        "heartbeat interval NaN": { heartbeat: { interval: NaN, message: "x" } },
        "maxQueued.messages -1": { maxQueued: { messages: -1 } },
      };
      const out = {};
      for (const [name, options] of Object.entries(cases)) {
        out[name] = await outcome(lib.Socket.connect(url, options));
      }
      return out;
    });
    const typeErrors = [
      "idleTimeout '1'",
      "heartbeat 5",
      "heartbeat without interval",
      "heartbeat without message",
      "maxQueued 5",
      "maxQueued.bytes '1'",
      "backend fast",
    ];
    for (const [name, o] of Object.entries(r)) {
      assert.equal(o.ok, false, `${name} must reject`);
      const kind = typeErrors.includes(name) ? "isTypeError" : "isRangeError";
      assert.equal(o.error[kind], true, `${name}: ${JSON.stringify(o.error)}`);
    }
    assert.match(r["backend fast"].error.message, /^options\.backend must be "classic", "stream" or "auto", not "fast"$/);
    assert.match(r["heartbeat without message"].error.message, /^options\.heartbeat\.message must be .*, not undefined$/);
  });
});

describe("hostile inputs (issue 22)", () => {
  // The error names a rejection may carry: the typings' SocketErrorName, TypeError, RangeError.
  const ERROR_NAMES = [
    "InvalidUrl", "InvalidProtocol", "Security", "ConnectFailed", "Timeout", "InvalidCloseCode",
    "ReasonTooLong", "NotOpen", "ConnectionLost", "IdleTimeout", "ReceiveQueueFull", "Unsupported",
    "Js", "OutboxFull", "TypeError", "RangeError",
  ];


  /** After the hostile calls, a normal connect and echo still work. */
  async function assertAlive() {
    const echo = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      await s.send("alive");
      await s.send(new Uint8Array([1, 2, 3]));
      const got = [(await s.next()).value, [...(await s.next()).value]];
      await s.close();
      return got;
    });
    assert.deepEqual(echo, ["alive", [1, 2, 3]]);
  }

  function assertRejects(r, name, kind) {
    const o = r[name];
    assert.ok(!o.threw, `${name} must reject, not throw: ${JSON.stringify(o.threw)}`);
    assert.equal(o.ok, false, `${name} must reject`);
    assert.equal(o.error.name, kind, `${name}: ${JSON.stringify(o.error)}`);
  }

  test("protocols: a 2^32-1 long, sparse, revoked or throwing array rejects with a typed error", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const { proxy, revoke } = Proxy.revocable([], {});
      revoke();
      const throwing = new Proxy(["a"], { get() { throw new Error("boom"); } });
      return attemptAll([
        ["2^32-1 holes", () => lib.Socket.connect(url, { protocols: new Array(2 ** 32 - 1) })],
        ["1025 names", () => lib.Socket.connect(url, { protocols: Array.from({ length: 1025 }, (_, i) => `p${i}`) })],
        ["a hole", () => lib.Socket.connect(url, { protocols: ["a", , "b"] })],
        ["revoked proxy", () => lib.Socket.connect(url, { protocols: proxy })],
        ["throwing proxy", () => lib.Socket.connect(url, { protocols: throwing })],
      ]);
    });
    assertRejects(r, "2^32-1 holes", "RangeError");
    assert.match(r["2^32-1 holes"].error.message, /^options\.protocols has 4294967295 entries, more than the 1024 allowed$/);
    assertRejects(r, "1025 names", "RangeError");
    assertRejects(r, "a hole", "TypeError");
    assertRejects(r, "revoked proxy", "TypeError");
    assertRejects(r, "throwing proxy", "TypeError");
    assert.match(r["throwing proxy"].error.message, /^options\.protocols(\.length)? could not be read: .*boom/);
    await assertAlive();
  });

  test("durations must be 1 to 2147483647 ms: RangeError otherwise", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const cases = {
        "heartbeat.interval 0.0001": { heartbeat: { interval: 0.0001, message: "x" } },
        "heartbeat.interval 2^31": { heartbeat: { interval: 2 ** 31, message: "x" } },
        "idleTimeout 0": { idleTimeout: 0 },
        "idleTimeout -0": { idleTimeout: -0 },
        "idleTimeout 1e300": { idleTimeout: 1e300 },
        "connectTimeout 0": { connectTimeout: 0 },
        "connectTimeout 0.5": { connectTimeout: 0.5 },
        "connectTimeout NaN": { connectTimeout: NaN },
        "connectTimeout -Infinity": { connectTimeout: -Infinity },
      };
      return attemptAll(
        Object.entries(cases).map(([name, options]) => [name, () => lib.Socket.connect(url, options)]),
      );
    });
    for (const name of Object.keys(r)) assertRejects(r, name, "RangeError");
    assert.match(
      r["heartbeat.interval 0.0001"].error.message,
      /^options\.heartbeat\.interval must be from 1 to 2147483647 milliseconds, not 0\.0001$/,
    );
    assert.match(r["idleTimeout 0"].error.message, /^options\.idleTimeout must be from 1 to 2147483647 milliseconds, not 0$/);
    await assertAlive();
  });

  test("binary data is copied by its real size, whatever its own properties claim", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const closed = s.closed;
      const pattern = (n) => new Uint8Array(n).map((_, i) => (i * 13 + 7) & 0xff);
      // A shorter `length` once made the glue allocate less than it then copied.
      const short = pattern(4096);
      Object.defineProperty(short, "length", { value: 1 });
      const long = pattern(16);
      Object.defineProperty(long, "length", { value: 2 ** 31 });
      const fakeBuffer = pattern(8).buffer;
      Object.defineProperty(fakeBuffer, "byteLength", { value: 64 });
      const view = new DataView(pattern(32).buffer, 4, 8);
      Object.defineProperty(view, "byteLength", { get() { throw new Error("boom"); } });
      const offset = pattern(32).subarray(8, 12);
      Object.defineProperty(offset, "byteOffset", { value: 1e9 });
      Object.defineProperty(offset, "buffer", { value: new ArrayBuffer(1) });
      const inputs = { short, long, fakeBuffer, view, offset };
      const out = await attemptAll(Object.entries(inputs).map(([name, data]) => [name, () => s.send(data)]));
      out.echoes = [];
      for (const name of Object.keys(inputs)) {
        if (out[name].ok) out.echoes.push(hex((await s.next()).value));
      }
      const notViews = await attemptAll([
        ["typed array prototype", () => s.send(Object.create(Uint8Array.prototype))],
        ["proxy of a Uint8Array", () => s.send(new Proxy(new Uint8Array(4), {}))],
        ["throwing proxy", () => s.send(new Proxy({}, { getPrototypeOf() { throw new Error("boom"); } }))],
      ]);
      Object.assign(out, notViews);
      out.stateBeforeFree = s.state;
      try {
        s.free();
        out.freed = true;
      } catch (e) {
        out.freed = describeError(e);
      }
      out.closedAfterFree = await closed;
      return out;
    });
    for (const name of ["short", "long", "fakeBuffer", "view", "offset"]) {
      assert.ok(!r[name].threw, `${name} must not throw: ${JSON.stringify(r[name].threw)}`);
      assert.equal(r[name].ok, true, `${name}: ${JSON.stringify(r[name])}`);
    }
    const hexOf = (n, from = 0, to = n) =>
      Array.from({ length: to - from }, (_, j) => (((from + j) * 13 + 7) & 0xff).toString(16).padStart(2, "0")).join("");
    assert.deepEqual(r.echoes, [hexOf(4096), hexOf(16), hexOf(8), hexOf(32, 4, 12), hexOf(32, 8, 12)]);
    for (const name of ["typed array prototype", "proxy of a Uint8Array", "throwing proxy"]) {
      assertRejects(r, name, "TypeError");
    }
    assert.equal(r.stateBeforeFree, "open");
    assert.equal(r.freed, true, "free() works after hostile sends");
    assert.deepEqual(r.closedAfterFree, { code: 1000, reason: "", wasClean: true });
    await assertAlive();
  });

  test("shared buffers are sent, also where SharedArrayBuffer is not a global", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      const view = new Uint8Array(memory.buffer, 16, 4);
      view.set([9, 8, 7, 6]);
      const out = await attemptAll([["view", () => s.send(view)], ["buffer", () => s.send(memory.buffer)]]);
      out.global = typeof SharedArrayBuffer;
      if (out.view.ok) out.echo = [...(await s.next()).value];
      if (out.buffer.ok) out.bufferEcho = (await s.next()).value.length;
      await s.close();
      return out;
    });
    assert.equal(r.view.ok, true, JSON.stringify(r.view));
    assert.equal(r.buffer.ok, true, JSON.stringify(r.buffer));
    assert.deepEqual(r.echo, [9, 8, 7, 6]);
    assert.equal(r.bufferEcho, 65536);
  });

  test("a payload larger than wasm memory can hold rejects with RangeError", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      let huge;
      try {
        huge = new Uint8Array(2 ** 31 + 8); // zero pages: never touched, so cheap
      } catch (e) {
        return { skipped: describeError(e) };
      }
      const out = await attemptAll([
        ["send", () => s.send(huge)],
        ["heartbeat", () => lib.Socket.connect(`${ws}/echo`, { heartbeat: { interval: 1000, message: huge } })],
      ]);
      huge = null;
      out.state = s.state;
      await s.send("after");
      out.echo = (await s.next()).value;
      await s.close();
      return out;
    });
    assert.ok(!r.skipped, `the browser cannot make a 2 GiB buffer: ${JSON.stringify(r.skipped)}`);
    assertRejects(r, "send", "RangeError");
    assert.match(r.send.error.message, /^send data of 2147483656 bytes does not fit in wasm memory$/);
    assertRejects(r, "heartbeat", "RangeError");
    assert.equal(r.state, "open");
    assert.equal(r.echo, "after");
  });

  test("maxPendingSends bounds the sends that wait: OutboxFull at once beyond it", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/noread`, { highWaterMark: 0, maxPendingSends: { messages: 3 } });
      const chunk = new Uint8Array(256 * 1024);
      // Fill the TCP buffers until a send waits.
      let stuck = false;
      for (let i = 0; i < 400 && !stuck; i++) stuck = await pendingAfter(s.send(chunk), 100);
      const waiting = [s.send(chunk), s.send(chunk)]; // 3 waiting with the stuck one
      const over = await outcome(s.send("one too many"));
      s.close();
      await Promise.allSettled(waiting);
      const b = await lib.Socket.connect(`${ws}/noread`, { highWaterMark: 0, maxPendingSends: { bytes: 10 } });
      stuck = false;
      for (let i = 0; i < 400 && !stuck; i++) stuck = await pendingAfter(b.send(chunk), 100);
      const overBytes = await outcome(b.send("x"));
      b.close();
      return { stuck, over, overBytes };
    });
    assert.equal(r.stuck, true);
    assert.equal(r.over.ok, false);
    assert.equal(r.over.error.name, "OutboxFull");
    assert.equal(r.over.error.fields.messages, 3);
    assert.equal(r.overBytes.error?.name, "OutboxFull");
  });

  test("a detached buffer, or a view on one, rejects with TypeError instead of sending nothing", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const detach = (buffer) => structuredClone(buffer, { transfer: [buffer] });
      const buffer = new ArrayBuffer(8);
      detach(buffer);
      const viewBuffer = new ArrayBuffer(16);
      const view = new Uint8Array(viewBuffer, 4);
      detach(viewBuffer);
      const out = await attemptAll([
        ["buffer", () => s.send(buffer)],
        ["view", () => s.send(view)],
        ["heartbeat", () => lib.Socket.connect(`${ws}/echo`, { heartbeat: { interval: 1000, message: buffer } })],
      ]);
      await s.send(new ArrayBuffer(0)); // an empty buffer that is not detached is fine
      out.empty = (await s.next()).value.length;
      await s.close();
      return out;
    });
    for (const name of ["buffer", "view", "heartbeat"]) assertRejects(r, name, "TypeError");
    assert.match(r.buffer.error.message, /^send data is a detached ArrayBuffer \(or a view on one\): its bytes were transferred$/);
    assert.equal(r.empty, 0);
    await assertAlive();
  });

  test("methods and accessors called on a foreign, forged, other-class or freed `this` reject or throw a TypeError", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const rs = await lib.ReconnectingSocket.create(`${ws}/echo`);
      const forged = Object.create(lib.Socket.prototype);
      Object.defineProperty(forged, "__wbg_ptr", { value: 8 });
      const freed = await lib.Socket.connect(`${ws}/echo`);
      freed.free();
      const getter = (proto, name) => Object.getOwnPropertyDescriptor(proto, name).get;
      const out = await attemptAll([
        ["send on {}", () => lib.Socket.prototype.send.call({}, "x")],
        ["send on forged", () => lib.Socket.prototype.send.call(forged, "x")],
        ["Socket.send on a ReconnectingSocket", () => lib.Socket.prototype.send.call(rs, "x")],
        ["ReconnectingSocket.close on a Socket", () => lib.ReconnectingSocket.prototype.close.call(s)],
        ["send on freed", () => freed.send("x")],
        ["closed on {}", () => getter(lib.Socket.prototype, "closed").call({})],
        ["state on forged", () => getter(lib.Socket.prototype, "state").call(forged)],
        ["state on freed", () => Promise.resolve(freed.state)],
        ["free on forged", () => Promise.resolve(lib.Socket.prototype.free.call(forged))],
        ["free twice", () => Promise.resolve(freed.free())],
      ]);
      out.stillOpen = s.state;
      await s.send("fine");
      out.echo = (await s.next()).value;
      await s.close();
      await rs.close();
      return out;
    });
    for (const name of [
      "send on {}", "send on forged", "Socket.send on a ReconnectingSocket",
      "ReconnectingSocket.close on a Socket", "send on freed", "closed on {}",
    ]) {
      assertRejects(r, name, "TypeError");
    }
    assert.equal(r["send on {}"].error.message, "Socket.send was called on an object that is not a Socket");
    assert.equal(r["send on freed"].error.message, "Socket.send was called on a freed Socket");
    for (const name of ["state on forged", "state on freed", "free on forged"]) {
      assert.equal(r[name].threw?.name, "TypeError", `${name}: ${JSON.stringify(r[name])}`);
    }
    assert.equal(r["free twice"].ok, true, JSON.stringify(r["free twice"]));
    assert.equal(r.stillOpen, "open");
    assert.equal(r.echo, "fine");
    await assertAlive();
  });

  test("counts must be whole numbers: RangeError for fractions", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const cases = {
        "highWaterMark 1.5": { highWaterMark: 1.5 },
        "maxQueued.messages 2.5": { maxQueued: { messages: 2.5 } },
        "maxQueued.bytes 0.1": { maxQueued: { bytes: 0.1 } },
        "maxPendingSends.messages 1.5": { maxPendingSends: { messages: 1.5 } },
        "maxPendingSends.bytes 1e-9": { maxPendingSends: { bytes: 1e-9 } },
      };
      return attemptAll(Object.entries(cases).map(([name, options]) => [name, () => lib.Socket.connect(url, options)]));
    });
    for (const name of Object.keys(r)) assertRejects(r, name, "RangeError");
    assert.equal(r["highWaterMark 1.5"].error.message, "options.highWaterMark must be a whole number, 0 or more bytes, not 1.5");
  });

  test("seeded fuzz: every call settles with a typed error or a value, never throws or traps", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261206);
    const count = Number(process.env.FUZZ_COUNT ?? 4000);
    const started = Date.now();
    const r = await run(
      async ({ ws, seed, count, names }) => {
        const allowed = new Set(names);
        const rand = hostile.rng(seed);
        const failures = [];
        const tally = { calls: 0, resolved: 0, rejected: {}, byMethod: {} };
        let s = await lib.Socket.connect(`${ws}/echo`);
        for (let i = 0; i < count; i++) {
          const method = rand.pick(["connect", "connect", "connect url", "send", "send", "close", "flush"]);
          let args;
          let call;
          switch (method) {
            case "connect":
              args = [`${ws}/echo`, hostile.options(rand)];
              call = () => lib.Socket.connect(...args);
              break;
            case "connect url":
              args = [hostile.value(rand), { connectTimeout: 2000 }];
              call = () => lib.Socket.connect(...args);
              break;
            case "send":
              args = [hostile.value(rand)];
              call = () => s.send(...args);
              break;
            case "close":
              args = [hostile.value(rand), rand.chance(0.5) ? hostile.value(rand) : "bye"];
              call = () => s.close(...args);
              break;
            default:
              args = [hostile.value(rand)];
              call = () => s.flush(...args);
          }
          tally.byMethod[method] = (tally.byMethod[method] ?? 0) + 1;
          const report = (what) => failures.push({ i, method, args: args.map(hostile.label), ...what });
          const value = await hostile.fuzzCall(call, { allowed, tally, report, describe: describeError });
          if (value instanceof lib.Socket) await value.close().catch(() => {});
          if (s.state !== "open") s = await lib.Socket.connect(`${ws}/echo`);
        }
        await s.close();
        return { failures: failures.slice(0, 10), failureCount: failures.length, tally };
      },
      { seed, count, names: ERROR_NAMES },
    );
    console.log(`fuzz seed ${seed}: ${count} calls in ${Date.now() - started} ms: ${JSON.stringify(r.tally)}`);
    assert.equal(r.failureCount, 0, JSON.stringify(r.failures, null, 1));
    await assertAlive();
  });

  test("a socket reachable only through its `closed` promise stays open through garbage collection", async () => {
    await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      window.gcProbe = { weak: new WeakRef(s), closed: s.closed, settled: null };
      window.gcProbe.closed.then((result) => (window.gcProbe.settled = result));
    });
    const cdp = await session.browser.context.newCDPSession(session.page);
    for (let i = 0; i < 3; i++) {
      await cdp.send("HeapProfiler.collectGarbage");
      await session.page.evaluate(() => new Promise((done) => setTimeout(done, 100)));
    }
    await cdp.detach();
    const r = await session.page.evaluate(async () => {
      await new Promise((done) => setTimeout(done, 300));
      const s = window.gcProbe.weak.deref();
      const out = { settled: window.gcProbe.settled, alive: s !== undefined };
      if (s) {
        out.state = s.state;
        out.closed = await s.close(4000, "done");
        out.closedPromise = await window.gcProbe.closed;
      }
      delete window.gcProbe;
      return out;
    });
    assert.equal(r.settled, null, `the connection closed by itself: ${JSON.stringify(r.settled)}`);
    assert.equal(r.alive, true);
    assert.equal(r.state, "open");
    assert.deepEqual(r.closed, { code: 4000, reason: "done", wasClean: true });
    assert.deepEqual(r.closedPromise, r.closed);
  });
});

describe("errors", () => {
  /**
   * Runs `fn(lib, args)` in the page and returns the error its promise rejected with.
   * `fn` is sent as source text, so it may use only its parameters.
   */
  async function rejection(fn, args = {}) {
    const a = JSON.stringify({ ...args, ws: `ws://${session.peer.host}` });
    const r = await session.page.evaluate(`outcome((${fn.toString()})(lib, ${a}))`);
    assert.equal(r.ok, false, `expected a rejection, got ${JSON.stringify(r.value)}`);
    return r.error;
  }

  test("InvalidUrl", async () => {
    const e = await rejection((lib) => lib.Socket.connect("ftp://example.org/"));
    assert.equal(e.name, "InvalidUrl");
    assert.equal(e.isError, true);
    assert.match(e.message, /^invalid url "ftp:\/\/example\.org\/": .*scheme/);
    assert.equal(e.fields.url, "ftp://example.org/");
  });

  test("InvalidProtocol", async () => {
    const e = await rejection((lib, a) =>
      lib.Socket.connect(`${a.ws}/echo`, { protocols: ["ok", "a b"] }),
    );
    assert.equal(e.name, "InvalidProtocol");
    assert.equal(e.message, 'invalid subprotocol "a b": character U+0020 is not allowed in a subprotocol token');
    assert.equal(e.fields.protocol, "a b");
    const dup = await rejection((lib, a) =>
      lib.Socket.connect(`${a.ws}/echo`, { protocols: ["chat", "CHAT"] }),
    );
    assert.equal(dup.name, "InvalidProtocol");
    assert.equal(dup.fields.protocol, "CHAT");
  });

  test("Security (an insecure ws: URL from an https: page)", async () => {
    // Serve the test page from an https: origin through request interception, so the
    // browser refuses a ws: URL in the constructor; nothing goes to the network.
    const secure = await session.browser.context.newPage();
    await secure.route("https://wasm-websocket.test/**", async (route) => {
      const path = new URL(route.request().url()).pathname;
      const response = await route.fetch({ url: `http://${session.peer.host}${path}` });
      await route.fulfill({ response });
    });
    try {
      await secure.goto("https://wasm-websocket.test/tests/api.html");
      await secure.waitForSelector("html[data-ready='1']", { state: "attached", timeout: 20_000 });
      const r = await secure.evaluate(() => outcome(lib.Socket.connect("ws://example.invalid/")));
      assert.equal(r.ok, false);
      assert.equal(r.error.name, "Security");
      assert.match(r.error.message, /^security error: .*insecure WebSocket/);
    } finally {
      await secure.close();
    }
  });

  test("ConnectFailed", async () => {
    const e = await rejection((lib, a) => lib.Socket.connect(`${a.ws}/refuse`));
    assert.equal(e.name, "ConnectFailed");
    assert.equal(e.message, "connection failed (code 1006, not clean)");
    assert.deepEqual(e.fields, { code: 1006, reason: "", wasClean: false });
  });

  test("Timeout", async () => {
    const e = await rejection((lib, a) =>
      lib.Socket.connect(`${a.ws}/hang`, { connectTimeout: 300 }),
    );
    assert.equal(e.name, "Timeout");
    assert.equal(e.message, "timed out while connecting");
  });

  test("InvalidCloseCode, also for numbers outside u16 and non-integers", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const out = {};
      for (const code of [1001, 2999, 5000, 0, 65535, 65536, 70000, -1, 1000.5, NaN, Infinity]) {
        out[String(code)] = (await outcome(s.close(code, "x"))).error;
      }
      out.stateAfter = s.state;
      await s.send("still open");
      out.echo = (await s.next()).value;
      await s.close();
      return out;
    });
    for (const [code, shown] of [
      ["1001", "1001"],
      ["2999", "2999"],
      ["5000", "5000"],
      ["0", "0"],
      ["65535", "65535"],
      ["65536", "65536"],
      ["70000", "70000"],
      ["-1", "-1"],
      ["1000.5", "1000.5"],
      ["NaN", "NaN"],
      ["Infinity", "Infinity"],
    ]) {
      const e = r[code];
      assert.equal(e?.name, "InvalidCloseCode", `close(${code})`);
      assert.equal(e.message, `invalid close code ${shown}: only 1000 and 3000..=4999 may be sent`);
      assert.ok(Object.is(e.fields.code, Number(code)), `code field of close(${code})`);
    }
    assert.equal(r.stateAfter, "open", "an invalid close starts nothing");
    assert.equal(r.echo, "still open");
  });

  test("ReasonTooLong counts UTF-8 bytes", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const ascii = (await outcome(s.close(1000, "a".repeat(124)))).error;
      const euro = (await outcome(s.close(1000, "€".repeat(42)))).error;
      const state = s.state;
      const ok = await s.close(1000, "€".repeat(41));
      return { ascii, euro, state, ok };
    });
    assert.equal(r.ascii.name, "ReasonTooLong");
    assert.equal(r.ascii.message, "close reason is 124 bytes long, more than the 123 allowed");
    assert.equal(r.ascii.fields.len, 124);
    assert.equal(r.euro.fields.len, 126);
    assert.equal(r.state, "open");
    assert.deepEqual(r.ok, { code: 1000, reason: "€".repeat(41), wasClean: true });
  });

  test("NotOpen: sending on a closing or closed socket", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/echo`);
      const closing = s.close();
      const whileClosing = (await outcome(s.send("lost?"))).error;
      await closing;
      const afterClose = (await outcome(s.send(new Uint8Array([1])))).error;
      return { whileClosing, afterClose };
    });
    assert.equal(r.whileClosing.name, "NotOpen");
    assert.equal(r.whileClosing.message, "websocket is not open (state: closing)");
    assert.equal(r.whileClosing.fields.state, "closing");
    assert.equal(r.afterClose.name, "NotOpen");
    assert.equal(r.afterClose.fields.state, "closed");
  });

  test("ConnectionLost ends the iteration after the messages already received", async () => {
    const r = await run(async ({ ws }) => {
      const s = await lib.Socket.connect(`${ws}/drop?after=2`);
      s.send("one");
      s.send("two");
      const got = [];
      let error = null;
      try {
        for await (const msg of s) got.push(msg);
      } catch (e) {
        error = describeError(e);
      }
      return { got, error, closed: await s.closed, next: await s.next() };
    });
    assert.deepEqual(r.got, ["one", "two"]);
    assert.equal(r.error.name, "ConnectionLost");
    assert.equal(r.error.message, "connection lost (code 1006, not clean)");
    assert.deepEqual(r.error.fields, { code: 1006, reason: "", wasClean: false });
    assert.deepEqual(r.closed, { code: 1006, reason: "", wasClean: false });
    assert.deepEqual(r.next, { value: undefined, done: true });
  });

  test("bad argument types reject with TypeError or RangeError, and break nothing", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const s = await lib.Socket.connect(url);
      const cases = {
        "send(42)": () => s.send(42),
        "send(null)": () => s.send(null),
        "send(undefined)": () => s.send(),
        "send({})": () => s.send({}),
        "send(Blob)": () => s.send(new Blob(["x"])),
        "send([1,2])": () => s.send([1, 2]),
        "send(new String)": () => s.send(new String("boxed")),
        "send(null-proto)": () => s.send(Object.create(null)),
        "connect(42)": () => lib.Socket.connect(42),
        "connect(undefined)": () => lib.Socket.connect(),
        "connect(url, 'x')": () => lib.Socket.connect(url, "x"),
        "protocols [1]": () => lib.Socket.connect(url, { protocols: [1] }),
        "protocols 5": () => lib.Socket.connect(url, { protocols: 5 }),
        "binaryType text": () => lib.Socket.connect(url, { binaryType: "text" }),
        "highWaterMark '1'": () => lib.Socket.connect(url, { highWaterMark: "1" }),
        "highWaterMark -1": () => lib.Socket.connect(url, { highWaterMark: -1 }),
        "highWaterMark NaN": () => lib.Socket.connect(url, { highWaterMark: NaN }),
        "connectTimeout -5": () => lib.Socket.connect(url, { connectTimeout: -5 }),
        "connectTimeout Infinity": () => lib.Socket.connect(url, { connectTimeout: Infinity }),
        "close('1000')": () => s.close("1000"),
        "close(1000n)": () => s.close(1000n),
        "close(1000, 5)": () => s.close(1000, 5),
        "close(1000, {})": () => s.close(1000, {}),
      };
      const out = await attemptAll(Object.entries(cases));
      out.stateAfter = s.state;
      await s.send("fine");
      out.echo = (await s.next()).value;
      await s.close();
      return out;
    });
    const typeErrors = [
      "send(42)",
      "send(null)",
      "send(undefined)",
      "send({})",
      "send(Blob)",
      "send([1,2])",
      "send(new String)",
      "send(null-proto)",
      "connect(42)",
      "connect(undefined)",
      "connect(url, 'x')",
      "protocols [1]",
      "protocols 5",
      "binaryType text",
      "highWaterMark '1'",
      "close('1000')",
      "close(1000n)",
      "close(1000, 5)",
      "close(1000, {})",
    ];
    for (const name of typeErrors) {
      const o = r[name];
      assert.ok(!o.threw, `${name} must reject, not throw: ${JSON.stringify(o.threw)}`);
      assert.equal(o.ok, false, `${name} must reject`);
      assert.equal(o.error.isTypeError, true, `${name}: ${JSON.stringify(o.error)}`);
    }
    assert.match(r["send(Blob)"].error.message, /not Blob$/);
    assert.match(r["send(null-proto)"].error.message, /not object$/);
    for (const name of ["highWaterMark -1", "highWaterMark NaN", "connectTimeout -5", "connectTimeout Infinity"]) {
      const o = r[name];
      assert.equal(o.ok, false, `${name} must reject`);
      assert.equal(o.error.isRangeError, true, `${name}: ${JSON.stringify(o.error)}`);
    }
    assert.equal(r.stateAfter, "open");
    assert.equal(r.echo, "fine");
  });

  test("no uncaught errors or console errors in the page", () => {
    assert.deepEqual(
      // Chromium logs failed and abandoned connections itself; those are expected here.
      session.problems.filter(
        (p) => !/WebSocket connection to .* failed|closed before the connection is established/.test(p),
      ),
      [],
    );
  });
});
