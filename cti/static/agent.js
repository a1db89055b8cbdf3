// Agent desktop: login, state, screen pop, call controls, wrap-up, click-to-dial, recent calls.
// Everything from the server is shown with textContent (see common.js `el`).
import {
  api, clear, el, fmtDuration, fmtTime, label, serverNow, setText, SignIn, toast,
} from "/static/common.js";

const $ = (id) => document.getElementById(id);

const view = {
  agent: null, // last agent.state payload
  call: null, // current call (call.offered payload + state, on_hold, consulting)
  wrapupCallId: null,
  saved: new Set(), // call ids whose disposition was saved from this desktop
  recent: [],
};

// ---------------------------------------------------------------- session

const signIn = new SignIn({
  key: "madoguchi.agent.session",
  credentials: () => ({ agent: $("login-agent").value.trim(), password: $("login-password").value }),
  onStart: (_session, me) => {
    fillSelect($("pause-reason"), me.pause_reasons.filter((r) => r !== "no_answer"), "reasons");
    fillSelect($("disp-code"), me.disposition_codes, "dispositions");
    $("desk").hidden = false;
  },
  onEnd: () => {
    $("desk").hidden = true;
    $("state-badge").hidden = true;
  },
  live: { onSnapshot, onMessage },
});

function fillSelect(select, keys, kind) {
  clear(select);
  for (const key of keys) select.append(el("option", { value: key, text: label(kind, key) }));
}

// ---------------------------------------------------------------- server messages

function onSnapshot(snap) {
  view.agent = snap.agent;
  view.call = snap.call ? { ...snap.call } : null;
  view.recent = snap.recent_calls || [];
  if (view.agent && view.agent.state === "wrap_up" && !view.call && view.recent.length) {
    view.wrapupCallId = view.recent[0].call_id;
  }
  render();
}

function onMessage(msg) {
  const p = msg.payload || {};
  switch (msg.type) {
    case "agent.state":
      view.agent = p;
      // Rung but never answered (e.g. ring timeout): the pop goes once the agent is no
      // longer reserved for it, even if no call.ended reaches this desktop.
      if (view.call && view.call.state === "offered" && p.state !== "reserved") view.call = null;
      break;
    case "call.offered":
      view.call = { ...p, state: "offered", on_hold: false };
      toast(`Incoming call / 着信: ${p.caller ? p.caller.number : ""}`);
      break;
    case "call.connected":
      if (view.call && view.call.call_id === p.call_id) Object.assign(view.call, { state: "connected", connected_at: p.connected_at });
      break;
    case "call.held":
      if (view.call && view.call.call_id === p.call_id) view.call.on_hold = !!p.on_hold;
      break;
    case "call.ended":
      if (view.call && view.call.call_id === p.call_id) {
        addRecent(view.call, p);
        view.call = null;
      }
      view.wrapupCallId = p.call_id;
      break;
    case "recent_calls":
      view.recent = p.calls || [];
      break;
    case "notice":
      if (p.text) toast(p.text);
      break;
    case "error":
      toast(msg.message || "Error");
      break;
    default:
      break;
  }
  render();
}

function addRecent(call, ended) {
  view.recent.unshift({
    call_id: call.call_id, at: call.offered_at, direction: "inbound",
    number: call.caller ? call.caller.number : "", name: call.caller ? call.caller.name : "",
    queue: call.queue, duration: call.state === "connected" ? ended.ended_at - (call.connected_at || call.offered_at) : 0,
    outcome: ended.outcome, disposition: null,
  });
  view.recent = view.recent.slice(0, 20);
}

// ---------------------------------------------------------------- rendering

function render() {
  renderState();
  renderCall();
  renderWrapup();
  renderRecent();
}

