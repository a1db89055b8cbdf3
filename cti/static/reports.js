// KPI report for supervisors: a period form, charts drawn as inline SVG and tables per
// queue and per agent. Every value from the server goes in as text (el / textContent).
import { api, clear, el, fmtDuration, setText, SignIn } from "/static/common.js";

const SVG = "http://www.w3.org/2000/svg";
const TOTAL = "*";
const COLORS = { offered: "#1f4e79", answered: "#1a7f37", abandoned: "#b42318", sl: "#6941c6" };
const SERIES = [
  ["offered", "Offered / 着信"],
  ["answered", "Answered / 応答"],
  ["abandoned", "Abandoned / 放棄"],
];
const $ = (id) => document.getElementById(id);
const view = { report: null };

// ------------------------------------------------------------------ formatting

const dash = "–";
const num = (v) => (v === null || v === undefined ? dash : String(v));
const pct = (v) => (v === null || v === undefined ? dash : `${(v * 100).toFixed(1)} %`);
const secs = (v) => (v === null || v === undefined ? dash : fmtDuration(v));

function timeLabel(iso, interval, tz) {
  const opts = interval === "day"
    ? { month: "2-digit", day: "2-digit" }
    : { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  return new Intl.DateTimeFormat("ja-JP", { ...opts, timeZone: tz }).format(new Date(iso));
}

function fullTime(iso, tz) {
  return new Intl.DateTimeFormat("ja-JP", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23", timeZone: tz,
  }).format(new Date(iso));
}

// "2026-11-21T05:21:51.123+09:00" -> "2026-11-21T05:21": the report zone's wall clock,
// which is what the server assumes for times without an offset.
const localInput = (iso) => String(iso).slice(0, 16);

// ------------------------------------------------------------------ sign in / out

// The supervisor's session, shared with the wallboard.
const signIn = new SignIn({
  key: "madoguchi.supervisor.session",
  role: "supervisor",
  credentials: () => ({ supervisor: $("login-user").value.trim(), password: $("login-password").value }),
  onStart: async () => {
    $("report").hidden = false;
    $("to-wallboard").hidden = false;
    await load(null);
  },
  onEnd: () => {
    $("report").hidden = true;
    $("to-wallboard").hidden = true;
  },
});

// ------------------------------------------------------------------ loading

async function load(params) {
  setText("report-error", "");
  const query = new URLSearchParams(params || { interval: $("interval").value });
  $("show").disabled = true;
  try {
    const report = await api(`/api/reports?${query}`, { token: signIn.token });
    view.report = report;
    render();
  } catch (err) {
    if (err.status === 401) { signIn.signedOut(); return; }
    setText("report-error", `Report failed / レポート取得失敗: ${err.message}`);
  } finally {
    $("show").disabled = false;
  }
}

function submitPeriod(ev) {
  ev.preventDefault();
  load({ from: $("from").value, to: $("to").value, interval: $("interval").value });
}

// ------------------------------------------------------------------ rendering

function render() {
  const r = view.report;
  const tz = r.timezone || "UTC";
  $("from").value = localInput(r.start);
  $("to").value = localInput(r.end);
  $("interval").value = r.interval;
  for (const node of document.querySelectorAll(".tz")) node.textContent = `(${tz})`;
  const slThresholds = r.service_level_thresholds_s || {};
  setText("summary",
    `${fullTime(r.start, tz)} – ${fullTime(r.end, tz)} (${tz}) · ` +
    `SL threshold / サービスレベル基準: ${num(slThresholds.default)} s unless set per queue / キュー別設定あり · ` +
    `abandons under ${num(r.short_abandon_s)} s excluded / ${num(r.short_abandon_s)}秒未満の放棄は除外`);
  fillChartKeys(r);
  renderCharts();
  renderQueues(r);
  renderAgents(r);
}

function queueName(r, key) {
  const labels = (r.labels && r.labels.queue) || {};
  return labels[key] && labels[key] !== key ? `${labels[key]} (${key})` : key;
}

