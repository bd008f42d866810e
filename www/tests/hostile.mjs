// Hostile values for the JS API, loaded by api.html (as `window.hostile`) and driven by the
// "hostile inputs" tests of api.test.mjs and the fuzz of reconnecting.test.mjs (options and
// URL providers of `ReconnectingSocket.create`). Everything is derived from a seed, so a failing
// case replays from its seed and index.
//
// The classes: primitives at the edges (huge, negative and fractional numbers, NaN,
// infinities, BigInts, symbols, lone surrogates), objects that fight back (Proxies whose
// every trap throws, revoked Proxies, getters that throw, toPrimitive/valueOf/toString that
// throw), arrays (sparse, 2^32-1 long, full of non-strings), and binary data that lies
// (shadowed length/byteLength/byteOffset/buffer, objects with a typed array prototype,
// detached, shared, resizable and out-of-bounds buffers).

/** A small seeded generator (xorshift32): `next()` gives a float in [0, 1). */
export function rng(seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const boom = () => {
  throw new Error("hostile getter");
};

/** A Proxy whose every trap throws (also `getPrototypeOf`, which `instanceof` calls). */
function throwingProxy(target = {}) {
  const traps = {};
  for (const trap of [
    "get",
    "set",
    "has",
    "ownKeys",
    "getOwnPropertyDescriptor",
    "getPrototypeOf",
    "defineProperty",
    "deleteProperty",
    "apply",
    "construct",
    "isExtensible",
    "preventExtensions",
    "setPrototypeOf",
  ]) {
    traps[trap] = boom;
  }
  return new Proxy(target, traps);
}

function revokedProxy(target = {}) {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

function detachedBuffer(size) {
  const buffer = new ArrayBuffer(size);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

/** A view made before its buffer was detached (no view can be made on a detached one). */
function detachedView(View) {
  const buffer = new ArrayBuffer(16);
  const view = new View(buffer, 4);
  structuredClone(buffer, { transfer: [buffer] });
  return view;
}

function sharedBuffer() {
  try {
    // A SharedArrayBuffer even where the constructor is not exposed (no cross-origin isolation).
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer;
  } catch {
    return new ArrayBuffer(8);
  }
}

/** A view whose own properties lie about its size and place. */
function lyingView(r) {
  const view = new Uint8Array(r.pick([0, 1, 16, 4096]));
  const key = r.pick(["length", "byteLength", "byteOffset", "buffer"]);
  const value = r.pick([0, 1, 2 ** 31, 2 ** 32 - 1, -1, NaN, 1e300, new ArrayBuffer(2), null]);
  Object.defineProperty(view, key, r.chance(0.5) ? { value } : { get: boom });
  return view;
}

function lyingBuffer(r) {
  const buffer = new ArrayBuffer(r.pick([0, 8, 1024]));
  Object.defineProperty(buffer, "byteLength", r.chance(0.5) ? { value: r.pick([1e9, -1, 2 ** 40]) } : { get: boom });
  return buffer;
}

function outOfBoundsView() {
  const buffer = new ArrayBuffer(16, { maxByteLength: 32 });
  const view = new Uint8Array(buffer, 8, 8);
  buffer.resize(4); // the view now lies outside its buffer
  return view;
}

function lengthTrackingView() {
  const buffer = new ArrayBuffer(8, { maxByteLength: 64 });
  const view = new Uint8Array(buffer);
  buffer.resize(24);
  return view;
}

const NUMBERS = [
  0, -0, 1, -1, 0.5, 1e-4, 0.0001, 999.999, 1000, 1000.5, 3000, 4999, 65535, 65536, 2 ** 31 - 1,
  2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 2, 1e300, -1e300, Number.MIN_VALUE, Number.EPSILON, NaN,
  Infinity, -Infinity,
];

const STRINGS = [
  "", "x", "\u0000", "\ud800", "a b", "🦀", "1000", "chat", "CHAT", "arraybuffer", "blob", "classic",
  "stream", "auto", "text", "__proto__", "constructor",
];

/** One hostile value of any class. */
export function value(r, depth = 0) {
  const classes = [
    () => r.pick(NUMBERS),
    () => r.next() * 10 ** r.int(12) * (r.chance(0.2) ? -1 : 1),
    () => r.pick([0n, 1000n, -1n, 2n ** 64n]),
    () => r.pick([Symbol("hostile"), Symbol.iterator, Symbol.asyncIterator]),
    () => r.pick(STRINGS),
    () => "x".repeat(r.int(5000)),
    () => r.pick([undefined, null, true, false]),
    () => r.pick([function () {}, class {}, () => 1000, new Date(0), /x/, new Map(), Promise.resolve(1)]),
    () => r.pick([new Blob(["x"]), new String("s"), new Number(1000), Object.create(null), {}, [], [1, 2]]),
    () => throwingProxy(r.pick([{}, [], new Uint8Array(4), function () {}])),
    () => revokedProxy(r.pick([{}, [], new Uint8Array(4)])),
    () => new Proxy(new Uint8Array([1, 2, 3]), {}),
    () => ({ get [r.pick(["interval", "message", "href", "length", "messages", "bytes", "then"])]() { boom(); } }),
    () => ({ [Symbol.toPrimitive]: boom, valueOf: boom, toString: boom }),
    () => r.pick([new Array(2 ** 32 - 1), [, "a"], ["a", , "b"], new Array(r.int(3000)).fill("p")]),
    () => Array.from({ length: r.int(6) }, () => (depth < 2 ? value(r, depth + 1) : "p")),
    () => new Uint8Array(r.int(64)).map(() => r.int(256)),
    () => new (r.pick([Int8Array, Uint16Array, Float64Array, BigInt64Array, Uint8ClampedArray]))(r.int(16)),
    () => new DataView(new ArrayBuffer(16), r.int(8), r.int(8)),
    () => new ArrayBuffer(r.int(1024)),
    () => lyingView(r),
    () => lyingBuffer(r),
    () => Object.create(r.pick([Uint8Array.prototype, ArrayBuffer.prototype, DataView.prototype])),
    () => detachedBuffer(r.int(64)),
    () => detachedView(Uint8Array),
    () => detachedView(DataView),
    () => sharedBuffer(),
    () => new Uint8Array(sharedBuffer(), 0, 16),
    () => outOfBoundsView(),
    () => lengthTrackingView(),
    () => (depth < 2 ? options(r, depth + 1) : {}),
  ];
  return r.pick(classes)();
}

const OPTION_KEYS = [
  "protocols", "binaryType", "highWaterMark", "connectTimeout", "idleTimeout", "heartbeat",
  "maxQueued", "backend",
];

/** Sane values per option, so that hostile ones meet otherwise valid options. */
function saneOption(r, key) {
  switch (key) {
    case "protocols":
      return r.pick([[], "chat", ["a", "b"]]);
    case "binaryType":
      return r.pick(["arraybuffer", "blob"]);
    case "highWaterMark":
      return r.pick([0, 1024, Infinity]);
    case "connectTimeout":
      return r.pick([1, 2000]);
    case "idleTimeout":
      return r.pick([5000, 60000]);
    case "heartbeat":
      return { interval: r.pick([50, 10000]), message: r.pick(["hb", new Uint8Array([1])]) };
    case "maxQueued":
      return { messages: r.pick([0, 10, Infinity]), bytes: r.pick([1, 1 << 20]) };
    default:
      return r.pick(["classic", "auto"]);
  }
}

/** A `Socket.connect` options value: mostly objects with some hostile fields. */
export function options(r, depth = 0) {
  if (r.chance(0.1)) return value(r, depth + 1);
  if (r.chance(0.05)) return throwingProxy();
  const out = {};
  for (const key of OPTION_KEYS) {
    if (!r.chance(0.4)) continue;
    if (r.chance(0.5)) {
      out[key] = saneOption(r, key);
    } else if (key === "heartbeat" || key === "maxQueued") {
      const inner = saneOption(r, key);
      const field = r.pick(Object.keys(inner));
      inner[field] = value(r, depth + 1);
      out[key] = r.chance(0.8) ? inner : value(r, depth + 1);
    } else {
      out[key] = value(r, depth + 1);
    }
  }
  if (r.chance(0.05)) {
    Object.defineProperty(out, r.pick(OPTION_KEYS), { get: boom, enumerable: true });
  }
  return out;
}

const RECONNECT_KEYS = [
  "maxRetries", "minReconnectionDelay", "maxReconnectionDelay", "reconnectionDelayGrowFactor",
  "connectionTimeout", "maxEnqueuedMessages", "maxEnqueuedBytes", "minUptime", "reconnectOnCleanClose",
  "onEvent", "maxPendingSends",
];

/** Sane values per `ReconnectingSocket.create` option. */
function saneReconnectOption(r, key) {
  switch (key) {
    case "maxRetries":
      return r.pick([0, 1, 3, Infinity]);
    case "minReconnectionDelay":
      return r.pick([0, 10, 100]);
    case "maxReconnectionDelay":
      return r.pick([100, 1000, 60000]);
    case "reconnectionDelayGrowFactor":
      return r.pick([1, 1.3, 2]);
    case "connectionTimeout":
      return r.pick([1, 2000]);
    case "maxEnqueuedMessages":
      return r.pick([1, 10, Infinity]);
    case "maxEnqueuedBytes":
      return r.pick([0, 1024, Infinity]);
    case "minUptime":
      return r.pick([0, 5000]);
    case "reconnectOnCleanClose":
      return r.chance(0.5);
    case "onEvent":
      return () => {};
    default:
      return { messages: r.pick([1, 10]), bytes: r.pick([0, 1 << 20]) };
  }
}

/**
 * A `ReconnectingSocket.create` options value: the socket options of `options()` plus the
 * reconnecting ones, some of them hostile. `onEvent` is never a hostile function (one that
 * throws would be reported as the page's error, as an event listener's would).
 */
export function reconnectOptions(r) {
  const out = options(r);
  if (typeof out !== "object" || out === null || Array.isArray(out) || r.chance(0.1)) return out;
  let base;
  try {
    base = { ...out };
  } catch {
    return out;
  }
  for (const key of RECONNECT_KEYS) {
    if (!r.chance(0.4)) continue;
    let v = r.chance(0.5) ? saneReconnectOption(r, key) : value(r, 1);
    if (key === "onEvent" && typeof v === "function") v = () => {};
    base[key] = v;
  }
  if (r.chance(0.05)) {
    Object.defineProperty(base, r.pick(RECONNECT_KEYS), { get: boom, enumerable: true });
  }
  return base;
}

/**
 * A URL provider for `ReconnectingSocket.create` that misbehaves in one of many ways (or
 * gives `good`): returns or resolves to a hostile value, throws one, rejects with one,
 * returns a thenable whose `then` throws, or is a Proxy of a function whose traps throw.
 */
export function provider(r, good) {
  const v = value(r, 1);
  const ways = [
    () => () => v,
    () => () => {
      throw v;
    },
    () => () => Promise.reject(v),
    () => async () => v,
    () => async () => ({ url: v, protocols: r.chance(0.5) ? "chat" : undefined }),
    () => () => ({ url: good, protocols: v }),
    () => () => ({ get then() { boom(); } }),
    () => () => ({ then: v }),
    () => throwingProxy(function () {}),
    () => revokedProxy(function () {}),
    () => () => good,
  ];
  return r.pick(ways)();
}

/** Short text naming a value's kind, for failure reports. */
export function label(v) {
  try {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "symbol") return v.toString();
    if (typeof v === "string") return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...(${v.length})` : v);
    if (typeof v !== "object" && typeof v !== "function") return String(v);
    if (v === null) return "null";
    return Object.prototype.toString.call(v);
  } catch {
    return "(unprintable)";
  }
}

/** `promise` settled as `{ ok: true, v }` or `{ ok: false, e }`, or `{ timeout: true }` after 5 s. */
export function settle(promise) {
  return Promise.race([
    promise.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e })),
    new Promise((done) => setTimeout(() => done({ timeout: true }), 5000)),
  ]);
}

/**
 * One fuzz call: runs `call()`, checks that it returned a promise and that the promise
 * settled with a value or with an `Error` whose name is in `allowed`, and counts the
 * outcome in `tally` (`calls`, `resolved`, `rejected` by name). Anything else goes to
 * `report` (`describe` turns a thrown value into plain data). Returns the resolved value,
 * or `undefined`.
 */
export async function fuzzCall(call, { allowed, tally, report, describe }) {
  tally.calls += 1;
  let p;
  try {
    p = call();
  } catch (e) {
    report({ threw: describe(e) });
    return undefined;
  }
  if (!(p instanceof Promise)) {
    report({ notAPromise: label(p) });
    return undefined;
  }
  const o = await settle(p);
  if (o.timeout) {
    report({ timeout: true });
  } else if (o.ok) {
    tally.resolved += 1;
    return o.v;
  } else {
    const name = o.e?.name;
    tally.rejected[name] = (tally.rejected[name] ?? 0) + 1;
    if (!(o.e instanceof Error) || !allowed.has(name)) report({ rejected: describe(o.e) });
  }
  return undefined;
}
