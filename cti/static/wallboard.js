// Supervisor wallboard: queues and agents, pushed over the websocket; set an agent's state.
import {
  api, clear, el, fmtDuration, label, LABELS, serverNow, setText, SignIn, toast,
} from "/static/common.js";

const $ = (id) => document.getElementById(id);

const view = { queues: new Map(), agents: new Map() };
const queueNodes = new Map(); // queue -> {card, waiting, longest, sl, answered, abandoned}
const agentRows = new Map(); // agent_id -> {row, name, state, since}

// The supervisor's session, shared with the reports page.
const signIn = new SignIn({
  key: "madoguchi.supervisor.session",
  role: "supervisor",
  credentials: () => ({ supervisor: $("login-user").value.trim(), password: $("login-password").value }),
  onStart: () => { $("board").hidden = false; },
  onEnd: () => { $("board").hidden = true; },
  live: { onSnapshot, onMessage },
});


function onSnapshot(snap) {
  view.queues = new Map((snap.queues || []).map((q) => [q.queue, q]));
  view.agents = new Map((snap.agents || []).map((a) => [a.agent_id, a]));
  clear($("queues"));
  queueNodes.clear();
  clear($("agents"));
  agentRows.clear();
  render();
}

function onMessage(msg) {
  const p = msg.payload || {};
  if (msg.type === "queue.stats") view.queues.set(p.queue, { ...(view.queues.get(p.queue) || {}), ...p });
  else if (msg.type === "agent.state") view.agents.set(p.agent_id, { ...(view.agents.get(p.agent_id) || {}), ...p });
  else if (msg.type === "wallboard") { onSnapshot(p); return; }
  else if (msg.type === "notice" && p.text) toast(p.text);
  render();
}

// ---------------------------------------------------------------- rendering

function kpi(title, cls) {
  const value = el("div", { class: "value", text: "–" });
  const box = el("div", { class: `kpi ${cls || ""}` }, [value, el("div", { class: "label", text: title })]);
  return { box, value };
}

function queueCard(name) {
  let nodes = queueNodes.get(name);
  if (nodes) return nodes;
  const waiting = kpi("Waiting / 待ち呼");
  const longest = kpi("Longest wait / 最長待ち");
  const sl = kpi("Service level / 応答率");
  const ewt = kpi("Est. wait now / 予想待ち時間");
  const sub = el("div", { class: "notice gap-top" });
  const card = el("article", { class: "card queue", dataset: { queue: name } }, [
    el("h2", {}, [el("span", { text: name }), el("span", { class: "notice", text: "queue / キュー" })]),
    el("div", { class: "kpis" }, [waiting.box, longest.box, sl.box, ewt.box]),
    sub,
  ]);
  nodes = { card, waiting, longest, sl, ewt, sub };
  queueNodes.set(name, nodes);
  $("queues").append(card);
  return nodes;
}

function render() {
  for (const [name, q] of [...view.queues].sort(([a], [b]) => a.localeCompare(b))) {
    const n = queueCard(name);
    n.waiting.value.textContent = String(q.waiting ?? 0);
    n.waiting.box.className = `kpi ${q.waiting > 0 ? "alert" : ""}`;
    n.sl.value.textContent = q.service_level === null || q.service_level === undefined ? "–" : `${Math.round(q.service_level)}%`;
    n.sl.box.className = `kpi ${q.service_level >= 80 ? "good" : q.service_level !== null && q.service_level !== undefined ? "alert" : ""}`;
    // The words a caller arriving now hears (the ACD's forecast, acd/core/wait_estimates.py).
    n.ewt.value.textContent = q.estimated_wait ? q.estimated_wait.text : "–";
    const parts = [];
    if (q.service_level_threshold) parts.push(`SL ≤ ${q.service_level_threshold}s`);
    if (q.answered_today !== undefined) parts.push(`answered / 応答 ${q.answered_today}`);
    if (q.abandoned_today !== undefined) parts.push(`abandoned / 放棄 ${q.abandoned_today}`);
    n.sub.textContent = parts.join(" · ");
  }
  const counts = {};
  for (const a of [...view.agents.values()].sort((x, y) => x.agent_id.localeCompare(y.agent_id))) {
    counts[a.state] = (counts[a.state] || 0) + 1;
    const r = agentRow(a.agent_id);
    r.name.textContent = a.name || "";
    r.state.className = `badge ${a.state}`;
    r.state.textContent = label("states", a.state) + (a.reason ? ` · ${label("reasons", a.reason)}` : "");
  }
  const box = clear($("counts"));
  for (const state of Object.keys(LABELS.states)) {
    if (counts[state]) box.append(el("span", { class: `badge ${state}`, text: `${label("states", state)}: ${counts[state]}` }));
  }
  tick();
}

function agentRow(id) {
  let r = agentRows.get(id);
  if (r) return r;
  const select = el("select", { "aria-label": `New state for ${id}` }, [
    el("option", { value: "ready", text: label("states", "ready") }),
    ...((signIn.me && signIn.me.pause_reasons) || []).map((reason) => el("option", { value: `pause:${reason}`, text: `${label("states", "not_ready")} · ${label("reasons", reason)}` })),
    el("option", { value: "logout", text: label("states", "logged_out") }),
  ]);
  const button = el("button", { text: "Set / 変更", on: { click: () => setAgentState(id, select.value) } });
  r = {
    name: el("td"), state: el("span", { class: "badge" }), since: el("td", { class: "num" }),
  };
  r.row = el("tr", { dataset: { agent: id } }, [
    el("td", { text: id }), r.name, el("td", {}, r.state), r.since,
    el("td", {}, el("div", { class: "row" }, [select, button])),
  ]);
  agentRows.set(id, r);
  $("agents").append(r.row);
  return r;
}

function tick() {
  const now = serverNow();
  setText("clock", new Date(now * 1000).toLocaleTimeString("ja-JP"));
  for (const [name, q] of view.queues) {
    const n = queueNodes.get(name);
    if (n) n.longest.value.textContent = q.longest_wait_since ? fmtDuration(now - q.longest_wait_since) : "–";
  }
  for (const [id, a] of view.agents) {
    const r = agentRows.get(id);
    if (r) r.since.textContent = a.since ? fmtDuration(now - a.since) : "–";
  }
}

async function setAgentState(agentId, choice) {
  const [state, reason] = choice.split(":");
  try {
    await api(`/api/agents/${encodeURIComponent(agentId)}/state`, {
      method: "POST", token: signIn.token, body: { state, reason },
    });
    toast(`${agentId}: ${label("states", state === "pause" ? "not_ready" : state === "logout" ? "logged_out" : state)}`);
  } catch (err) {
    if (err.status === 401) { signIn.signedOut(); return; } // session expired or revoked
    toast(`Failed / 失敗: ${err.message}`);
  }
}

function wire() {
  setInterval(tick, 1000);
  signIn.wire();
}

wire();