function fillChartKeys(r) {
  const select = $("chart-key");
  const previous = select.value || TOTAL;
  clear(select);
  select.append(el("option", { value: TOTAL, text: "All calls / 全体" }));
  for (const row of r.totals.filter((t) => t.dimension === "queue")) {
    select.append(el("option", { value: row.key, text: queueName(r, row.key) }));
  }
  select.value = [...select.options].some((o) => o.value === previous) ? previous : TOTAL;
}

function renderQueues(r) {
  const body = clear($("queue-rows"));
  const rows = r.totals.filter((t) => t.dimension === "queue");
  const total = r.totals.find((t) => t.dimension === "total");
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "empty", text: "No queues / キューなし" })));
  for (const row of rows) body.append(queueRow(queueName(r, row.key), row, { queue: row.key }));
  if (total) body.append(queueRow("All calls / 全体", total, { queue: TOTAL }));
}

function queueRow(name, row, dataset) {
  return el("tr", { dataset }, [
    el("td", { text: name }),
    el("td", { class: "num", text: num(row.offered) }),
    el("td", { class: "num", text: num(row.answered) }),
    el("td", { class: "num", text: num(row.abandoned) }),
    el("td", { class: "num", text: pct(row.service_level) }),
    el("td", { class: "num", text: secs(row.asa_s) }),
    el("td", { class: "num", text: secs(row.aht_s) }),
    el("td", { class: "num", text: pct(row.occupancy) }),
  ]);
}

function renderAgents(r) {
  const body = clear($("agent-rows"));
  const names = (r.labels && r.labels.agent) || {};
  const rows = r.totals.filter((t) => t.dimension === "agent");
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 9, class: "empty", text: "No agents / エージェントなし" })));
  for (const row of rows) {
    body.append(el("tr", { dataset: { agent: row.key } }, [
      el("td", { text: row.key }),
      el("td", { text: names[row.key] || "" }),
      el("td", { class: "num", text: num(row.answered) }),
      el("td", { class: "num", text: num(row.handled) }),
      el("td", { class: "num", text: secs(row.aht_s) }),
      el("td", { class: "num", text: secs(row.talk_s) }),
      el("td", { class: "num", text: secs(row.wrap_s) }),
      el("td", { class: "num", text: pct(row.transfer_rate) }),
      el("td", { class: "num", text: pct(row.occupancy) }),
    ]));
  }
}

// ------------------------------------------------------------------ charts (inline SVG)

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const W = 960, H = 240, LEFT = 44, RIGHT = 12, TOP = 12, BOTTOM = 28;

function chartRows() {
  const r = view.report;
  const key = $("chart-key").value || TOTAL;
  const dim = key === TOTAL ? "total" : "queue";
  return r.rows.filter((row) => row.dimension === dim && row.key === key);
}

// Show at most ~16 time labels, whatever the number of intervals.
const labelEvery = (n) => Math.max(1, Math.ceil(n / 16));

function frame(title) {
  return svg("svg", {
    viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": title,
    "font-size": 11, "font-family": "system-ui, sans-serif",
  });
}

function yAxis(root, max, fmt) {
  const plotH = H - TOP - BOTTOM;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = TOP + plotH - (plotH * i) / 4;
    root.append(svg("line", { x1: LEFT, x2: W - RIGHT, y1: y, y2: y, stroke: "#dde2ea" }));
    root.append(svg("text", { x: LEFT - 6, y: y + 4, "text-anchor": "end", fill: "#667085" }, fmt(v)));
  }
}

function xLabels(root, rows, band) {
  const r = view.report;
  const every = labelEvery(rows.length);
  rows.forEach((row, i) => {
    if (i % every) return;
    const x = LEFT + band * i + band / 2;
    root.append(svg("text", { x, y: H - 10, "text-anchor": "middle", fill: "#667085" },
      timeLabel(row.start, r.interval, r.timezone || "UTC")));
  });
}

