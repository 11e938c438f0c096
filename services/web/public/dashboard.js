// The dashboard: agents table, operator inbox and send form, kept live from /api/events.
import { age, api, clock, el, setBadge, setConn } from "/assets/common.js";

/** name -> AgentInfo */
const agents = new Map();
let inbox = [];

const agentsBody = document.querySelector("#agents tbody");
const agentsError = document.getElementById("agents-error");
const inboxList = document.getElementById("inbox");
const inboxError = document.getElementById("inbox-error");
const sendTo = document.getElementById("send-to");

function showError(p, err) {
  if (err) {
    p.textContent = `${err.code}: ${err.message}`;
    p.hidden = false;
  } else {
    p.hidden = true;
    p.textContent = "";
  }
}

function renderAgents() {
  agentsBody.replaceChildren();
  const names = [...agents.keys()].sort((a, b) => {
    const ra = agents.get(a).role === "manager" ? 0 : 1;
    const rb = agents.get(b).role === "manager" ? 0 : 1;
    return ra - rb || a.localeCompare(b);
  });
  if (names.length === 0) {
    const tr = el("tr", "empty");
    const td = el("td", null, "no agents");
    td.colSpan = 5;
    tr.append(td);
    agentsBody.append(tr);
  }
  for (const name of names) {
    const a = agents.get(name);
    const tr = el("tr");
    tr.dataset.agent = name;
    const link = el("a", "agent-link", name);
    link.href = `/agents/${encodeURIComponent(name)}`;
    const nameTd = el("td");
    nameTd.append(link);
    const badge = el("span");
    setBadge(badge, a.state, a.state_since, a.note);
    const stateTd = el("td");
    stateTd.append(badge);
    const since = el("td", "muted age", age(a.state_since));
    since.dataset.since = String(a.state_since);
    since.title = clock(a.state_since);
    const proc = el("td", a.running ? "running" : "muted", a.running ? "running" : "stopped");
    tr.append(nameTd, el("td", "muted", a.role), stateTd, since, proc);
    agentsBody.append(tr);
  }
  renderSelect(names);
}

function renderSelect(names) {
  const current = sendTo.value;
  sendTo.replaceChildren();
  for (const name of names) {
    const o = el("option", null, name);
    o.value = name;
    sendTo.append(o);
  }
  if (names.includes(current)) sendTo.value = current;
}

function renderInbox() {
  inboxList.replaceChildren();
  if (inbox.length === 0) inboxList.append(el("li", "empty muted", "no messages"));
  for (const m of inbox) {
    const li = el("li", "msg");
    li.dataset.id = String(m.id);
    const head = el("div", "msg-head");
    head.append(el("span", "from", m.from));
    const when = el("span", "muted", clock(m.sent_at));
    head.append(when);
    if (m.in_reply_to) head.append(el("span", "muted", `re #${m.in_reply_to}`));
    li.append(head, el("div", "body", m.body));
    inboxList.append(li);
  }
}

async function reloadInbox() {
  try {
    const r = await api("/api/inbox");
    inbox = r.messages;
    showError(inboxError, null);
    renderInbox();
  } catch (e) {
    showError(inboxError, e);
  }
}

async function reloadAgents() {
  try {
    const r = await api("/api/agents");
    agents.clear();
    for (const a of r.agents) agents.set(a.name, a);
    showError(agentsError, null);
    renderAgents();
  } catch (e) {
    showError(agentsError, e);
  }
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => setConn(true, "live"));
  es.addEventListener("error", () => setConn(false, "reconnecting…"));
  es.addEventListener("snapshot", (ev) => {
    const s = JSON.parse(ev.data);
    if (s.agents) {
      agents.clear();
      for (const a of s.agents) agents.set(a.name, a);
      renderAgents();
    }
    showError(agentsError, s.errors.agents);
    if (s.inbox) {
      inbox = s.inbox;
      renderInbox();
    }
    showError(inboxError, s.errors.inbox);
  });
  es.addEventListener("state", (ev) => {
    const e = JSON.parse(ev.data);
    const a = agents.get(e.agent);
    if (!a) {
      void reloadAgents();
      return;
    }
    a.state = e.state;
    a.state_since = e.since;
    a.note = e.note;
    renderAgents();
  });
  es.addEventListener("lifecycle", (ev) => {
    const e = JSON.parse(ev.data);
    const a = agents.get(e.agent);
    if (!a) {
      void reloadAgents();
      return;
    }
    if (e.event === "started") a.running = true;
    if (e.event === "stopped" || e.event === "exited") a.running = false;
    renderAgents();
  });
  // An announcement carries only a preview: fetch the inbox for the whole message.
  es.addEventListener("inbox", () => void reloadInbox());
}

function newClientId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return `web-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

document.getElementById("send-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = document.getElementById("send-body");
  const button = document.getElementById("send-button");
  const status = document.getElementById("send-status");
  const error = document.getElementById("send-error");
  showError(error, null);
  status.textContent = "sending…";
  button.disabled = true;
  try {
    const r = await api("/api/send", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ to: sendTo.value, body: body.value, client_id: newClientId() }),
    });
    status.textContent = `sent #${r.id} to ${sendTo.value}`;
    body.value = "";
  } catch (e) {
    status.textContent = "";
    error.dataset.code = e.code;
    showError(error, e);
  } finally {
    button.disabled = false;
  }
});

connect();
