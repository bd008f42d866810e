// Type-checked (never run) by types.test.mjs against the package's .d.ts: what a TypeScript
// user writes must compile, and the mistakes marked @ts-expect-error must not.
import init, {
  ReconnectingSocket,
  Socket,
  type ReconnectEventObject,
  type ReconnectingOptions,
  type CloseResult,
  type ConnectOptions,
  type Message,
  type SocketError,
  type SocketState,
} from "wasm-websocket-js";

export async function usage(): Promise<void> {
  await init();
  const options: ConnectOptions = {
    protocols: ["chat.v2", "chat.v1"],
    binaryType: "arraybuffer",
    highWaterMark: 1 << 20,
    connectTimeout: 5000,
    idleTimeout: 30_000,
    heartbeat: { interval: 10_000, message: "ping" },
    maxQueued: { messages: 1000 },
    backend: "auto",
  };
  await Socket.connect("/bytes", { heartbeat: { interval: 1000, message: new Uint8Array([0]) } });
  const ws: Socket = await Socket.connect("wss://example.org/chat", options);
  await Socket.connect(new URL("wss://example.org/"));
  await Socket.connect("/relative");

  await ws.send("text");
  await ws.send(new Uint8Array([1, 2, 3]));
  await ws.send(new ArrayBuffer(8));
  await ws.send(new DataView(new ArrayBuffer(4)));
  await ws.flush();

  for await (const msg of ws) {
    const m: Message = msg;
    if (typeof m === "string") {
      m.toUpperCase();
    } else {
      const bytes: Uint8Array = m;
      bytes.byteLength;
    }
  }
  const step = await ws.next();
  if (!step.done) {
    const m: string | Uint8Array = step.value;
    void m;
  }

  const state: SocketState = ws.state;
  const n: number = ws.bufferedAmount + ws.highWaterMark;
  const s: string = ws.protocol + ws.url + ws.extensions + ws.binaryType;
  void [state, n, s];

  const result: CloseResult = await ws.close(1000, "bye");
  const { code, reason, wasClean }: CloseResult = await ws.closed;
  void [result, code, reason, wasClean];
  await ws.close();

  try {
    await Socket.connect("ftp://x");
  } catch (e) {
    const error = e as SocketError;
    switch (error.name) {
      case "InvalidUrl":
        error.url.toLowerCase();
        break;
      case "InvalidProtocol":
        error.protocol.toLowerCase();
        break;
      case "ConnectFailed":
      case "ConnectionLost":
        error.code.toFixed();
        error.wasClean.valueOf();
        break;
      case "InvalidCloseCode":
        error.code.toFixed();
        break;
      case "ReasonTooLong":
        error.len.toFixed();
        break;
      case "NotOpen":
        error.state satisfies SocketState;
        break;
      case "Js":
        error.jsName.toLowerCase();
        break;
      case "ReceiveQueueFull":
      case "OutboxFull":
        error.messages.toFixed();
        error.bytes.toFixed();
        break;
      case "Unsupported":
        error.feature.toLowerCase();
        break;
      case "Security":
      case "Timeout":
      case "IdleTimeout":
        error.message.toLowerCase();
        break;
      default:
        error satisfies never;
    }
  }

  // @ts-expect-error: not a state
  if (ws.state === "half-open") return;
  // @ts-expect-error: numbers are not sendable
  await ws.send(42);
  // @ts-expect-error: unknown binary type
  await Socket.connect("/x", { binaryType: "text" });
  // @ts-expect-error: unknown backend
  await Socket.connect("/x", { backend: "fast" });
  // @ts-expect-error: a heartbeat needs a message
  await Socket.connect("/x", { heartbeat: { interval: 1000 } });
  // @ts-expect-error: read-only
  ws.url = "ws://elsewhere/";
  // @ts-expect-error: no public constructor; use Socket.connect
  new Socket();
}

export async function reconnecting(): Promise<void> {
  const options: ReconnectingOptions = {
    maxRetries: 10,
    minReconnectionDelay: 250,
    maxReconnectionDelay: 10_000,
    reconnectionDelayGrowFactor: 1.5,
    connectionTimeout: 4000,
    minUptime: 5000,
    maxEnqueuedMessages: 100,
    maxEnqueuedBytes: 1 << 16,
    reconnectOnCleanClose: true,
    maxPendingSends: { messages: 64 },
    onEvent: (event: ReconnectEventObject) => {
      if (event.type === "retrying") event.delay.toFixed();
      if (event.type === "disconnected") event.unsent.start.toFixed();
    },
  };
  const ws: ReconnectingSocket = await ReconnectingSocket.create("wss://example.org/live", options);
  await ReconnectingSocket.create(async (attempt: number) => ({ url: `/live?n=${attempt}`, protocols: ["v1"] }));
  await ReconnectingSocket.create(() => new URL("wss://example.org/"));
  const n: number = await ws.send("hello");
  void n;
  await ws.flush();
  for await (const msg of ws) {
    const m: Message = msg;
    void m;
  }
  await ws.reconnect();
  const closed: CloseResult | null = await ws.close(1000, "bye");
  void closed;
  const unsent: Message[] = await ws.takeUnsent();
  void unsent;
  // @ts-expect-error: the provider must give a URL
  await ReconnectingSocket.create(() => 42);
  // @ts-expect-error: unknown option value type
  await ReconnectingSocket.create("/x", { maxRetries: "3" });
}
