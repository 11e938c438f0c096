// Shared helpers for the dashboard pages (an ES module). Untrusted text only ever goes through textContent.
/** Creates an element with an optional class and text (set as textContent, never as HTML). */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/** "4s", "3m", "2h", "5d" since a unix-ms instant. */
export function age(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export function clock(ms) {
  return new Date(ms).toLocaleString();
}

export const STATES = ["idle", "thinking", "compacting", "needs-login", "offline"];

/** Fills a badge element for an agent state, with a tooltip saying since when and why. */
export function setBadge(badge, state, since, note) {
  const known = STATES.includes(state) ? state : "unknown";
  badge.className = `badge state-${known}`;
  badge.textContent = state;
  let tip = `${state} since ${clock(since)}`;
  if (note) tip += ` — ${note}`;
  badge.title = tip;
  badge.dataset.state = state;
}

/** Shows the live-stream status in the header. */
export function setConn(ok, text) {
  const c = document.getElementById("conn");
  if (!c) return;
  c.textContent = text;
  c.className = ok ? "conn ok" : "conn bad";
}

/** Fetches JSON from the API; a typed error body becomes an Error with `.code`. */
export async function api(path, init) {
  const res = await fetch(path, { credentials: "same-origin", ...init });
  let data = null;
  try {
    data = await res.json();
  } catch {
    // leave null: reported below
  }
  if (!res.ok) {
    const err = new Error(
      data?.error ? data.error.message : `HTTP ${res.status} ${res.statusText}`,
    );
    err.code = data?.error ? data.error.code : `http_${res.status}`;
    err.status = res.status;
    throw err;
  }
  return data;
}

/** Re-renders every `[data-since]` element's age once a second. */
export function tickAges() {
  for (const e of document.querySelectorAll("[data-since]")) {
    e.textContent = age(Number(e.dataset.since));
  }
}
setInterval(tickAges, 1000);
