// AWS AppSync's real-time protocol over WebSocket at /graphql/realtime (APPSYNC.md section 1), as Amplify speaks it:
// the auth header object in a `header-<base64url>` subprotocol, connection_init, then one `start` per subscription
// with `payload.data` a JSON string and the header object again in `extensions.authorization`.

const base64url = (text) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

const MAX_RETRY_MS = 10_000;
const CLOSE_UNAUTHORIZED = 4401;

export class RealtimeClient {
  #socket = null;
  #acked = false;
  #subscriptions = new Map(); // id -> {query, variables, next, error}
  #nextId = 1;
  #retries = 0;
  #retryTimer = null;
  #watchdog = null;
  #timeoutMs = 300_000;
  #closed = false;
  #refused = false;

  /**
   * `tokenOf()` gives the current token; `onState("connecting" | "live" | "offline")` shows the link state;
   * `renew()` runs when the server refuses the token (connection_error, or close 4401 after a sign-out or expiry)
   * and resolves true once a new token is there (then the client reconnects), false to give up.
   */
  constructor(tokenOf, onState = () => {}, renew = async () => false) {
    this.tokenOf = tokenOf;
    this.onState = onState;
    this.renew = renew;
  }

  /**
   * Start a subscription; returns the function that stops it. `next(data)` gets each event's `data`;
   * `started()` runs on each `start_ack` (again after a reconnect): from then on no event is missed.
   */
  subscribe(query, variables, next, { error = () => {}, started = () => {} } = {}) {
    const id = `sub-${this.#nextId++}`;
    this.#subscriptions.set(id, { query, variables, next, error, started });
    if (this.#acked) this.#start(id);
    else this.#connect();
    return () => this.#stop(id);
  }

  close() {
    this.#closed = true;
    this.#subscriptions.clear();
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#watchdog);
    if (this.#socket) this.#socket.close(1000);
    this.#socket = null;
  }

  #header() {
    return { Authorization: this.tokenOf(), host: window.location.host };
  }

  #connect() {
    if (this.#socket || this.#closed) return;
    this.onState("connecting");
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${window.location.host}/graphql/realtime`;
    const socket = new WebSocket(url, ["graphql-ws", "header-" + base64url(JSON.stringify(this.#header()))]);
    this.#socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init" }));
    socket.onmessage = (event) => this.#receive(JSON.parse(event.data));
    socket.onclose = (event) => this.#lost(socket, event.code);
  }

  #receive(message) {
    this.#keepAlive();
    const subscription = this.#subscriptions.get(message.id);
    switch (message.type) {
      case "connection_ack":
        this.#acked = true;
        this.#retries = 0;
        this.#timeoutMs = message.payload?.connectionTimeoutMs || this.#timeoutMs;
        this.onState("live");
        for (const id of this.#subscriptions.keys()) this.#start(id);
        break;
      case "data":
        if (subscription && message.payload?.data) subscription.next(message.payload.data);
        break;
      case "start_ack":
        if (subscription) subscription.started();
        break;
      case "error":
        if (subscription) subscription.error(message.payload?.errors?.[0]?.message || "subscription refused");
        break;
      case "connection_error":
        this.#refused = true; // the server closes next
        break;
      default: // ka, complete
        break;
    }
  }

  #start(id) {
    const { query, variables } = this.#subscriptions.get(id);
    const payload = { data: JSON.stringify({ query, variables }), extensions: { authorization: this.#header() } };
    this.#socket.send(JSON.stringify({ id, type: "start", payload }));
  }

  #stop(id) {
    if (!this.#subscriptions.delete(id)) return;
    if (this.#acked && this.#socket?.readyState === WebSocket.OPEN) {
      this.#socket.send(JSON.stringify({ id, type: "stop" }));
    }
  }

  // The server sends `ka` regularly; silence for longer than connectionTimeoutMs means the link is dead.
  #keepAlive() {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => this.#socket?.close(4000, "keep-alive missed"), this.#timeoutMs);
  }

  async #lost(socket, code) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#acked = false;
    clearTimeout(this.#watchdog);
    if (this.#closed) return;
    this.onState("offline");
    const refused = this.#refused || code === CLOSE_UNAUTHORIZED;
    this.#refused = false;
    if (refused && !(await this.renew())) return this.close();
    if (!this.#subscriptions.size || this.#closed) return;
    const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** this.#retries++);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }
}
