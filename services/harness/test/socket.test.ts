import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import {
  ErrorCode,
  HiveError,
  LineBuffer,
  SocketResponse,
  socketCommands,
  type WireError,
} from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { z } from "zod";
import { answerLine } from "../src/socket.js";
import { socketRequest } from "../src/socket-client.js";
import { MAX_CONNECTIONS, MAX_LINE_BYTES, SocketServer } from "../src/socket-server.js";
import { type Seen, standInHandlers } from "./handlers.js";

/** A raw line client: write lines, read reply lines in order. */
class LineClient {
  private buf = "";
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly sock: Socket) {
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.buf += d;
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on("close", () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static connect(path: string): Promise<LineClient> {
    return new Promise((res, rej) => {
      const s = createConnection(path, () => res(new LineClient(s)));
      s.once("error", rej);
    });
  }
  write(line: string): void {
    this.sock.write(`${line}\n`);
  }
  /** The next answer line, which must be a valid {@link SocketResponse}. */
  async next(): Promise<SocketResponse> {
    while (this.lines.length === 0) {
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return SocketResponse.parse(JSON.parse(this.lines.shift()!));
  }
}

/**
 * Sends each malformed request under its own id (from `firstId` on): each must come back under
 * that id as a `bad_request` whose message says why.
 */
async function refusedEach(
  c: LineClient,
  bad: readonly [Record<string, unknown>, RegExp][],
  firstId: number,
): Promise<void> {
  for (const [i, [req, why]] of bad.entries()) {
    c.write(JSON.stringify({ id: firstId + i, ...req }));
    const r = await c.next();
    assert.equal(r.id, firstId + i);
    assert.equal(errorOf(r).code, ErrorCode.BadRequest, JSON.stringify(req));
    assert.match(errorOf(r).message, why, JSON.stringify(req));
  }
}

/** The error of an answer that must be one. */
function errorOf(res: SocketResponse): WireError {
  if (res.ok) assert.fail(`expected an error, got ${JSON.stringify(res)}`);
  return res.error;
}

describe("socket protocol", () => {
  const t = tempDir("hive-sock-");
  const path = join(t.path, "hive.sock");
  /** The commands the handlers saw, with their params. */
  const seen: Seen[] = [];
  const handlers = standInHandlers(seen, {
    send: async (params) => {
      if (params.to === "nobody") throw new HiveError(ErrorCode.NotFound, "no agent nobody");
      // A result that breaks its schema (ids are positive): the server must not pass it on.
      if (params.body === "bad result") return { id: 0, duplicate: false, sent_at: 1 };
      return { id: 12, duplicate: false, sent_at: 1 };
    },
    recv: async () => ({ message: null, pending: 0 }),
    wake: async () => ({ id: 13 }),
    whoami: async () => ({
      name: "boss",
      role: "manager",
      model: "haiku",
      version: "0.1.0",
      rev: null,
      started_at: 1,
      state_dir: "/hive/agents/boss/state",
      shared_dir: null,
    }),
  });
  const server = new SocketServer({ path, handlers });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.stop();
    t.remove();
  });

  it("answers a valid request with its command's handler and result", async () => {
    const c = await LineClient.connect(path);
    c.write(JSON.stringify({ id: 7, cmd: "send", to: "bob", body: "hi", in_reply_to: 3 }));
    assert.deepEqual(await c.next(), {
      id: 7,
      ok: true,
      result: { id: 12, duplicate: false, sent_at: 1 },
    });
    assert.deepEqual(seen.at(-1), {
      cmd: "send",
      params: { to: "bob", body: "hi", in_reply_to: 3 },
    });
    c.write(JSON.stringify({ id: 8, cmd: "wake", from: "cron: nightly", body: "tick" }));
    assert.deepEqual(await c.next(), { id: 8, ok: true, result: { id: 13 } });
    assert.deepEqual(seen.at(-1), { cmd: "wake", params: { from: "cron: nightly", body: "tick" } });
    c.sock.destroy();
  });

  it("malformed lines get typed errors and the connection stays up", async () => {
    const c = await LineClient.connect(path);
    const before = seen.length;
    c.write("{not json");
    const a = await c.next();
    assert.equal(a.id, null);
    assert.equal(a.ok, false);
    assert.equal(errorOf(a).code, ErrorCode.BadRequest);

    c.write(JSON.stringify({ id: 3, cmd: "send", to: "Not A Name!", body: "" }));
    const b = await c.next();
    assert.equal(b.id, 3);
    assert.equal(errorOf(b).code, ErrorCode.BadRequest);
    assert.match(errorOf(b).message, /to|body/);

    c.write(JSON.stringify({ id: 4, cmd: "explode" }));
    const unknown = await c.next();
    assert.equal(unknown.id, 4);
    assert.equal(errorOf(unknown).code, ErrorCode.BadRequest);
    assert.match(errorOf(unknown).message, /explode.*send, recv, recv_batch, ask_operator/);
    c.write(JSON.stringify({ cmd: "recv" }));
    const noId = await c.next();
    assert.equal(noId.id, null);
    // Params are strict: a field the command does not have is refused, not ignored.
    c.write(JSON.stringify({ id: 6, cmd: "recv", wait_seconds: 1, lease_seconds: 9 }));
    const extra = await c.next();
    assert.equal(extra.id, 6);
    assert.match(errorOf(extra).message, /lease_seconds/);
    // A whitespace-only body is no body.
    c.write(JSON.stringify({ id: 7, cmd: "send", to: "bob", body: "  \n" }));
    assert.equal(errorOf(await c.next()).code, ErrorCode.BadRequest);
    assert.equal(seen.length, before, "the handler saw none of the bad lines");

    c.write(JSON.stringify({ id: 5, cmd: "recv", wait_seconds: 0 }));
    assert.deepEqual(await c.next(), { id: 5, ok: true, result: { message: null, pending: 0 } });
    assert.equal(c.closed, false);
    c.sock.destroy();
  });

  it("the new commands' params are strict too: nothing malformed reaches a handler", async () => {
    const c = await LineClient.connect(path);
    const before = seen.length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ cmd: "whoami", name: "boss" }, /name/],
      [{ cmd: "request_spawn" }, /name/],
      [{ cmd: "request_spawn", name: "Alice!" }, /name/],
      [{ cmd: "request_spawn", name: "operator" }, /reserved/],
      [{ cmd: "kill", name: "alice", force: true }, /force/],
      [{ cmd: "restart", name: 7 }, /name/],
      [{ cmd: "update", name: ["alice"] }, /name/],
      [{ cmd: "start" }, /name/],
      [
        { cmd: "request_apply_commit", agent: "alice", commit_ref: "--upload-pack=x" },
        /commit_ref/,
      ],
      [{ cmd: "request_apply_commit", agent: "alice" }, /commit_ref/],
      [{ cmd: "request_apply_commit", agent: "alice", commit_ref: "HEAD", note: "x" }, /note/],
    ];
    await refusedEach(c, bad, 100);
    assert.equal(seen.length, before, "the handlers saw none of them");
    c.write(JSON.stringify({ id: 200, cmd: "whoami" }));
    const who = await c.next();
    assert.ok(who.ok);
    assert.deepEqual(seen.at(-1), { cmd: "whoami", params: {} });
    c.sock.destroy();
  });

  it("mail, questions and threads: malformed params are refused with a typed error before any handler", async () => {
    const c = await LineClient.connect(path);
    const before = seen.length;
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ cmd: "send", to: "*", body: "x", in_reply_to: 0 }, /in_reply_to/],
      [{ cmd: "send", to: "**", body: "x" }, /to/],
      [{ cmd: "recv_batch" }, /max/],
      [{ cmd: "recv_batch", max: 0 }, /max/],
      [{ cmd: "recv_batch", max: 51 }, /max/],
      [{ cmd: "recv_batch", max: 2.5 }, /max/],
      [{ cmd: "recv_batch", max: 2, lease_seconds: 9 }, /lease_seconds/],
      [{ cmd: "ask_operator" }, /question/],
      [{ cmd: "ask_operator", question: "  " }, /question/],
      [{ cmd: "ask_operator", question: "x", to: "bob" }, /to/],
      [{ cmd: "ask_operator", question: "x", ttl_seconds: 0 }, /ttl_seconds/],
      [{ cmd: "ask_operator", question: "x", options: [""] }, /options/],
      [{ cmd: "ask", question: "x" }, /to/],
      [{ cmd: "ask", to: "operator", question: "x" }, /to/],
      [{ cmd: "ask", to: "bob", question: "x", multi: true }, /multi/],
      [{ cmd: "answer", text: "yes" }, /question_id/],
      [{ cmd: "answer", question_id: 0, text: "yes" }, /question_id/],
      [{ cmd: "answer", question_id: 3, text: " " }, /text/],
      [{ cmd: "list_my_asks", all: "yes" }, /all/],
      [{ cmd: "list_my_asks", mine: true }, /mine/],
      [{ cmd: "cancel_ask" }, /question_id/],
      [{ cmd: "cancel_ask", question_id: "3" }, /question_id/],
      [{ cmd: "get_open_threads", agent: "bob" }, /agent/],
    ];
    await refusedEach(c, bad, 300);
    assert.equal(seen.length, before, "the handlers saw none of them");
    c.sock.destroy();
  });

  it("reminders: malformed params are refused with a typed error before any handler", async () => {
    const c = await LineClient.connect(path);
    const before = seen.length;
    const at = "2027-01-15T09:00:00Z";
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ cmd: "remind" }, /body/],
      [{ cmd: "remind", body: "x" }, /exactly one of in_seconds or at/],
      [{ cmd: "remind", body: "x", in_seconds: 5, at }, /exactly one of in_seconds or at/],
      [{ cmd: "remind", body: "x", in_seconds: 0 }, /in_seconds/],
      [{ cmd: "remind", body: "x", in_seconds: "5" }, /in_seconds/],
      [{ cmd: "remind", body: "x", in_seconds: 400 * 86_400 }, /in_seconds/],
      [{ cmd: "remind", body: "x", in_seconds: 60, every_seconds: 59 }, /every_seconds/],
      [{ cmd: "remind", body: "x", at: "2027-01-15 09:00" }, /at/],
      [{ cmd: "remind", body: "x", at: "2027-01-15T09:00:00" }, /at/],
      [{ cmd: "remind", body: " \n", in_seconds: 5 }, /body/],
      [{ cmd: "remind", body: "x".repeat(2001), in_seconds: 5 }, /2000 characters/],
      // The owner is the subject's, never a param.
      [{ cmd: "remind", body: "x", in_seconds: 5, agent: "bob" }, /agent/],
      [{ cmd: "list_my_reminders", all: "yes" }, /all/],
      [{ cmd: "list_my_reminders", agent: "bob" }, /agent/],
      [{ cmd: "cancel_reminder" }, /reminder_id/],
      [{ cmd: "cancel_reminder", reminder_id: 0 }, /reminder_id/],
      [{ cmd: "cancel_reminder", reminder_id: "12" }, /reminder_id/],
      [{ cmd: "cancel_reminder", reminder_id: 12, owner: "bob" }, /owner/],
    ];
    await refusedEach(c, bad, 400);
    assert.equal(seen.length, before, "the handlers saw none of them");
    // Well-formed, they reach their handlers as sent.
    c.write(JSON.stringify({ id: 500, cmd: "cancel_reminder", reminder_id: 12 }));
    assert.equal(errorOf(await c.next()).code, ErrorCode.Internal, "not used in this test");
    c.write(JSON.stringify({ id: 501, cmd: "remind", body: "x", at, every_seconds: 60 }));
    await c.next();
    assert.deepEqual(seen.slice(before), [
      { cmd: "cancel_reminder", params: { reminder_id: 12 } },
      { cmd: "remind", params: { body: "x", at, every_seconds: 60 } },
    ]);
    c.sock.destroy();
  });

  it("no command has a param named id or cmd: those are the request line's own", () => {
    for (const [cmd, spec] of Object.entries(socketCommands)) {
      const keys = Object.keys(spec.params.shape);
      assert.ok(!keys.includes("id") && !keys.includes("cmd"), `${cmd}: ${keys.join(", ")}`);
    }
  });

  it("a line that never ends is refused and the connection closed, even if the client keeps writing", async () => {
    // allowHalfOpen: a client that ignores the server's end and keeps sending.
    const sock = await new Promise<Socket>((res, rej) => {
      const s = createConnection({ path, allowHalfOpen: true }, () => res(s));
      s.once("error", rej);
    });
    sock.on("error", () => {});
    const c = new LineClient(sock);
    const chunk = "x".repeat(64 * 1024);
    for (let n = 0; n <= MAX_LINE_BYTES; n += chunk.length) sock.write(chunk);
    const r = await c.next();
    assert.equal(errorOf(r).code, ErrorCode.BadRequest);
    assert.match(errorOf(r).message, /too long/);
    const more = setInterval(() => {
      if (!sock.destroyed && sock.writable) sock.write(chunk);
    }, 10);
    try {
      await waitUntil(() => c.closed, { timeoutMs: 5000, what: "the server to close the socket" });
    } finally {
      clearInterval(more);
      sock.destroy();
    }
  });

  it("connections beyond the limit are dropped; the ones held stay served", async () => {
    const held: LineClient[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) held.push(await LineClient.connect(path));
    try {
      const extra = await LineClient.connect(path);
      await waitUntil(() => extra.closed, {
        timeoutMs: 5000,
        what: "the extra connection dropped",
      });
      const first = held[0]!;
      first.write(JSON.stringify({ id: 9, cmd: "recv", wait_seconds: 0 }));
      assert.deepEqual(await first.next(), {
        id: 9,
        ok: true,
        result: { message: null, pending: 0 },
      });
    } finally {
      for (const c of held) c.sock.destroy();
    }
    await waitUntil(
      async () => {
        const c = await LineClient.connect(path);
        c.write(JSON.stringify({ id: 10, cmd: "recv", wait_seconds: 0 }));
        const ok = await c.next().then(
          () => true,
          () => false,
        );
        c.sock.destroy();
        return ok;
      },
      { timeoutMs: 5000, what: "a new connection served once the others closed" },
    );
  });

  it("a handler's HiveError comes back typed", async () => {
    const r = await answerLine(JSON.stringify({ id: 1, cmd: "send", to: "bob", body: "x" }), {
      ...handlers,
      send: async () => {
        throw new HiveError(ErrorCode.BodyTooLarge, "too big: write a file");
      },
    });
    assert.deepEqual(r, {
      id: 1,
      ok: false,
      error: { code: "body_too_large", message: "too big: write a file", retryable: false },
    });
  });

  it("a result that breaks its command's schema is never written as ok", async () => {
    const r = await answerLine(
      JSON.stringify({ id: 2, cmd: "send", to: "bob", body: "bad result" }),
      handlers,
    );
    assert.equal(r.id, 2);
    assert.equal(errorOf(r).code, ErrorCode.Internal);
    assert.match(errorOf(r).message, /send result does not match its schema: id/);
  });

  it("socketRequest returns the command's validated result and throws typed errors", async () => {
    const woke = await socketRequest(path, "wake", { from: "cron", body: "tick" });
    assert.equal(woke.id, 13);
    const sent = await socketRequest(path, "send", { to: "operator", body: "hi" });
    assert.deepEqual(sent, { id: 12, duplicate: false, sent_at: 1 });
    await assert.rejects(socketRequest(path, "send", { to: "nobody", body: "x" }), (e) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    await assert.rejects(socketRequest(path, "send", { to: "bob", body: "bad result" }), (e) =>
      HiveError.is(e, ErrorCode.Internal),
    );
    await assert.rejects(socketRequest(join(t.path, "absent.sock"), "recv", {}), (e) =>
      HiveError.is(e, ErrorCode.Unavailable),
    );
  });

  it("socketRequest checks params before sending them", async () => {
    const before = seen.length;
    await assert.rejects(socketRequest(path, "send", { to: "Not A Name!", body: "x" }), (e) =>
      HiveError.is(e, ErrorCode.BadRequest),
    );
    await assert.rejects(socketRequest(path, "wake", { from: "", body: "x" }), (e) =>
      HiveError.is(e, ErrorCode.BadRequest),
    );
    assert.equal(seen.length, before, "nothing reached the server");
  });

  it("socketRequest refuses a result that breaks its command's schema", async () => {
    // A peer that answers every request under its id with a recv result of the wrong shape.
    const rogue = join(t.path, "rogue.sock");
    const srv = createServer((c) => {
      c.setEncoding("utf8");
      const lines = new LineBuffer((line) => {
        const { id } = z.looseObject({ id: z.number() }).parse(JSON.parse(line));
        c.write(`${JSON.stringify({ id, ok: true, result: { message: null } })}\n`);
      });
      c.on("data", (d: string) => lines.push(d));
    });
    await new Promise<void>((res) => srv.listen(rogue, res));
    try {
      await assert.rejects(
        socketRequest(rogue, "recv", {}),
        (e) => HiveError.is(e, ErrorCode.Internal) && /pending/.test(e.message),
      );
    } finally {
      await new Promise<void>((res) => srv.close(() => res()));
    }
  });
});
