import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { CROSS_ORIGIN_BODY, CROSS_ORIGIN_MESSAGE, UNAUTHORIZED_BODY } from "./errors.js";
import { errorPage, unauthorizedPage } from "./html.js";
import type { TokenSource } from "./token.js";

/** Name of the HttpOnly cookie that carries the operator token after a `?token=` page load. */
export const TOKEN_COOKIE = "hive_token";

function digest(s: string): Buffer {
  return createHash("sha256").update(s, "utf8").digest();
}

/**
 * Compares a presented token with the operator token in constant time. Both sides are hashed
 * first so neither the content nor the length of the real token leaks through timing. No
 * operator token (a token file gone) matches nothing.
 */
export function tokenMatches(expected: string | undefined, presented: string | undefined): boolean {
  if (expected === undefined || expected.length === 0) return false;
  if (presented === undefined || presented.length === 0) return false;
  return timingSafeEqual(digest(expected), digest(presented));
}

function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return m?.[1];
}

/** Methods that change nothing: a cross-site one can at most be a navigation. */
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * True when a browser says the request comes from another origin. SameSite=Strict is not enough
 * on its own: every port of 127.0.0.1 is the same *site*, so a page served by any other local
 * server would still get the cookie sent along. A request without these headers is not from a
 * browser page (or from a same-origin page of an old browser).
 */
function crossOrigin(req: FastifyRequest): boolean {
  const site = req.headers["sec-fetch-site"];
  // The browser's own verdict, when it gives one (secure contexts, loopback included).
  if (site !== undefined) return site !== "same-origin" && site !== "none";
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true; // "null" (sandboxed frames, file:) or garbage
  }
}

/** True for paths answered with JSON (errors included); everything else is an HTML page. */
export function isApiPath(url: string): boolean {
  return url === "/api" || url.startsWith("/api/") || url.startsWith("/api?");
}

/**
 * The `onRequest` hook guarding every route, known or not (registered after `@fastify/cookie`,
 * whose own `onRequest` hook parses `req.cookies`):
 * 1. `Authorization: Bearer <token>`;
 * 2. `?token=<token>` on a page load (GET, not /api): sets the cookie and redirects to the same
 *    URL without the token, so it does not stay in the address bar or history;
 * 3. the cookie, on a request that changes something only from the dashboard's own origin
 *    (`Sec-Fetch-Site`, `Origin`): a cross-origin one gets 403.
 * Anything else gets 401 and nothing more: a JSON error for /api, a bare page otherwise. The
 * token is asked of `tokens` on every request, so a rotated one is refused at once.
 */
export function makeAuthHook(tokens: TokenSource) {
  return async function auth(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const token = tokens.current();
    if (tokenMatches(token, bearer(req.headers.authorization))) return;

    const url = new URL(req.url, "http://web.invalid");
    const queryToken = url.searchParams.get("token");
    if (
      token !== undefined &&
      queryToken !== null &&
      req.method === "GET" &&
      !isApiPath(url.pathname) &&
      tokenMatches(token, queryToken)
    ) {
      url.searchParams.delete("token");
      // One leading slash: `//host/...` (from a request path like `/.//host/`) would leave the site.
      const path = `/${url.pathname.replace(/^\/+/, "")}`;
      const clean = path + (url.searchParams.size > 0 ? `?${url.searchParams}` : "");
      reply
        .setCookie(TOKEN_COOKIE, token, { path: "/", httpOnly: true, sameSite: "strict" })
        .header("cache-control", "no-store")
        .redirect(clean, 303);
      return reply;
    }
    if (tokenMatches(token, req.cookies[TOKEN_COOKIE])) {
      // The cookie rides along on requests the operator did not make (CSRF): a bearer cannot.
      if (SAFE_METHODS.has(req.method) || !crossOrigin(req)) return;
      reply.code(403).header("cache-control", "no-store");
      if (isApiPath(url.pathname)) reply.send(CROSS_ORIGIN_BODY);
      else reply.type("text/html; charset=utf-8").send(errorPage(403, CROSS_ORIGIN_MESSAGE));
      return reply;
    }

    reply.code(401).header("cache-control", "no-store");
    if (isApiPath(url.pathname)) {
      reply.header("www-authenticate", 'Bearer realm="hyperhive"').send(UNAUTHORIZED_BODY);
    } else {
      reply.type("text/html; charset=utf-8").send(unauthorizedPage());
    }
    return reply;
  };
}
