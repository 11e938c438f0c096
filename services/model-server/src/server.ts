import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { createLogger, type Logger } from "@hyperhive/shared";
import { ZodError, z } from "zod";
import {
  type Answer,
  estimateTokens,
  estimateUsage,
  MessagesRequest,
  newestUser,
  newMessageId,
  newToolUseId,
  type OutBlock,
  writeApiError,
  writeJsonAnswer,
  writeSseAnswer,
} from "./anthropic.js";
import {
  COMPACT_MARKER,
  COMPACT_SUMMARY_TEXT,
  DEFAULT_SCRIPT,
  FALLBACK_TEXT,
  parseScript,
  type Rule,
  renderDeep,
  renderTemplate,
  type Step,
  splitResponses,
  type TemplateContext,
} from "./script.js";

export * from "./anthropic.js";
export * from "./script.js";

/** One entry of the request log (`GET /_requests`). */
export interface RequestLogEntry {
  /** ISO time the request arrived. */
  time: string;
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** `model` of the request body, when it had one. */
  model: string | null;
  /** `stream` of the request body. */
  stream: boolean;
  /** The request's system prompt text (claude's billing-header block left out), cut at 8000 chars. */
  system: string;
  /** Newest user text (system reminders removed; tool results included). */
  text: string;
  /** tool_use ids the newest user message answers. */
  tool_result_ids: string[];
  /** Index of the rule that answered, null for the fallback text or non-message requests. */
  rule: number | null;
  /** How it was answered. */
  kind: "reply" | "continue" | "error" | "fallback" | "other";
  /** Whether this was claude's compaction (summary) request. */
  compact: boolean;
  /** The tool calls in the answer (name and input). */
  tool_uses: { name: string; input: unknown }[];
}

/** Options of startModelServer. */
export interface ModelServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Initial script (validated); default DEFAULT_SCRIPT. */
  script?: unknown;
  /** Logger; default a silent one. */
  log?: Logger;
  /** Largest request body accepted; larger ones get 413. Default {@link MAX_BODY_BYTES}. */
  maxBodyBytes?: number;
}

/** A running model server. */
export interface ModelServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (use as ANTHROPIC_BASE_URL). */
  url: string;
  /** Replaces the script (validated; throws ZodError) and resets rule counters. */
  setScript(script: unknown): void;
  /** A copy of the request log. */
  requests(): RequestLogEntry[];
  /** Releases every held response; returns how many. */
  release(): number;
  /** Stops listening, ends open connections. Idempotent. */
  close(): Promise<void>;
}

/** Remaining replies of a rule whose tool call is awaiting its tool_result. */
interface Continuation {
  rule: number;
  ruleRef: Rule;
  ctx: TemplateContext;
  rest: Step[][];
}

