// /ws client: resumes from the last seq it saw, reconnects by itself with capped, jittered backoff,
// and treats silence longer than three heartbeats as a dead connection.

export const ConnState = Object.freeze({
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  CLOSED: "closed",
});

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const SILENCE_MS = 35000; // the server sends a heartbeat every 10 s
// Close codes from ioc/api/ws.py: 4401 not authenticated (sign in again), 4008 too slow (resume now).
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_TOO_SLOW = 4008;

export class LiveSocket {
  /**
   * @param {object} opts
   * @param {() => string|null} opts.token   current bearer token
   * @param {() => number|null} opts.lastSeq highest alert seq seen so far
   * @param {(msg: object) => void} opts.onMessage
   * @param {(state: string, info: object) => void} opts.onState
   * @param {() => void} opts.onAuthFailed
   */
  constructor(opts) {
    this.opts = opts;
    this.ws = null;
    this.delay = FIRST_DELAY_MS;
    this.retryTimer = null;
    this.silenceTimer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    if (this.ws) this.ws.close(1000, "logout");
    this.ws = null;
    this.opts.onState(ConnState.CLOSED, {});
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams({ token: this.opts.token() ?? "" });
    params.set("last_seq", String(this.opts.lastSeq() ?? 0));
    return `${proto}//${location.host}/ws?${params}`;
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.opts.onState(ConnState.CONNECTING, {});
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (event) => this.receive(ws, event);
    ws.onclose = (event) => this.closed(ws, event);
    ws.onerror = () => {}; // onclose follows and schedules the retry
    this.armSilence(ws);
  }

  receive(ws, event) {
    if (ws !== this.ws) return;
    this.armSilence(ws);
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      console.warn("ioc: /ws sent a frame that is not JSON; ignored");
      return;
    }
    if (msg.type === "welcome") {
      this.delay = FIRST_DELAY_MS;
      this.opts.onState(ConnState.LIVE, { since: Date.now() });
    }
    this.opts.onMessage(msg);
  }

  closed(ws, event) {
    if (ws !== this.ws) return;
    clearTimeout(this.silenceTimer);
    this.ws = null;
    if (this.stopped) return;
    if (event.code === CLOSE_UNAUTHENTICATED) {
      this.stopped = true;
      this.opts.onState(ConnState.CLOSED, {});
      this.opts.onAuthFailed();
      return;
    }
    if (event.code === CLOSE_TOO_SLOW) this.delay = FIRST_DELAY_MS;
    const wait = Math.round(this.delay * (0.75 + Math.random() * 0.5));
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.opts.onState(ConnState.RECONNECTING, { retryAt: Date.now() + wait });
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  armSilence(ws) {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => {
      if (ws === this.ws) ws.close(4000, "silent");
    }, SILENCE_MS);
  }
}
