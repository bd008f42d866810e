// The npm package's `ReconnectingSocket` (issue 19), in headless Chromium against the test
// peer:
// - connects, sends (resolving with message numbers) and receives; `state`, `highWaterMark`
// - reconnects after the peer drops the connection (/drop), with the events connected,
//   disconnected (1006), retrying, connected; an iteration in progress goes on
// - messages sent while disconnected wait in the outbox and reach the next connection, in
//   order (/record, /report)
// - the URL provider: called before every attempt with the attempt number; a fresh token
//   per attempt (/token_issue, /token_echo, which refuses a reused token); a provider that
//   throws, rejects or gives no URL counts as a failed attempt (providerFailed); `{ url,
//   protocols }` results; a provider that calls back into the socket
// - maxRetries: gives up with attemptFailed ... gaveUp, iteration rejects with the error,
//   takeUnsent() returns what was queued; reconnect() brings it back after it gave up
// - maxEnqueuedMessages / maxEnqueuedBytes: OutboxFull while disconnected
// - close() stops it for good (also while waiting to retry, resolving with null)
// - option validation: TypeError / RangeError with clear messages, never a trap
// - a seeded fuzz of create()'s URL and options (hostile.mjs) asserting typed rejections
//   and a live module afterwards

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { apiPage } from "./harness.mjs";

const session = apiPage();
const { run } = session;

