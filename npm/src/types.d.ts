// TypeScript declarations of the npm package, merged into the generated .d.ts by
// wasm-bindgen (see `TS_TYPES` in lib.rs); the `Socket` class itself is generated.
/** A received message: text frames as `string`, binary frames as `Uint8Array`. */
export type Message = string | Uint8Array;

/** What `send` accepts: text, or the bytes of an `ArrayBuffer` or of any view on one. */
export type SendData = string | ArrayBuffer | SharedArrayBuffer | ArrayBufferView;

/** The connection state, mirroring the browser's `readyState`. */
export type SocketState = "connecting" | "open" | "closing" | "closed";

/** How the browser delivers binary frames before they become `Uint8Array`s. */
export type BinaryType = "arraybuffer" | "blob";

/** Options of `Socket.connect`. Every field is optional. */
export interface ConnectOptions {
  /**
   * Subprotocols to offer, in order of preference (RFC 6455 tokens, no duplicates, at most
   * 1024 of them).
   */
  protocols?: string | string[];
  /** `"arraybuffer"` (default, faster) or `"blob"`; messages are `Uint8Array` either way. */
  binaryType?: BinaryType;
  /** Bytes of `bufferedAmount` above which `send` waits (default 1 MiB, `Infinity` = never). */
  highWaterMark?: number;
  /**
   * Milliseconds to wait for the connection to open before failing with `Timeout`. Every
   * duration here is 1 to 2147483647 ms (what `setTimeout` can wait); others are a
   * `RangeError`.
   */
  connectTimeout?: number;
  /**
   * Milliseconds without a received message after which the connection counts as lost: it
   * is closed (1000, "idle timeout") and iteration throws `IdleTimeout` after the messages
   * already received.
   */
  idleTimeout?: number;
  /**
   * Sends `message` after `interval` milliseconds (up to 1.25 intervals) without a send.
   * Browsers cannot send ping frames, so this is an application message.
   */
  heartbeat?: { interval: number; message: SendData };
  /**
   * Bounds the messages and bytes received but not yet iterated (each unbounded if
   * absent). Past a bound the socket is closed with code 4009 and iteration throws
   * `ReceiveQueueFull` after the queued messages.
   */
  maxQueued?: { messages?: number; bytes?: number };
  /**
   * `"classic"` (default): the `WebSocket` object. `"stream"`: `WebSocketStream`, which
   * reads from the network only while you iterate (rejects with `Unsupported` where the
   * browser lacks it). `"auto"`: `"stream"` where available, else `"classic"`.
   */
  backend?: "classic" | "stream" | "auto";
  /**
   * Bounds the sends that wait (called and not yet resolved): while `messages` (default
   * 1024, at least 1) wait, or they hold more than `bytes` (default 1 MiB), `send` rejects
   * with `OutboxFull` at once instead of queueing without bound.
   */
  maxPendingSends?: { messages?: number; bytes?: number };
}

/**
 * Where a `ReconnectingSocket` connects: called with the attempt number (0 first, then the
 * `attempt` of each `retrying` event) before every attempt. Returns, or resolves to, a URL
 * or `{ url, protocols }` (the options' `protocols` apply to a plain URL). A throw, a
 * rejection or a value of another kind counts as a failed attempt (`providerFailed`).
 */
export type UrlProvider = (
  attempt: number,
) => string | URL | ConnectTarget | PromiseLike<string | URL | ConnectTarget>;

/** A URL provider's full answer. */
export interface ConnectTarget {
  url: string | URL;
  protocols?: string | string[];
}

/**
 * Options of `ReconnectingSocket.create`: those of `Socket.connect` (applied to every
 * connection) plus these, named as partysocket names them where it has them.
 */