function renderCharts() {
  const rows = chartRows();
  const tz = view.report.timezone || "UTC";
  renderVolume(rows, tz);
  renderServiceLevel(rows, tz);
}

function renderVolume(rows, tz) {
  const legend = clear($("volume-legend"));
  for (const [key, name] of SERIES) {
    const swatch = svg("svg", { width: 12, height: 12, "aria-hidden": "true" });
    swatch.append(svg("rect", { width: 12, height: 12, rx: 2, fill: COLORS[key] }));
    legend.append(el("span", { class: "legend" }, [swatch, ` ${name}`]));
  }
  const root = frame("Offered, answered and abandoned calls per interval / 時間帯別の着信・応答・放棄");
  root.id = "volume-svg";
  const max = Math.max(4, ...rows.flatMap((row) => SERIES.map(([k]) => row[k] || 0)));
  const top = Math.ceil(max / 4) * 4; // whole-number ticks
  yAxis(root, top, (v) => String(Math.round(v)));
  const plotH = H - TOP - BOTTOM;
  const band = (W - LEFT - RIGHT) / Math.max(1, rows.length);
  const barW = Math.max(1, (band * 0.8) / SERIES.length);
  rows.forEach((row, i) => {
    SERIES.forEach(([key, name], s) => {
      const value = row[key] || 0;
      const h = (plotH * value) / top;
      const bar = svg("rect", {
        x: LEFT + band * i + band * 0.1 + barW * s, y: TOP + plotH - h, width: barW, height: h,
        fill: COLORS[key], class: `bar ${key}`,
      });
      bar.append(svg("title", {}, `${fullTime(row.start, tz)} ${name}: ${value}`));
      root.append(bar);
    });
  });
  xLabels(root, rows, band);
  clear($("volume-chart")).append(root);
}

function renderServiceLevel(rows, tz) {
  const root = frame("Service level per interval / 時間帯別サービスレベル");
  root.id = "sl-svg";
  yAxis(root, 1, (v) => `${Math.round(v * 100)}%`);
  const plotH = H - TOP - BOTTOM;
  const band = (W - LEFT - RIGHT) / Math.max(1, rows.length);
  const points = [];
  rows.forEach((row, i) => {
    if (row.service_level === null || row.service_level === undefined) return;
    points.push([LEFT + band * i + band / 2, TOP + plotH - plotH * row.service_level, row]);
  });
  // The line breaks where an interval had no calls (no service level to show).
  let segment = [];
  const flush = () => {
    if (segment.length > 1) {
      root.append(svg("polyline", {
        points: segment.map(([x, y]) => `${x},${y}`).join(" "),
        fill: "none", stroke: COLORS.sl, "stroke-width": 2, class: "sl-line",
      }));
    }
    segment = [];
  };
  let previous = -2;
  for (const point of points) {
    const index = rows.indexOf(point[2]);
    if (index !== previous + 1) flush();
    segment.push(point);
    previous = index;
  }
  flush();
  for (const [x, y, row] of points) {
    const dot = svg("circle", { cx: x, cy: y, r: 3.5, fill: COLORS.sl, class: "sl-point" });
    dot.append(svg("title", {}, `${fullTime(row.start, tz)} SL: ${pct(row.service_level)}`));
    root.append(dot);
  }
  setText("sl-note", points.length
    ? "Answered within the threshold / 基準時間内の応答率 (intervals without calls are left blank / 呼のない時間帯は空白)"
    : "No calls in this period / この期間の呼はありません");
  xLabels(root, rows, band);
  clear($("sl-chart")).append(root);
}

// ------------------------------------------------------------------ start

function wire() {
  $("period").addEventListener("submit", submitPeriod);
  $("to-wallboard").addEventListener("click", () => { location.href = "/wallboard"; });
  $("chart-key").addEventListener("change", () => view.report && renderCharts());
  signIn.wire();
}

wire();