/** A key for /record that no other test (or earlier run against the same peer) uses. */
const freshKey = (name) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}`;

/** The types of `events`, in order. */
const types = (events) => events.map((e) => e.type);

describe("ReconnectingSocket", () => {
  test("connects, sends and receives; send resolves with the message's number", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const s = await lib.ReconnectingSocket.create(`${ws}/echo`, { onEvent: recorder(log) });
      const out = { isInstance: s instanceof lib.ReconnectingSocket, initialState: s.state };
      out.highWaterMark = s.highWaterMark;
      // Accepted into the outbox before the connection is open; sent once it is.
      out.numbers = [await s.send("a"), await s.send(new Uint8Array([1, 2]))];
      out.got = [(await s.next()).value, [...(await s.next()).value]];
      out.openState = s.state;
      out.numbers.push(await s.send("b"));
      out.got.push((await s.next()).value);
      await s.flush();
      out.close = await s.close(1000, "bye");
      out.closedState = s.state;
      out.after = await s.next();
      out.sendAfter = await outcome(s.send("x"));
      out.unsent = await s.takeUnsent();
      out.events = log;
      return out;
    });
    assert.equal(r.isInstance, true);
    assert.equal(r.initialState, "connecting");
    assert.equal(r.highWaterMark, 1 << 20);
    assert.deepEqual(r.numbers, [0, 1, 2]);
    assert.deepEqual(r.got, ["a", [1, 2], "b"]);
    assert.equal(r.openState, "open");
    assert.deepEqual(r.close, { code: 1000, reason: "bye", wasClean: true });
    assert.equal(r.closedState, "closed");
    assert.deepEqual(r.after, { value: undefined, done: true });
    assert.equal(r.sendAfter.ok, false);
    assert.equal(r.sendAfter.error.name, "NotOpen");
    assert.deepEqual(r.unsent, []);
    assert.deepEqual(r.events[0], { type: "connected", attempt: 0 });
    assert.ok(!types(r.events).includes("retrying"), JSON.stringify(r.events));
  });

  test("reconnects after the peer drops the connection; the iteration goes on", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const s = await lib.ReconnectingSocket.create(`${ws}/drop?delay_ms=300`, {
        minReconnectionDelay: 10,
        maxReconnectionDelay: 50,
        onEvent: recorder(log),
      });
      // Waits across the drop and the reconnect.
      const first = s.next();
      await waitFor(() => log.some((e) => e.type === "connected" && e.attempt === 1), 10000, "the reconnect");
      const numbered = await s.send("again");
      const got = await first;
      const events = log.slice();
      const close = await s.close();
      return { numbered, got, events, close };
    });
    assert.deepEqual(r.got, { value: "again", done: false });
    assert.equal(r.numbered, 0);
    assert.deepEqual(types(r.events).slice(0, 4), ["connected", "disconnected", "retrying", "connected"]);
    const [, disconnected, retrying] = r.events;
    assert.equal(disconnected.code, 1006);
    assert.equal(disconnected.wasClean, false);
    assert.deepEqual(disconnected.sent, { start: 0, end: 0 });
    assert.deepEqual(disconnected.unsent, { start: 0, end: 0 });
    assert.equal(retrying.attempt, 1);
    assert.ok(retrying.delay >= 0 && retrying.delay <= 10, `delay ${retrying.delay}`);
    assert.equal(r.close.code, 1000);
  });

  test("messages sent while disconnected wait in the outbox and reach the next connection in order", async () => {
    const key = freshKey("outbox");
    const r = await run(
      async ({ ws, key }) => {
        const log = [];
        const calls = [];
        const sends = [];
        let s;
        const states = [];
        s = await lib.ReconnectingSocket.create(
          (attempt) => {
            calls.push(attempt);
            return attempt === 0 ? `${ws}/drop?delay_ms=200` : `${ws}/record?key=${key}`;
          },
          {
            minReconnectionDelay: 100,
            maxReconnectionDelay: 100,
            onEvent: (event) => {
              recorder(log)(event);
              if (event.type === "disconnected" && states.length === 0) {
                states.push(s.state);
                for (const text of ["q0", "q1", "q2"]) sends.push(s.send(text));
                sends.push(s.send(new Uint8Array([7, 7, 7])));
              }
            },
          },
        );
        await waitFor(() => log.some((e) => e.type === "connected" && e.attempt === 1), 10000, "the reconnect");
        const numbers = await Promise.all(sends);
        await s.flush();
        const close = await s.close();
        const report = await lib.Socket.connect(`${ws}/report?key=${key}`);
        const record = JSON.parse((await report.next()).value);
        return { calls, numbers, states, close, record, events: log };
      },
      { key },
    );
    assert.deepEqual(r.calls, [0, 1]);
    assert.deepEqual(r.states, ["connecting"], "the sends happened while disconnected");
    assert.deepEqual(r.numbers, [0, 1, 2, 3]);
    assert.deepEqual(r.record, [["q0", "q1", "q2", { len: 3, head: "070707" }]]);
    assert.deepEqual(r.close, { code: 1000, reason: "", wasClean: true });
    assert.deepEqual(types(r.events), ["connected", "disconnected", "retrying", "connected", "disconnected"]);
    assert.deepEqual(r.events.at(-1).sent, { start: 0, end: 4 });
  });

  test("the provider fetches a fresh token for every attempt (a reused token is refused)", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const tokens = [];
      const calls = [];
      const fetchToken = async () => {
        const issuer = await lib.Socket.connect(`${ws}/token_issue`);
        const token = (await issuer.next()).value;
        await issuer.closed;
        return token;
      };
      const s = await lib.ReconnectingSocket.create(
        async (attempt) => {
          calls.push(attempt);
          const token = await fetchToken();
          tokens.push(token);
          return `${ws}/token_echo?token=${token}&drop_after=1`;
        },
        { minReconnectionDelay: 10, maxReconnectionDelay: 20, onEvent: recorder(log) },
      );
      await s.send("a");
      const a = (await s.next()).value; // then the peer drops the connection
      await waitFor(() => log.some((e) => e.type === "connected" && e.attempt === 1), 10000, "the reconnect");
      await s.send("b");
      const b = (await s.next()).value;
      await waitFor(() => log.filter((e) => e.type === "disconnected").length === 2, 10000, "the second drop");
      await s.close();
      // The peer refuses a token that was used once.
      const reused = await outcome(lib.Socket.connect(`${ws}/token_echo?token=${tokens[0]}`));
      return { a, b, tokens, calls, events: log, reused };
    });
    assert.equal(r.a, "a");
    assert.equal(r.b, "b");
    assert.deepEqual(r.calls.slice(0, 2), [0, 1]);
    assert.equal(new Set(r.tokens).size, r.tokens.length, `tokens are fresh: ${r.tokens}`);
    assert.deepEqual(types(r.events).slice(0, 4), ["connected", "disconnected", "retrying", "connected"]);
    assert.ok(!types(r.events).includes("attemptFailed"), JSON.stringify(r.events));
    assert.equal(r.reused.ok, false);
    assert.equal(r.reused.error.name, "ConnectFailed");
  });

  test("a provider that throws, rejects or gives no URL counts as a failed attempt", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const calls = [];
      const seen = [];
      let s;
      s = await lib.ReconnectingSocket.create(
        (attempt) => {
          calls.push(attempt);
          // Calling back into the socket from the provider is fine.
          if (s) seen.push(s.state);
          switch (attempt) {
            case 0:
              throw new Error("sync boom");
            case 1:
              return Promise.reject(new RangeError("no token"));
            case 2:
              return 42;
            case 3:
              return { url: { href: 5 } };
            default:
              s.send("from the provider");
              // A URL object, and subprotocols that /protocol?pick=p2 needs to see offered.
              return Promise.resolve({ url: new URL(`${ws}/protocol?pick=p2`), protocols: ["p1", "p2"] });
          }
        },
        { minReconnectionDelay: 0, maxReconnectionDelay: 20, onEvent: recorder(log) },
      );
      await waitFor(() => log.some((e) => e.type === "connected"), 10000, "a connection");
      const echo = (await s.next()).value;
      await s.close();
      return { calls, seen, echo, events: log };
    });
    assert.deepEqual(r.calls, [0, 1, 2, 3, 4]);
    assert.deepEqual(r.seen, ["connecting", "connecting", "connecting", "connecting"]);
    assert.equal(r.echo, "from the provider");
    const failed = r.events.filter((e) => e.type === "providerFailed").map((e) => e.error);
    assert.equal(failed.length, 4, JSON.stringify(r.events));
    for (const error of failed) assert.equal(error.name, "Js");
    assert.deepEqual(
      failed.map((e) => e.fields.jsName),
      ["Error", "RangeError", "TypeError", "TypeError"],
    );
    assert.equal(failed[0].message, "Error: sync boom");
    assert.equal(failed[1].message, "RangeError: no token");
    assert.match(failed[2].message, /^TypeError: the provider's result must be a string or a URL, not number$/);
    assert.match(failed[3].message, /^TypeError: the provider's result\.url must be a string or a URL, not Object$/);
    assert.deepEqual(
      r.events.filter((e) => e.type === "retrying").map((e) => e.attempt),
      [1, 2, 3, 4],
    );
    assert.deepEqual(r.events.find((e) => e.type === "connected"), { type: "connected", attempt: 4 });
  });

  test("gives up after maxRetries: gaveUp, the iteration rejects, takeUnsent() returns the queue", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const s = await lib.ReconnectingSocket.create(`${ws}/refuse`, {
        maxRetries: 2,
        minReconnectionDelay: 10,
        maxReconnectionDelay: 20,
        onEvent: recorder(log),
      });
      const numbers = [await s.send("u1"), await s.send(new Uint8Array([1]))];
      const ended = await outcome(s.next());
      const state = s.state;
      const done = await s.next();
      const unsent = await s.takeUnsent();
      const again = await s.takeUnsent();
      const sendAfter = await outcome(s.send("late"));
      const reconnectAfter = await outcome(s.reconnect());
      return { numbers, ended, state, done, unsent: unsent.map((m) => (typeof m === "string" ? m : [...m])), again, sendAfter, reconnectAfter, events: log };
    });
    assert.deepEqual(r.numbers, [0, 1]);
    assert.equal(r.ended.ok, false);
    assert.equal(r.ended.error.name, "ConnectFailed");
    assert.equal(r.ended.error.fields.code, 1006);
    assert.equal(r.state, "closed");
    assert.deepEqual(r.done, { value: undefined, done: true });
    assert.deepEqual(r.unsent, ["u1", [1]]);
    assert.deepEqual(r.again, []);
    assert.equal(r.sendAfter.error?.name, "NotOpen");
    assert.equal(r.reconnectAfter.error?.name, "NotOpen", "the iteration has ended: no coming back");
    assert.deepEqual(types(r.events), [
      "attemptFailed", "retrying", "attemptFailed", "retrying", "attemptFailed", "gaveUp",
    ]);
    assert.equal(r.events[0].error.name, "ConnectFailed");
    assert.deepEqual(r.events.filter((e) => e.type === "retrying").map((e) => e.attempt), [1, 2]);
  });

  test("reconnect() brings it back after it gave up; sends queued meanwhile go out", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      let refuse = true;
      const s = await lib.ReconnectingSocket.create(() => `${ws}/${refuse ? "refuse" : "echo"}`, {
        maxRetries: 0,
        onEvent: recorder(log),
      });
      await waitFor(() => log.some((e) => e.type === "gaveUp"), 10000, "gaveUp");
      const stateGaveUp = s.state;
      refuse = false;
      await s.reconnect();
      const stateBack = s.state;
      await s.send("back");
      const got = (await s.next()).value;
      await s.close();
      return { stateGaveUp, stateBack, got, events: log };
    });
    assert.equal(r.stateGaveUp, "closed");
    assert.equal(r.stateBack, "connecting");
    assert.equal(r.got, "back");
    assert.deepEqual(types(r.events).slice(0, 3), ["attemptFailed", "gaveUp", "connected"]);
    assert.equal(r.events[2].attempt, 0);
  });

  test("maxEnqueuedMessages and maxEnqueuedBytes bound the outbox while disconnected: OutboxFull", async () => {
    const r = await run(async ({ ws }) => {
      const slow = { minReconnectionDelay: 60000, maxReconnectionDelay: 60000 };
      const a = await lib.ReconnectingSocket.create(`${ws}/refuse`, { ...slow, maxEnqueuedMessages: 2 });
      const messages = await attemptAll([
        ["m0", () => a.send("m0")],
        ["m1", () => a.send("m1")],
        ["m2", () => a.send("m2")],
      ]);
      messages.close = await a.close();
      messages.unsent = await a.takeUnsent();
      const b = await lib.ReconnectingSocket.create(`${ws}/refuse`, { ...slow, maxEnqueuedBytes: 4 });
      const bytes = await attemptAll([
        ["abc", () => b.send("abc")],
        ["de", () => b.send("de")],
        ["f", () => b.send("f")],
      ]);
      await b.close();
      return { messages, bytes };
    });
    assert.equal(r.messages.m0.value, 0);
    assert.equal(r.messages.m1.value, 1);
    assert.equal(r.messages.m2.ok, false);
    assert.equal(r.messages.m2.error.name, "OutboxFull");
    assert.deepEqual(r.messages.m2.error.fields, { messages: 2, bytes: 4 });
    assert.equal(r.messages.close, null, "no connection was open");
    assert.deepEqual(r.messages.unsent, ["m0", "m1"]);
    assert.equal(r.bytes.abc.value, 0);
    assert.equal(r.bytes.de.value, 1, "one message may take it past the bound");
    assert.equal(r.bytes.f.error?.name, "OutboxFull");
  });

  test("close() stops it for good: no more attempts, sends and reconnect() reject", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const s = await lib.ReconnectingSocket.create(`${ws}/echo`, { onEvent: recorder(log) });
      await waitFor(() => s.state === "open", 10000, "open");
      const closing = s.close(4000, "done");
      const stateClosing = s.state;
      const close = await closing;
      const eventsAtClose = log.length;
      await new Promise((resolve) => setTimeout(resolve, 700));
      return {
        stateClosing,
        close,
        state: s.state,
        later: log.slice(eventsAtClose),
        events: log,
        again: await s.close(),
        send: await outcome(s.send("x")),
        reconnect: await outcome(s.reconnect()),
        next: await s.next(),
        badCode: await outcome(s.close(1001)),
      };
    });
    assert.equal(r.stateClosing, "closing");
    assert.deepEqual(r.close, { code: 4000, reason: "done", wasClean: true });
    assert.deepEqual(r.again, r.close);
    assert.equal(r.state, "closed");
    assert.deepEqual(r.later, [], "nothing happens after the close");
    assert.ok(!types(r.events).includes("retrying"), JSON.stringify(r.events));
    assert.equal(r.send.error?.name, "NotOpen");
    assert.equal(r.reconnect.error?.name, "NotOpen");
    assert.deepEqual(r.next, { value: undefined, done: true });
    assert.equal(r.badCode.error?.name, "InvalidCloseCode");
  });

  test("connectionTimeout bounds each attempt (Timeout); defaults to 10 s", async () => {
    const r = await run(async ({ ws }) => {
      const log = [];
      const s = await lib.ReconnectingSocket.create(`${ws.replace("ws:", "http:")}/hang`, {
        connectionTimeout: 100,
        maxRetries: 1,
        minReconnectionDelay: 0,
        maxReconnectionDelay: 10,
        onEvent: recorder(log),
      });
      const ended = await outcome(s.next());
      return { ended, events: log };
    });
    assert.equal(r.ended.error?.name, "Timeout");
    assert.deepEqual(types(r.events), ["attemptFailed", "retrying", "attemptFailed", "gaveUp"]);
    assert.equal(r.events[0].error.name, "Timeout");
  });
});

describe("ReconnectingSocket options", () => {
  test("bad options reject with TypeError or RangeError and a message that names the option", async () => {
    const r = await run(async ({ ws }) => {
      const url = `${ws}/echo`;
      const cases = {
        "url 42": [42],
        "url undefined": [undefined],
        "options 'x'": [url, "x"],
        "maxRetries -1": [url, { maxRetries: -1 }],
        "maxRetries 1.5": [url, { maxRetries: 1.5 }],
        "maxRetries NaN": [url, { maxRetries: NaN }],
        "maxRetries 2^32": [url, { maxRetries: 2 ** 32 }],
        "maxRetries '3'": [url, { maxRetries: "3" }],
        "minReconnectionDelay -1": [url, { minReconnectionDelay: -1 }],
        "minReconnectionDelay Infinity": [url, { minReconnectionDelay: Infinity }],
        "maxReconnectionDelay NaN": [url, { maxReconnectionDelay: NaN }],
        "min above max": [url, { minReconnectionDelay: 2000, maxReconnectionDelay: 1000 }],
        "reconnectionDelayGrowFactor 0.5": [url, { reconnectionDelayGrowFactor: 0.5 }],
        "reconnectionDelayGrowFactor Infinity": [url, { reconnectionDelayGrowFactor: Infinity }],
        "reconnectionDelayGrowFactor '2'": [url, { reconnectionDelayGrowFactor: "2" }],
        "connectionTimeout 0": [url, { connectionTimeout: 0 }],
        "connectionTimeout 2^31": [url, { connectionTimeout: 2 ** 31 }],
        "connectionTimeout and connectTimeout": [url, { connectionTimeout: 100, connectTimeout: 100 }],
        "maxEnqueuedMessages 0": [url, { maxEnqueuedMessages: 0 }],
        "maxEnqueuedMessages 2.5": [url, { maxEnqueuedMessages: 2.5 }],
        "maxEnqueuedBytes -1": [url, { maxEnqueuedBytes: -1 }],
        "minUptime -5": [url, { minUptime: -5 }],
        "onEvent 5": [url, { onEvent: 5 }],
        "reconnectOnCleanClose 'yes'": [url, { reconnectOnCleanClose: "yes" }],
        "maxPendingSends.messages 0": [url, { maxPendingSends: { messages: 0 } }],
        "maxPendingSends.bytes 1.5": [url, { maxPendingSends: { bytes: 1.5 } }],
        "protocols 2^32-1 holes": [url, { protocols: new Array(2 ** 32 - 1) }],
        "throwing getter": [url, { get maxRetries() { throw new Error("boom"); } }],
        "bad URL": ["ftp://example.org/", {}],
      };
      const out = await attemptAll(
        Object.entries(cases).map(([name, args]) => [name, () => lib.ReconnectingSocket.create(...args)]),
      );
      // Each bound alone: the other one's default makes room.
      const fine = {
        "maxReconnectionDelay 100 alone": { maxReconnectionDelay: 100 },
        "minReconnectionDelay 60000 alone": { minReconnectionDelay: 60000 },
        "maxRetries Infinity": { maxRetries: Infinity },
        "maxEnqueuedMessages Infinity": { maxEnqueuedMessages: Infinity },
        "partysocket's defaults": {
          maxReconnectionDelay: 10000,
          minReconnectionDelay: 1000 + Math.random() * 4000,
          reconnectionDelayGrowFactor: 1.3,
          minUptime: 5000,
          connectionTimeout: 4000,
          maxRetries: Infinity,
          maxEnqueuedMessages: Infinity,
        },
      };
      for (const [name, options] of Object.entries(fine)) {
        const o = await outcome(lib.ReconnectingSocket.create(url, options));
        out[name] = o.ok ? { ok: true, close: await o.value.close() } : o;
      }
      return out;
    });
    const typeErrors = [
      "url 42", "url undefined", "options 'x'", "maxRetries '3'", "reconnectionDelayGrowFactor '2'",
      "connectionTimeout and connectTimeout", "onEvent 5", "reconnectOnCleanClose 'yes'", "throwing getter",
    ];
    const fine = [
      "maxReconnectionDelay 100 alone", "minReconnectionDelay 60000 alone", "maxRetries Infinity",
      "maxEnqueuedMessages Infinity", "partysocket's defaults",
    ];
    for (const [name, o] of Object.entries(r)) {
      assert.ok(!o.threw, `${name} must not throw: ${JSON.stringify(o.threw)}`);
      if (fine.includes(name)) {
        assert.equal(o.ok, true, `${name}: ${JSON.stringify(o)}`);
        continue;
      }
      assert.equal(o.ok, false, `${name} must reject`);
      if (name === "bad URL") {
        assert.equal(o.error.name, "InvalidUrl");
        continue;
      }
      const kind = typeErrors.includes(name) ? "TypeError" : "RangeError";
      assert.equal(o.error.name, kind, `${name}: ${JSON.stringify(o.error)}`);
    }
    assert.equal(r["url 42"].error.message, "url must be a string or a URL, not number");
    assert.equal(
      r["maxRetries 1.5"].error.message,
      "options.maxRetries must be a whole number from 0 to 4294967295, or Infinity, not 1.5",
    );
    assert.equal(
      r["min above max"].error.message,
      "options.minReconnectionDelay (2000 ms) must not be more than options.maxReconnectionDelay (1000 ms)",
    );
    assert.equal(
      r["reconnectionDelayGrowFactor 0.5"].error.message,
      "options.reconnectionDelayGrowFactor must be a finite number, 1 or more, not 0.5",
    );
    assert.equal(r["maxEnqueuedMessages 0"].error.message, "options.maxEnqueuedMessages must be 1 or more, not 0");
    assert.equal(
      r["maxEnqueuedMessages 2.5"].error.message,
      "options.maxEnqueuedMessages must be a whole number, 0 or more, not 2.5",
    );
    assert.equal(r["onEvent 5"].error.message, "options.onEvent must be a function, not number");
    assert.match(r["throwing getter"].error.message, /^options\.maxRetries could not be read: boom$/);
    assert.match(r["protocols 2^32-1 holes"].error.message, /^options\.protocols has 4294967295 entries/);
  });

  test("seeded fuzz of create(): every call settles with a typed error or a socket, never throws or traps", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261206);
    const count = Number(process.env.FUZZ_COUNT_RECONNECTING ?? 600);
    const started = Date.now();
    const r = await run(
      async ({ ws, seed, count }) => {
        const allowed = new Set([
          "InvalidUrl", "InvalidProtocol", "Security", "Unsupported", "Js", "TypeError", "RangeError",
        ]);
        const rand = hostile.rng(seed);
        const failures = [];
        const tally = { calls: 0, resolved: 0, rejected: {} };
        for (let i = 0; i < count; i++) {
          const kind = rand.pick(["options", "options", "url", "provider"]);
          let args;
          if (kind === "options") args = [`${ws}/echo`, hostile.reconnectOptions(rand)];
          else if (kind === "url") args = [hostile.value(rand), { maxRetries: 0 }];
          else args = [hostile.provider(rand, `${ws}/echo`), { maxRetries: 1, minReconnectionDelay: 0, maxReconnectionDelay: 1 }];
          const report = (what) => failures.push({ i, kind, args: args.map(hostile.label), ...what });
          const socket = await hostile.fuzzCall(() => lib.ReconnectingSocket.create(...args), {
            allowed,
            tally,
            report,
            describe: describeError,
          });
          if (socket) {
            const closed = await hostile.settle(socket.close());
            if (!closed.ok) report({ close: closed.timeout ? "timeout" : describeError(closed.e) });
          }
        }
        return { failures: failures.slice(0, 10), failureCount: failures.length, tally };
      },
      { seed, count },
    );
    console.log(`reconnecting fuzz seed ${seed}: ${count} calls in ${Date.now() - started} ms: ${JSON.stringify(r.tally)}`);
    assert.equal(r.failureCount, 0, JSON.stringify(r.failures, null, 1));
    const alive = await run(async ({ ws }) => {
      const s = await lib.ReconnectingSocket.create(`${ws}/echo`);
      await s.send("alive");
      const got = (await s.next()).value;
      await s.close();
      return got;
    });
    assert.equal(alive, "alive");
  });

  test("no uncaught errors or console errors in the page", () => {
    assert.deepEqual(
      // Chromium logs refused, failed and abandoned connections itself; those are expected here.
      session.problems.filter(
        (p) =>
          !/WebSocket connection to .* failed|closed before the connection is established|status of 403/.test(p),
      ),
      [],
    );
  });
});
