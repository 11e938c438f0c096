import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { ErrorCode, HiveError, type SocketRequest } from "@hyperhive/shared";
import { tempDir, waitUntil } from "@hyperhive/shared/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import {
  answerLine,
  MAX_CONNECTIONS,
  MAX_LINE_BYTES,
  SocketServer,
  socketRequest,
} from "../src/socket.js";

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
  async next(): Promise<Record<string, unknown>> {
    while (this.lines.length === 0) {
      if (this.closed) throw new Error("connection closed");
      await new Promise<void>((r) => this.waiters.push(r));
    }
    return JSON.parse(this.lines.shift()!) as Record<string, unknown>;
  }
}

describe("socket protocol", () => {
  const t = tempDir("hive-sock-");
  const path = join(t.path, "hive.sock");
  const seen: SocketRequest[] = [];
  const server = new SocketServer({
    path,
    handler: async (req) => {
      seen.push(req);
      if (req.cmd === "send" && req.to === "nobody") {
        throw new HiveError(ErrorCode.NotFound, "no agent nobody");
      }
      if (req.cmd === "recv") return { message: null, pending: 0 };
      return { echoed: req.cmd };
    },
  });
  beforeAll(() => server.start());
  afterAll(async () => {
    await server.stop();
    t.remove();
  });

  it("answers a valid request with ok and the result", async () => {
    const c = await LineClient.connect(path);
    c.write(JSON.stringify({ id: 7, cmd: "send", to: "bob", body: "hi" }));
    assert.deepEqual(await c.next(), { id: 7, ok: true, result: { echoed: "send" } });
    c.sock.destroy();
  });

  it("malformed lines get typed errors and the connection stays up", async () => {
    const c = await LineClient.connect(path);
    const before = seen.length;
    c.write("{not json");
    const a = await c.next();
    assert.equal(a.id, null);
    assert.equal(a.ok, false);
    assert.equal((a.error as { code: string }).code, ErrorCode.BadRequest);

    c.write(JSON.stringify({ id: 3, cmd: "send", to: "Not A Name!", body: "" }));
    const b = await c.next();
    assert.equal(b.id, 3);
    assert.equal((b.error as { code: string }).code, ErrorCode.BadRequest);
    assert.match((b.error as { message: string }).message, /to|body/);

    c.write(JSON.stringify({ id: 4, cmd: "explode" }));
    assert.equal(((await c.next()).error as { code: string }).code, ErrorCode.BadRequest);
    c.write(JSON.stringify({ cmd: "recv" }));
    const noId = await c.next();
    assert.equal(noId.id, null);
    assert.equal(seen.length, before, "the handler saw none of the bad lines");

    c.write(JSON.stringify({ id: 5, cmd: "recv", wait_seconds: 0 }));
    assert.deepEqual(await c.next(), { id: 5, ok: true, result: { message: null, pending: 0 } });
    assert.equal(c.closed, false);
    c.sock.destroy();
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
    assert.equal((r.error as { code: string }).code, ErrorCode.BadRequest);
    assert.match((r.error as { message: string }).message, /too long/);
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
    const r = await answerLine(
      JSON.stringify({ id: 1, cmd: "send", to: "nobody", body: "x" }),
      async () => {
        throw new HiveError(ErrorCode.BodyTooLarge, "too big: write a file");
      },
    );
    assert.deepEqual(r, {
      id: 1,
      ok: false,
      error: { code: "body_too_large", message: "too big: write a file", retryable: false },
    });
  });

  it("socketRequest returns results and throws typed errors", async () => {
    assert.deepEqual(await socketRequest(path, { cmd: "wake", from: "cron", body: "tick" }), {
      echoed: "wake",
    });
    await assert.rejects(socketRequest(path, { cmd: "send", to: "nobody", body: "x" }), (e) =>
      HiveError.is(e, ErrorCode.NotFound),
    );
    await assert.rejects(socketRequest(join(t.path, "absent.sock"), { cmd: "recv" }), (e) =>
      HiveError.is(e, ErrorCode.Unavailable),
    );
  });
});
