// The per-agent page: the live turn stream from /api/agents/<name>/live, rendered as it comes.
import { age, clock, el, setBadge, setConn } from "/assets/common.js";

const name = document.getElementById("agent").dataset.agent;
const turnsBox = document.getElementById("turns");
const badge = document.getElementById("agent-state");
const sinceEl = document.getElementById("agent-since");
/** turn_id -> {card, body} */
const turns = new Map();

function showState(state, since, note) {
  setBadge(badge, state, since, note);
  sinceEl.dataset.since = String(since);
  sinceEl.textContent = age(since);
}

function turnCard(ev) {
  let t = turns.get(ev.turn_id);
  if (t) return t;
  document.getElementById("turns-empty")?.remove();
  const card = el("article", "turn");
  card.dataset.turn = ev.turn_id;
  const head = el("header", "turn-head");
  head.append(el("span", "turn-id muted", ev.turn_id), el("span", "muted", clock(ev.at)));
  const body = el("div", "turn-body");
  card.append(head, body);
  turnsBox.prepend(card);
  t = { card, head, body };
  turns.set(ev.turn_id, t);
  return t;
}

function block(cls, label, text) {
  const d = el("div", `ev ${cls}`);
  if (label) d.append(el("div", "ev-label", label));
  if (text !== undefined) d.append(el("div", "ev-text", text));
  return d;
}

function pretty(v) {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

function toolResultText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((c) => (c && c.type === "text" ? c.text : pretty(c))).join("\n");
  }
  return pretty(content);
}

function renderStream(t, e) {
  const content = e.message && Array.isArray(e.message.content) ? e.message.content : [];
  switch (e.type) {
    case "system":
      if (e.subtype === "init") {
        t.body.append(block("sys", `session ${e.model ? `· ${e.model}` : ""}`));
      }
      return;
    case "assistant":
      for (const c of content) {
        if (c.type === "text") t.body.append(block("assistant", null, c.text));
        else if (c.type === "thinking") t.body.append(block("thinking", "thinking", c.thinking));
        else if (c.type === "tool_use") {
          const d = block("tool-call", `tool · ${c.name}`);
          d.append(el("pre", "ev-code", pretty(c.input)));
          t.body.append(d);
        }
      }
      if (e.error) t.body.append(block("note error", `error: ${e.error}`));
      return;
    case "user":
      for (const c of content) {
        if (c.type !== "tool_result") continue;
        const d = block(c.is_error ? "tool-result error" : "tool-result", "result");
        d.append(el("pre", "ev-code", toolResultText(c.content)));
        t.body.append(d);
      }
      return;
    case "result": {
      const u = e.usage || {};
      const parts = [];
      if (typeof e.duration_ms === "number") parts.push(`${(e.duration_ms / 1000).toFixed(1)} s`);
      if (typeof e.total_cost_usd === "number") parts.push(`$${e.total_cost_usd.toFixed(4)}`);
      if (typeof u.input_tokens === "number") parts.push(`in ${u.input_tokens}`);
      if (typeof u.output_tokens === "number") parts.push(`out ${u.output_tokens}`);
      if (typeof u.cache_read_input_tokens === "number") {
        parts.push(`cache read ${u.cache_read_input_tokens}`);
      }
      if (typeof e.num_turns === "number") parts.push(`${e.num_turns} api turns`);
      const d = block(e.is_error ? "final error" : "final", `final result · ${parts.join(" · ")}`);
      if (typeof e.result === "string" && e.result) d.append(el("div", "ev-text", e.result));
      t.body.append(d);
      return;
    }
    default:
      return;
  }
}

function render(ev) {
  const t = turnCard(ev);
  switch (ev.kind) {
    case "turn_start": {
      const m = ev.message;
      const d = block("start", null);
      const label = el("div", "ev-label");
      label.append(el("span", null, `turn start · from `), el("strong", "from", m.from));
      label.append(el("span", "muted", ` · #${m.id} · ${ev.model} · ${ev.pending} pending`));
      if (m.redelivered) label.append(el("span", "badge redelivered", "redelivered"));
      d.append(label, el("div", "ev-text", m.body));
      t.body.append(d);
      t.card.classList.add("active");
      return;
    }
    case "stream":
      renderStream(t, ev.event);
      return;
    case "note":
      t.body.append(block("note", "note", ev.text));
      return;
    case "turn_end": {
      const d = block(ev.ok ? "end" : "end error", `turn end · ${ev.result}`);
      if (ev.note) d.append(el("div", "ev-text", ev.note));
      t.body.append(d);
      t.card.classList.remove("active");
      return;
    }
    default:
      return;
  }
}

function connect() {
  const es = new EventSource(`/api/agents/${encodeURIComponent(name)}/live`);
  es.addEventListener("ready", () => setConn(true, "live"));
  es.addEventListener("error", () => setConn(false, "reconnecting…"));
  es.addEventListener("live", (m) => render(JSON.parse(m.data)));
}

function watchState() {
  const es = new EventSource("/api/events");
  es.addEventListener("snapshot", (m) => {
    const s = JSON.parse(m.data);
    const a = s.agents ? s.agents.find((x) => x.name === name) : null;
    if (a) showState(a.state, a.state_since);
    else if (s.agents) badge.textContent = "unknown agent";
  });
  es.addEventListener("state", (m) => {
    const e = JSON.parse(m.data);
    if (e.agent === name) showState(e.state, e.since, e.note);
  });
}

connect();
watchState();