const MAX_LOG = 2000;
/** Default request body limit: the real Messages API's (32 MB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

function systemText(system: unknown): string {
  let text = "";
  if (typeof system === "string") text = system;
  else if (Array.isArray(system)) {
    text = system
      .map((b: unknown) =>
        b !== null && typeof b === "object" && typeof (b as { text?: unknown }).text === "string"
          ? (b as { text: string }).text
          : "",
      )
      .filter((t) => t !== "" && !t.startsWith("x-anthropic-billing-header:"))
      .join("\n\n");
  }
  return text.slice(0, 8000);
}

/** Starts the scripted Messages API server. */
export async function startModelServer(opts: ModelServerOptions = {}): Promise<ModelServer> {
  const log = opts.log ?? createLogger("model-server", { level: "silent" });
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  let rules: Rule[] = parseScript(opts.script ?? DEFAULT_SCRIPT);
  let counts = new Map<Rule, number>();
  const continuations = new Map<string, Continuation>();
  const held = new Set<() => void>();
  const requestLog: RequestLogEntry[] = [];

  const record = (e: RequestLogEntry): void => {
    requestLog.push(e);
    if (requestLog.length > MAX_LOG) requestLog.splice(0, requestLog.length - MAX_LOG);
  };

  const setScript = (input: unknown): void => {
    rules = parseScript(input);
    counts = new Map();
    continuations.clear();
  };

  const release = (): number => {
    const n = held.size;
    for (const r of [...held]) r();
    held.clear();
    return n;
  };

  /** Waits until released or the client goes away; false if it went away. */
  const holdUntilReleased = (req: IncomingMessage): Promise<boolean> =>
    new Promise((resolve) => {
      const done = (ok: boolean): void => {
        held.delete(onRelease);
        req.socket.off("close", onClose);
        resolve(ok);
      };
      const onRelease = (): void => done(true);
      const onClose = (): void => done(false);
      held.add(onRelease);
      req.socket.once("close", onClose);
    });

  const renderSteps = (steps: Step[], ctx: TemplateContext): OutBlock[] =>
    steps.map((s) =>
      "text" in s
        ? { type: "text" as const, text: renderTemplate(s.text, ctx) }
        : {
            type: "tool_use" as const,
            id: newToolUseId(),
            name: s.tool_use.name,
            input: renderDeep(s.tool_use.input, ctx),
          },
    );

  async function handleMessages(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    path: string,
  ): Promise<void> {
    let body: MessagesRequest;
    try {
      body = MessagesRequest.parse(JSON.parse(raw));
    } catch (err) {
      const why =
        err instanceof ZodError
          ? z.prettifyError(err).replace(/\s*\n\s*/g, "; ")
          : `body is not JSON (${err instanceof Error ? err.message : String(err)})`;
      writeApiError(res, 400, "invalid_request_error", `bad request body: ${why}`);
      return;
    }
    const user = newestUser(body);
    const entry: RequestLogEntry = {
      time: new Date().toISOString(),
      method: req.method ?? "POST",
      path,
      model: body.model,
      stream: body.stream === true,
      system: systemText(body.system),
      text: user.text,
      tool_result_ids: user.toolResultIds,
      rule: null,
      kind: "fallback",
      compact: COMPACT_MARKER.test(user.text),
      tool_uses: [],
    };

    // Pick the answer: a pending continuation first, then the rules, then the fallback.
    let steps: Step[] = [];
    let rest: Step[][] = [];
    let ctx: TemplateContext = { text: user.text, match: null };
    let rule: Rule | undefined;
    // A compaction request may carry the tool_result of a pending call; it is not its continuation.
    const contId = entry.compact
      ? undefined
      : user.toolResultIds.find((id) => continuations.has(id));
    if (contId !== undefined) {
      const c = continuations.get(contId)!;
      for (const id of user.toolResultIds) continuations.delete(id);
      entry.rule = c.rule;
      entry.kind = "continue";
      ctx = c.ctx;
      rule = c.ruleRef;
      steps = c.rest[0] ?? [];
      rest = c.rest.slice(1);
      if (steps.length === 0) steps = [{ text: "Done." }];
    } else {
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i]!;
        if (r.on !== "any" && r.on !== (entry.compact ? "compact" : "turn")) continue;
        const used = counts.get(r) ?? 0;
        if (r.times !== undefined && used >= r.times) continue;
        const m = new RegExp(r.match, r.flags).exec(user.text);
        if (!m) continue;
        counts.set(r, used + 1);
        rule = r;
        entry.rule = i;
        ctx = { text: user.text, match: r.match === "" ? null : m };
        if (r.error) {
          entry.kind = "error";
        } else {
          entry.kind = "reply";
          const parts = splitResponses(r.reply ?? []);
          steps = parts[0] ?? [];
          rest = parts.slice(1);
        }
        break;
      }
      if (entry.rule === null) {
        steps = [{ text: entry.compact ? COMPACT_SUMMARY_TEXT : FALLBACK_TEXT }];
      }
    }
    // Holds and delays apply to the request the rule matched, not to its continuations.
    let recorded = false;
    if (entry.kind !== "continue" && rule?.hold) {
      record(entry);
      recorded = true;
      log.info({ rule: entry.rule }, "holding response");
      if (!(await holdUntilReleased(req))) {
        log.info({ rule: entry.rule }, "client went away while held");
        return;
      }
    }
    if (entry.kind !== "continue" && rule !== undefined && rule.delay_ms > 0) {
      await delay(rule.delay_ms);
    }
    if (!recorded) record(entry);

    if (rule?.error) {
      const e = rule.error;
      log.info({ rule: entry.rule, status: e.status }, "answering with an API error");
      writeApiError(res, e.status, e.type, renderTemplate(e.message, ctx), e.retry);
      return;
    }

    const content = renderSteps(steps, ctx);
    const toolUses = content.filter((b) => b.type === "tool_use");
    entry.tool_uses = toolUses.map((b) => ({ name: b.name, input: b.input }));
    if (toolUses.length > 0 && rule !== undefined && entry.rule !== null) {
      const c: Continuation = { rule: entry.rule, ruleRef: rule, ctx, rest };
      for (const b of toolUses) continuations.set(b.id, c);
    }
    const usage = { ...estimateUsage(body, content), ...(rule?.usage ?? {}) };
    const answer: Answer = {
      id: newMessageId(),
      model: body.model,
      content,
      stop_reason: toolUses.length > 0 ? "tool_use" : "end_turn",
      usage,
    };
    log.debug({ rule: entry.rule, kind: entry.kind, stop: answer.stop_reason }, "answering");
    if (body.stream === true) writeSseAnswer(res, answer);
    else writeJsonAnswer(res, answer);
  }

  function sendJson(res: ServerResponse, status: number, v: unknown): void {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(v));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    let size = 0;
    // An oversized body is read to its end (so the client gets the 413) but not kept.
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size <= maxBodyBytes) chunks.push(c as Buffer);
    }
    if (size > maxBodyBytes) {
      log.warn({ method, path, size }, "request body too large");
      writeApiError(
        res,
        413,
        "request_too_large",
        `request body is ${size} bytes, over the limit of ${maxBodyBytes}`,
      );
      return;
    }
    const raw = Buffer.concat(chunks).toString("utf8");

    if (method === "POST" && path === "/v1/messages") {
      await handleMessages(req, res, raw, path);
      return;
    }
    if (method === "POST" && path === "/v1/messages/count_tokens") {
      record({
        time: new Date().toISOString(),
        method,
        path,
        model: null,
        stream: false,
        system: "",
        text: "",
        tool_result_ids: [],
        rule: null,
        kind: "other",
        compact: false,
        tool_uses: [],
      });
      sendJson(res, 200, { input_tokens: estimateTokens(raw.length) });
      return;
    }
    if (method === "GET" && path === "/_health") {
      sendJson(res, 200, { ok: true, rules: rules.length, held: held.size });
      return;
    }
    if (method === "GET" && path === "/_requests") {
      sendJson(res, 200, requestLog);
      return;
    }
    if (method === "DELETE" && path === "/_requests") {
      requestLog.length = 0;
      sendJson(res, 200, { ok: true });
      return;
    }
    if (method === "POST" && path === "/_release") {
      sendJson(res, 200, { released: release() });
      return;
    }
    if (method === "PUT" && path === "/_script") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        sendJson(res, 400, { error: { code: "bad_request", message: "body is not JSON" } });
        return;
      }
      try {
        setScript(parsed);
      } catch (err) {
        const message = err instanceof ZodError ? err.message : String(err);
        sendJson(res, 400, { error: { code: "bad_request", message } });
        return;
      }
      log.info({ rules: rules.length }, "script replaced");
      sendJson(res, 200, { ok: true, rules: rules.length });
      return;
    }
    log.warn({ method, path }, "unknown endpoint");
    writeApiError(res, 404, "not_found_error", `no such endpoint: ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, "request failed");
      if (!res.headersSent) writeApiError(res, 500, "api_error", String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url }, "model server listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    setScript,
    requests: () => requestLog.map((e) => ({ ...e })),
    release,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
