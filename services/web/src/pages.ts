/** Server-rendered HTML. Untrusted text only ever goes through {@link escapeHtml}. */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for an HTML text node or a double- or single-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function layout(title: string, body: string, scripts: string[] = []): string {
  const tags = scripts.map((s) => `<script type="module" src="/assets/${s}"></script>`).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/style.css">
${tags}
</head>
<body>
<header class="top">
  <a class="brand" href="/">hyperhive</a>
  <span id="conn" class="conn" title="live event stream">connecting…</span>
</header>
<main>
${body}
</main>
</body>
</html>
`;
}

/** `/`: the operator dashboard; `dashboard.js` fills it from `/api/events`. */
export function dashboardPage(): string {
  return layout(
    "hyperhive · dashboard",
    `<section class="panel" id="agents-panel">
  <h2>Agents</h2>
  <table id="agents" class="agents">
    <thead><tr><th>agent</th><th>role</th><th>state</th><th>since</th><th>process</th></tr></thead>
    <tbody><tr class="empty"><td colspan="5">loading…</td></tr></tbody>
  </table>
  <p id="agents-error" class="error" hidden></p>
</section>
<div class="columns">
<section class="panel" id="send-panel">
  <h2>Send a message</h2>
  <form id="send-form" autocomplete="off">
    <label>to <select id="send-to" name="to" required></select></label>
    <textarea id="send-body" name="body" rows="5" required placeholder="message body…"></textarea>
    <div class="form-row">
      <button type="submit" id="send-button">send</button>
      <span id="send-status" class="muted" role="status"></span>
    </div>
    <p id="send-error" class="error" role="alert" hidden></p>
  </form>
</section>
<section class="panel" id="inbox-panel">
  <h2>Operator inbox</h2>
  <ol id="inbox" class="inbox"><li class="empty">loading…</li></ol>
  <p id="inbox-error" class="error" hidden></p>
</section>
</div>`,
    ["dashboard.js"],
  );
}

/** `/agents/:name`: the agent's live turn stream; `agent.js` streams it from SSE. */
export function agentPage(name: string): string {
  const n = escapeHtml(name);
  return layout(
    `hyperhive · ${name}`,
    `<section class="panel agent-head" id="agent" data-agent="${n}">
  <h2><a href="/">agents</a> / <span class="agent-name">${n}</span>
    <span id="agent-state" class="badge state-unknown">…</span>
    <span id="agent-since" class="muted"></span></h2>
</section>
<section class="panel">
  <h2>Live turns</h2>
  <div id="turns" class="turns"><p class="empty muted" id="turns-empty">waiting for a turn…</p></div>
</section>`,
    ["agent.js"],
  );
}

/** What a request without the operator token gets: no data, no scripts. */
export function unauthorizedPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unauthorized</title></head>
<body><h1>unauthorized</h1><p>Open the dashboard with the operator token: <code>/?token=…</code></p></body>
</html>
`;
}

/** An HTML error page (400 on a bad agent name, 404, ...). */
export function errorPage(status: number, message: string): string {
  return layout(
    `hyperhive · ${status}`,
    `<section class="panel"><h2>${status}</h2><p class="error">${escapeHtml(message)}</p></section>`,
  );
}
