// Shared by the agent desktop and the wallboard: REST calls, the resuming websocket,
// DOM helpers that only ever set text (never HTML), labels in English and Japanese.

export const LABELS = {
  states: {
    logged_out: ["Logged out", "ログアウト"],
    ready: ["Ready", "受付可"],
    reserved: ["Ringing", "着信中"],
    on_call: ["On call", "通話中"],
    wrap_up: ["Wrap-up", "後処理"],
    not_ready: ["Not ready", "離席"],
  },
  reasons: {
    break: ["Break", "休憩"],
    lunch: ["Lunch", "昼食"],
    meeting: ["Meeting", "会議"],
    training: ["Training", "研修"],
    no_answer: ["No answer", "無応答"],
  },
  dispositions: {
    resolved: ["Resolved", "解決"],
    follow_up: ["Follow-up", "要折り返し"],
    escalated: ["Escalated", "エスカレーション"],
    sale: ["Sale", "成約"],
    no_sale: ["No sale", "不成約"],
    wrong_number: ["Wrong number", "間違い電話"],
    other: ["Other", "その他"],
  },
};

export function label(kind, key) {
  const pair = LABELS[kind] && LABELS[kind][key];
  return pair ? `${pair[0]} / ${pair[1]}` : String(key);
}

// Build an element; every string goes in as text, so caller data can never become markup.
export function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function setText(id, value) {
  document.getElementById(id).textContent = value === null || value === undefined ? "" : String(value);
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

export function fmtTime(epoch) {
  if (!epoch) return "–";
  const d = new Date(epoch * 1000);
  return d.toLocaleString("ja-JP", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

// Server time estimate: messages carry `ts`; keep the offset to the browser's clock.
let clockOffset = 0;
export function noteServerTime(ts) {
  if (typeof ts === "number") clockOffset = ts - Date.now() / 1000;
}
export function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.message || body.reason)) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body, token } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await resp.json(); } catch (_) { data = null; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// A websocket that starts from a snapshot, checks that `seq` rises by one, and on
// reconnect asks for what it missed (`since` + `epoch`); the server answers with the
// missed messages or a fresh snapshot. Close codes 4001/4003 mean the session is over.
export class CtiSocket {
  constructor(token, { onSnapshot, onMessage, onStatus, onSessionEnd }) {
    this.token = token;
    this.handlers = { onSnapshot, onMessage, onStatus, onSessionEnd };
    this.lastSeq = null;
    this.epoch = null;
    this.retry = 0;
    this.stopped = false;
    this.nextId = 1;
    this.pending = new Map();
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    let url = `${scheme}://${location.host}/ws?token=${encodeURIComponent(this.token)}`;
    if (this.lastSeq !== null && this.epoch) url += `&since=${this.lastSeq}&epoch=${encodeURIComponent(this.epoch)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => { this.retry = 0; this.handlers.onStatus(true); this.touch(); };
    ws.onmessage = (ev) => this.receive(JSON.parse(ev.data));
    ws.onclose = (ev) => {
      clearTimeout(this.watchdog);
      this.handlers.onStatus(false);
      if (this.stopped) return;
      if (ev.code === 4001 || ev.code === 4003) { this.handlers.onSessionEnd(ev.code); return; }
      const delay = Math.min(10000, 500 * 2 ** this.retry++);
      setTimeout(() => this.connect(), delay);
    };
  }

  // No message (heartbeats included) for a while means a dead link: reconnect.
  touch() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.ws && this.ws.close(), 45000);
  }

  receive(msg) {
    this.touch();
    noteServerTime(msg.ts);
    if (msg.type === "snapshot") {
      this.lastSeq = msg.seq;
      this.epoch = msg.epoch;
      this.handlers.onSnapshot(msg.payload);
      return;
    }
    if (typeof msg.seq === "number") {
      if (this.lastSeq !== null && msg.seq !== this.lastSeq + 1) {
        // A hole in the stream: start over from a snapshot.
        this.lastSeq = null;
        this.ws.close();
        return;
      }
      this.lastSeq = msg.seq;
    }
    if ((msg.type === "result" || msg.type === "error") && this.pending.has(msg.id)) {
      const { resolve, reject } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === "result" && msg.ok) resolve(msg);
      else reject(new ApiError(0, msg));
      return;
    }
    this.handlers.onMessage(msg);
  }

  command(cmd, args = {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...args, cmd, id }));
    });
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}

export function toast(text) {
  let node = document.getElementById("toast");
  if (!node) {
    node = el("div", { id: "toast", class: "toast", role: "status" });
    document.body.append(node);
  }
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 4000);
}

function showConnection(up) {
  const node = document.getElementById("conn");
  node.className = `conn ${up ? "up" : "down"}`;
  node.textContent = up ? "live / 接続中" : "reconnecting / 再接続中";
}

const WRONG_LOGIN = "Wrong ID or password / IDまたはパスワードが違います";
const ROLE_REQUIRED = { supervisor: "Supervisor role required / スーパーバイザー権限が必要です" };

// The sign-in every page shares: the form #login (#login-password, #login-error), the
// button #signout, #who, and the session kept in sessionStorage under `key` (a reload
// stays signed in; the wallboard and the reports share the supervisor's session).
// `credentials()` gives the login body from the page's fields; `onStart(session, me)`
// shows the page, `onEnd()` hides it; `role`, when given, is required of the user.
// `live` ({onSnapshot, onMessage}), when given, keeps a CtiSocket open while signed in,
// with its state in #conn; the socket's end of the session signs the page out.
export class SignIn {
  constructor({ key, role = null, credentials, onStart, onEnd, live = null }) {
    Object.assign(this, { key, role, credentials, onStart, onEnd, live });
    this.session = null;
    this.me = null;
    this.socket = null;
  }

  get token() {
    return this.session && this.session.token;
  }

  wire() {
    document.getElementById("login").addEventListener("submit", (ev) => this.#login(ev));
    document.getElementById("signout").addEventListener("click", () => this.signOut());
    const saved = sessionStorage.getItem(this.key);
    if (saved) this.#start(JSON.parse(saved));
  }

  async #login(ev) {
    ev.preventDefault();
    setText("login-error", "");
    try {
      const res = await api("/api/login", { method: "POST", body: this.credentials() });
      document.getElementById("login-password").value = "";
      sessionStorage.setItem(this.key, JSON.stringify(res));
      await this.#start(res);
    } catch (err) {
      setText("login-error", err.status === 401 ? WRONG_LOGIN : err.message);
    }
  }

  async #start(session) {
    this.session = session;
    try {
      this.me = await api("/api/me", { token: session.token });
    } catch (_) {
      this.signedOut();
      return;
    }
    if (this.role && this.me.role !== this.role) {
      this.signedOut();
      setText("login-error", ROLE_REQUIRED[this.role] || `${this.role} role required`);
      return;
    }
    setText("who", `${this.me.name || ""} (${this.me.user_id})`);
    document.getElementById("login").hidden = true;
    document.getElementById("signout").hidden = false;
    await this.onStart(session, this.me);
    if (this.live) {
      document.getElementById("conn").hidden = false;
      this.socket = new CtiSocket(session.token, {
        ...this.live, onStatus: showConnection, onSessionEnd: () => this.signedOut(),
      });
    }
  }

  // The session is over (signed out, expired or revoked): back to the form.
  signedOut() {
    if (this.socket) this.socket.stop();
    this.socket = null;
    if (this.live) document.getElementById("conn").hidden = true;
    this.session = null;
    this.me = null;
    sessionStorage.removeItem(this.key);
    this.onEnd();
    document.getElementById("signout").hidden = true;
    setText("who", "");
    document.getElementById("login").hidden = false;
  }

  async signOut() {
    if (this.session) {
      try { await api("/api/logout", { method: "POST", token: this.session.token }); } catch (_) { /* already gone */ }
    }
    this.signedOut();
  }
}