function renderState() {
  const a = view.agent;
  if (!a) return;
  for (const id of ["state-badge", "state-big"]) {
    const node = $(id);
    node.hidden = false;
    node.className = `badge ${a.state}`;
    node.textContent = label("states", a.state) + (a.reason ? ` · ${label("reasons", a.reason)}` : "");
  }
  const busy = ["reserved", "on_call"].includes(a.state);
  $("btn-ready").disabled = busy || a.state === "ready";
  $("btn-pause").disabled = busy;
  $("btn-logout").disabled = busy || a.state === "logged_out";
  $("btn-done").disabled = a.state !== "wrap_up";
  $("btn-extend").disabled = a.state !== "wrap_up";
}

function renderCall() {
  const c = view.call;
  $("no-call").hidden = !!c;
  $("pop").hidden = !c;
  if (!c) return;
  const caller = c.caller || {};
  $("pop").className = `pop ${c.state}`;
  const state = $("call-state");
  state.className = `badge ${c.state === "connected" ? "on_call" : "reserved"}`;
  state.textContent = c.on_hold ? "On hold / 保留中" : c.state === "connected" ? "Connected / 通話中" : "Ringing / 着信中";
  setText("call-id", c.call_id);
  setText("pop-name", caller.name || "(no name / 名前なし)");
  setText("pop-number", caller.number || "");
  setText("pop-queue", c.queue || "");
  setText("pop-wait", fmtDuration(c.wait_seconds));
  const path = clear($("pop-path"));
  const ivr = c.ivr || {};
  for (const step of ivr.path || []) path.append(el("span", { text: step }));
  if (!path.firstChild) path.append(el("span", { class: "empty", text: "–" }));
  const entered = clear($("pop-entered"));
  const entries = Object.entries(ivr.entered || {});
  entered.textContent = entries.length ? "" : "–";
  for (const [k, v] of entries) entered.append(el("div", { text: `${k}: ${v}` }));

  const cust = clear($("pop-customer"));
  if (c.customer) {
    for (const [k, title] of [["name", "Name / 名前"], ["id", "Customer ID / 顧客ID"], ["account", "Account / 口座"], ["tier", "Tier / ランク"], ["notes", "Notes / メモ"]]) {
      if (c.customer[k] !== undefined && c.customer[k] !== null && c.customer[k] !== "") {
        cust.append(el("dt", { text: title }), el("dd", { text: c.customer[k] }));
      }
    }
  } else {
    cust.append(el("dt", { text: "–" }), el("dd", { class: "empty", text: "Unknown caller / 該当顧客なし" }));
  }
  const contacts = clear($("pop-contacts"));
  for (const h of c.last_contacts || []) {
    contacts.append(el("tr", {}, [
      el("td", { text: fmtTime(h.at) }), el("td", { text: h.queue || "" }),
      el("td", { text: h.agent_id || "" }),
      el("td", { text: h.disposition ? label("dispositions", h.disposition) : (h.outcome || "") }),
      el("td", { text: h.notes || "" }),
    ]));
  }
  if (!contacts.firstChild) contacts.append(el("tr", {}, el("td", { class: "empty", colspan: "5", text: "No earlier contacts / 履歴なし" })));

  const connected = c.state === "connected";
  $("btn-hold").hidden = c.on_hold;
  $("btn-unhold").hidden = !c.on_hold;
  $("btn-hold").disabled = !connected;
  $("btn-unhold").disabled = !connected;
  for (const id of ["btn-blind", "btn-attended"]) $(id).disabled = !connected || !!c.consulting;
  $("btn-complete").hidden = !c.consulting;
  $("btn-cancel").hidden = !c.consulting;
}

function renderWrapup() {
  const id = view.wrapupCallId || (view.call && view.call.call_id);
  const node = $("wrapup-for");
  node.textContent = !id ? "No call to wrap up / 対象の通話なし"
    : `Call / 通話 ${id}${view.saved.has(id) ? " — saved / 保存済み" : ""}`;
  $("btn-save").disabled = !id;
}