export interface ReconnectingOptions extends ConnectOptions {
  /** Attempts after the first one (since the last stable connection) before it gives up; default `Infinity`. */
  maxRetries?: number;
  /** Backoff start in ms (0 allowed); default 500. The delay is random in [0, cap]. */
  minReconnectionDelay?: number;
  /** Backoff cap in ms; default 30000. */
  maxReconnectionDelay?: number;
  /** Backoff growth per attempt, 1 or more; default 2. */
  reconnectionDelayGrowFactor?: number;
  /** Ms each attempt may take (`Timeout`); default 10000. Same as `connectTimeout`: give one. */
  connectionTimeout?: number;
  /** Ms a connection must stay open to count as stable (the attempt count starts over); default 5000. */
  minUptime?: number;
  /** Messages the outbox holds while disconnected (at least 1); default 1024. */
  maxEnqueuedMessages?: number;
  /** Bytes the outbox holds while disconnected; default 1 MiB. */
  maxEnqueuedBytes?: number;
  /** Whether a clean close by the server reconnects too; default `false`. */
  reconnectOnCleanClose?: boolean;
  /** Called with every event; an exception it throws is reported like a listener's. */
  onEvent?: (event: ReconnectEventObject) => void;
}

/** A range of message numbers (as `send` resolved them), `end` excluded. */
export interface MessageRange {
  start: number;
  end: number;
}

/** What happened to a `ReconnectingSocket`, as `onEvent` gets it. */
export type ReconnectEventObject =
  | { type: "connected"; attempt: number }
  | ({ type: "disconnected"; sent: MessageRange; unsent: MessageRange } & CloseResult)
  | { type: "attemptFailed"; error: SocketError }
  | { type: "providerFailed"; error: SocketError }
  | { type: "retrying"; attempt: number; delay: number }
  | { type: "gaveUp" }
  | { type: "other" };

/** How a connection ended: the fields of the browser's `CloseEvent`. */
export interface CloseResult {
  /** The close code (1005: the peer sent no code; 1006: abnormal end, e.g. network failure). */
  code: number;
  /** The close reason (may be empty). */
  reason: string;
  /** Whether the closing handshake completed. */
  wasClean: boolean;
}

/** The `name` of every error the package rejects with (besides `TypeError`/`RangeError`). */
export type SocketErrorName =
  | "InvalidUrl"
  | "InvalidProtocol"
  | "Security"
  | "ConnectFailed"
  | "Timeout"
  | "InvalidCloseCode"
  | "ReasonTooLong"
  | "NotOpen"
  | "ConnectionLost"
  | "IdleTimeout"
  | "ReceiveQueueFull"
  | "Unsupported"
  | "OutboxFull"
  | "Js";

/**
 * An error of the package: a plain `Error` whose `name` says what went wrong and whose
 * extra fields depend on the name. Narrow it with `switch (e.name)`.
 */
export type SocketError =
  | (Error & { name: "InvalidUrl"; url: string })
  | (Error & { name: "InvalidProtocol"; protocol: string })
  | (Error & { name: "Security" })
  | (Error & { name: "ConnectFailed" } & CloseResult)
  | (Error & { name: "Timeout" })
  | (Error & { name: "InvalidCloseCode"; code: number })
  | (Error & { name: "ReasonTooLong"; len: number })
  | (Error & { name: "NotOpen"; state: SocketState })
  | (Error & { name: "ConnectionLost" } & CloseResult)
  | (Error & { name: "IdleTimeout" })
  | (Error & { name: "ReceiveQueueFull"; messages: number; bytes: number })
  | (Error & { name: "Unsupported"; feature: string })
  | (Error & { name: "OutboxFull"; messages: number; bytes: number })
  | (Error & { name: "Js"; jsName: string });

export interface Socket extends AsyncIterable<Message> {
  /**
   * Returns the socket itself: `for await (const msg of ws)` receives every message in
   * order. The loop ends after a clean close and throws `ConnectionLost` after an unclean
   * one. Leaving the loop early (`break`) does not close the socket.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined>;
}

export interface ReconnectingSocket extends AsyncIterable<Message> {
  /**
   * Returns the socket itself: `for await (const msg of ws)` receives the messages of
   * every connection in order; it ends after `close()` and throws when it gives up.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message, undefined>;
}
