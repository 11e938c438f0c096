/**
 * The HTML the server renders: a shell per page that the bundled UI (`/assets/app.js`, built from
 * `src/ui`) fills in, and script-free error pages. Untrusted text only ever goes through
 * {@link escapeHtml}.
 */
import type { PageData } from "./wire.js";

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

/** The bundle's entry and stylesheet, under the `/assets/` prefix. */
export const UI_SCRIPT = "app.js";
export const UI_STYLE = "style.css";

function htmlDocument(title: string, main: string, script: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${UI_STYLE}">
${script ? `<script type="module" src="/assets/${UI_SCRIPT}"></script>\n` : ""}</head>
<body>
${main}
</body>
</html>
`;
}

/**
 * A page of the UI: the shell names the page (and its agent) in `data-*` attributes of
 * `#app`, which the UI parses with the wire's `PageData` schema before rendering.
 */
export function uiPage(title: string, data: PageData): string {
  const agent =
    data.page !== "dashboard" && data.agent !== undefined
      ? ` data-agent="${escapeHtml(data.agent)}"`
      : "";
  return htmlDocument(
    title,
    `<div id="app" data-page="${data.page}"${agent}><p class="muted boot">loading…</p></div>`,
    true,
  );
}

/** `/`: the operator dashboard. */
export function dashboardPage(): string {
  return uiPage("hyperhive · dashboard", { page: "dashboard" });
}

/** `/agents/:name`: one agent's state and live turns. */
export function agentPage(name: string): string {
  return uiPage(`hyperhive · ${name}`, { page: "agent", agent: name });
}

/** `/flow`: the message flow, of the whole hive or of one recipient's mail. */
export function flowPage(agent?: string): string {
  return uiPage(
    agent === undefined ? "hyperhive · message flow" : `hyperhive · ${agent}'s mail`,
    agent === undefined ? { page: "flow" } : { page: "flow", agent },
  );
}

/** What a request without the operator token gets: no data, no scripts, no stylesheet. */
export function unauthorizedPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unauthorized</title></head>
<body><h1>unauthorized</h1><p>Open the dashboard with the operator token: <code>/?token=…</code></p></body>
</html>
`;
}

/** An HTML error page (400 on a bad agent name, 404, 503, ...): no scripts. */
export function errorPage(status: number, message: string): string {
  return htmlDocument(
    `hyperhive · ${status}`,
    `<header class="top"><a class="brand" href="/">hyperhive</a></header>
<main><section class="panel"><h2>${status}</h2><p class="error">${escapeHtml(message)}</p></section></main>`,
    false,
  );
}