function renderRecent() {
  const body = clear($("recent"));
  for (const r of view.recent) {
    body.append(el("tr", { dataset: { callId: r.call_id } }, [
      el("td", { text: fmtTime(r.at) }), el("td", { text: r.number || "" }),
      el("td", { text: r.name || "" }), el("td", { text: r.queue || "" }),
      el("td", { class: "num", text: fmtDuration(r.duration) }), el("td", { text: r.outcome || "" }),
      el("td", { text: r.disposition ? label("dispositions", r.disposition) : "–" }),
    ]));
  }
  if (!body.firstChild) body.append(el("tr", {}, el("td", { class: "empty", colspan: "7", text: "No calls yet / 通話履歴なし" })));
}

function tick() {
  if (view.agent && view.agent.since) setText("state-since", `for / 経過 ${fmtDuration(serverNow() - view.agent.since)}`);
}

// ---------------------------------------------------------------- actions

async function act(fn, okText) {
  try {
    const res = await fn();
    if (okText) toast(okText);
    return res;
  } catch (err) {
    if (err.status === 401) { signIn.signedOut(); return null; } // session expired or revoked
    toast(`Failed / 失敗: ${err.message}`);
    return null;
  }
}

const token = () => signIn.token;
const me = () => signIn.me.user_id;
const callId = () => view.call && view.call.call_id;

function setState(state, reason) {
  return act(() => api(`/api/agents/${encodeURIComponent(me())}/state`, { method: "POST", token: token(), body: { state, reason } }));
}

function callAction(action, body) {
  const id = callId();
  if (!id) return Promise.resolve(null);
  return act(() => api(`/api/calls/${encodeURIComponent(id)}/${action}`, { method: "POST", token: token(), body: body || {} }));
}

async function transfer(mode) {
  const target = $("transfer-target").value.trim();
  if (!target) { toast("Enter a target / 転送先を入力"); return; }
  const res = await callAction("transfer", { mode, target });
  if (res && mode === "attended" && view.call) { view.call.consulting = target; renderCall(); }
}

async function endConsult(action) {
  const res = await callAction(`transfer/${action}`);
  if (res && view.call) { view.call.consulting = null; renderCall(); }
}

async function saveDisposition() {
  const id = view.wrapupCallId || callId();
  if (!id) return;
  const code = $("disp-code").value;
  const notes = $("disp-notes").value;
  const res = await act(() => api(`/api/calls/${encodeURIComponent(id)}/disposition`, { method: "POST", token: token(), body: { code, notes } }), "Saved / 保存しました");
  if (res) {
    for (const r of view.recent) if (r.call_id === id) { r.disposition = code; r.notes = notes; }
    view.saved.add(id);
    $("disp-notes").value = "";
    renderWrapup();
    renderRecent();
  }
}

function wrapup(action) {
  return act(() => api(`/api/agents/${encodeURIComponent(me())}/wrapup`, { method: "POST", token: token(), body: { action, seconds: 30 } }));
}

async function dial(ev) {
  ev.preventDefault();
  const number = $("dial-number").value.trim();
  if (!number) return;
  const res = await act(() => api(`/api/agents/${encodeURIComponent(me())}/dial`, { method: "POST", token: token(), body: { number } }), `Dialling / 発信中 ${number}`);
  if (res) $("dial-number").value = "";
}

function wire() {
  $("btn-ready").addEventListener("click", () => setState("ready"));
  $("btn-pause").addEventListener("click", () => setState("pause", $("pause-reason").value));
  $("btn-logout").addEventListener("click", () => setState("logout"));
  $("btn-hold").addEventListener("click", () => callAction("hold"));
  $("btn-unhold").addEventListener("click", () => callAction("unhold"));
  $("btn-hangup").addEventListener("click", () => callAction("hangup"));
  $("btn-blind").addEventListener("click", () => transfer("blind"));
  $("btn-attended").addEventListener("click", () => transfer("attended"));
  $("btn-complete").addEventListener("click", () => endConsult("complete"));
  $("btn-cancel").addEventListener("click", () => endConsult("cancel"));
  $("btn-save").addEventListener("click", saveDisposition);
  $("btn-extend").addEventListener("click", () => wrapup("extend"));
  $("btn-done").addEventListener("click", () => wrapup("done"));
  $("dial-form").addEventListener("submit", dial);
  setInterval(tick, 1000);
  signIn.wire();
}

wire();
