import assert from "node:assert/strict";
import { ErrorCode, type FilesPlace, HiveError, rpcs, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApiError, filesApi } from "../src/wire.js";
import { call, harnessScope, record } from "./helpers.js";

const apiError = (json: unknown) => ApiError.parse(json).error;

/**
 * The files routes forward to c0re's `hive.op.files.*` (stood in for here): the web reads no file,
 * passes c0re's refusals on with their statuses, and refuses malformed requests before NATS.
 */
describe("files API (c0re stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });

  const c0re = async () => {
    // The place asked about is echoed, as c0re does: an agent's state dir, or the shared dir.
    const place = (req: FilesPlace): FilesPlace =>
      "shared" in req ? { shared: true } : { agent: req.agent };
    const list = record(t.h.nc, subjects.op.files.list, rpcs.opFilesList, (req) => {
      if ("agent" in req && req.agent === "ghost") {
        throw new HiveError(ErrorCode.NotFound, "no agent named ghost");
      }
      if (req.path === "gone") throw new HiveError(ErrorCode.NotFound, "no directory gone");
      const name = "shared" in req ? "plan.md" : "notes.md";
      return {
        ...place(req),
        path: req.path ?? "",
        entries: [{ name, kind: "file" as const, size: 6, mtime: 1, readable: true }],
        truncated: false,
      };
    });
    const read = record(t.h.nc, subjects.op.files.read, rpcs.opFileRead, (req) => {
      if (req.path === "private.md") {
        throw new HiveError(ErrorCode.Forbidden, "private.md is not world-readable (mode 0600)");
      }
      if (req.path === "big.bin") throw new HiveError(ErrorCode.BodyTooLarge, "big.bin is big");
      return {
        ...place(req),
        path: req.path,
        size: 6,
        mtime: 1,
        encoding: "utf8" as const,
        content: "shared" in req ? "shared\n" : "hello\n",
      };
    });
    const log = record(t.h.nc, subjects.op.files.log, rpcs.opAgentLog, (req) => ({
      agent: req.agent,
      lines: ["a", "b"].slice(req.after ?? 0).slice(-(req.lines ?? 100)),
      end: 2,
    }));
    for (const r of [list, read, log]) await t.keep(r);
    return { list, read, log };
  };

  it("lists, reads and tails through c0re", async () => {
    const { list, read, log } = await c0re();
    const root = await call(t.h.app, "GET", filesApi.files.url("alice"));
    assert.equal(root.status, 200);
    assert.equal(filesApi.files.reply.parse(root.json()).entries[0]?.name, "notes.md");
    const sub = await call(t.h.app, "GET", filesApi.files.url("alice", "notes/deep dir"));
    assert.equal(filesApi.files.reply.parse(sub.json()).path, "notes/deep dir");
    const file = await call(t.h.app, "GET", filesApi.file.url("alice", "notes.md"));
    assert.equal(file.status, 200);
    assert.equal(filesApi.file.reply.parse(file.json()).content, "hello\n");
    const tail = await call(t.h.app, "GET", filesApi.log.url("alice", 1));
    assert.deepEqual(filesApi.log.reply.parse(tail.json()).lines, ["b"]);
    const more = await call(t.h.app, "GET", filesApi.log.url("alice", 5, 1));
    assert.deepEqual(filesApi.log.reply.parse(more.json()), {
      agent: "alice",
      lines: ["b"],
      end: 2,
    });
    assert.deepEqual(
      list.seen.map((s) => s.req),
      [{ agent: "alice" }, { agent: "alice", path: "notes/deep dir" }],
    );
    assert.deepEqual(
      read.seen.map((s) => s.req),
      [{ agent: "alice", path: "notes.md" }],
    );
    assert.deepEqual(
      log.seen.map((s) => s.req),
      [
        { agent: "alice", lines: 1 },
        { agent: "alice", lines: 5, after: 1 },
      ],
    );
  });

  it("passes c0re's refusals on: 403 forbidden, 404 not found, 413 over the cap", async () => {
    await c0re();
    const priv = await call(t.h.app, "GET", filesApi.file.url("alice", "private.md"));
    assert.equal(priv.status, 403);
    assert.match(apiError(priv.json()).message, /not world-readable/);
    const big = await call(t.h.app, "GET", filesApi.file.url("alice", "big.bin"));
    assert.equal(big.status, 413);
    const ghost = await call(t.h.app, "GET", filesApi.files.url("ghost"));
    assert.equal(ghost.status, 404);
  });

  it("lists and reads the shared dir through c0re, naming no agent", async () => {
    const { list, read, log } = await c0re();
    const root = await call(t.h.app, "GET", filesApi.sharedFiles.url());
    assert.equal(root.status, 200);
    assert.deepEqual(filesApi.sharedFiles.reply.parse(root.json()), {
      shared: true,
      path: "",
      entries: [{ name: "plan.md", kind: "file", size: 6, mtime: 1, readable: true }],
      truncated: false,
    });
    const sub = await call(t.h.app, "GET", filesApi.sharedFiles.url("notes/deep dir"));
    assert.equal(filesApi.sharedFiles.reply.parse(sub.json()).path, "notes/deep dir");
    const file = await call(t.h.app, "GET", filesApi.sharedFile.url("notes/plan.md"));
    assert.equal(file.status, 200);
    assert.deepEqual(filesApi.sharedFile.reply.parse(file.json()), {
      shared: true,
      path: "notes/plan.md",
      size: 6,
      mtime: 1,
      encoding: "utf8",
      content: "shared\n",
    });
    const next = await call(t.h.app, "GET", filesApi.sharedFiles.url("notes", "plan.md"));
    assert.equal(next.status, 200);
    assert.deepEqual(
      list.seen.map((s) => s.req),
      [
        { shared: true },
        { shared: true, path: "notes/deep dir" },
        { shared: true, path: "notes", after: "plan.md" },
      ],
      "the next page asked for after the name given",
    );
    assert.deepEqual(
      read.seen.map((s) => s.req),
      [{ shared: true, path: "notes/plan.md" }],
    );
    assert.equal(log.seen.length, 0);
  });

  it("passes c0re's refusals of the shared dir on: 403, 404, 413", async () => {
    const { list, read } = await c0re();
    const priv = await call(t.h.app, "GET", filesApi.sharedFile.url("private.md"));
    assert.equal(priv.status, 403);
    assert.equal(apiError(priv.json()).code, "forbidden");
    assert.match(apiError(priv.json()).message, /not world-readable/);
    const big = await call(t.h.app, "GET", filesApi.sharedFile.url("big.bin"));
    assert.equal(big.status, 413);
    const gone = await call(t.h.app, "GET", filesApi.sharedFiles.url("gone"));
    assert.equal(gone.status, 404);
    assert.equal(apiError(gone.json()).code, "not_found");
    assert.deepEqual(
      [...list.seen, ...read.seen].map((s) => s.req),
      [
        { shared: true, path: "gone" },
        { shared: true, path: "private.md" },
        { shared: true, path: "big.bin" },
      ],
    );
  });

  it("refuses malformed params and queries with 400 before they reach c0re", async () => {
    const { list, read, log } = await c0re();
    const bad = [
      "/api/agents/alice/files?path=../x",
      "/api/agents/alice/files?path=a/../../x",
      "/api/agents/alice/files?path=%2Fetc",
      "/api/agents/alice/files?path=a%00b",
      "/api/agents/alice/files?path=",
      "/api/agents/alice/files?dir=x",
      "/api/agents/alice/files?after=",
      "/api/agents/alice/files?after=a%2Fb",
      `/api/agents/alice/files?after=${"x".repeat(256)}`,
      "/api/agents/Alice!/files",
      "/api/agents/alice/file",
      "/api/agents/alice/file?path=..",
      "/api/agents/alice/file?path=x&max_bytes=10",
      `/api/agents/alice/file?path=${"x".repeat(1025)}`,
      "/api/agents/alice/log?lines=0",
      "/api/agents/alice/log?lines=abc",
      "/api/agents/alice/log?lines=2001",
      "/api/agents/alice/log?follow=true",
      "/api/agents/alice/log?after=-1",
      "/api/agents/alice/log?after=x",
      "/api/agents/operator/log",
      // The shared dir's routes: the same paths refused, and no agent or place smuggled in.
      "/api/shared/files?path=../x",
      "/api/shared/files?path=a/../../x",
      "/api/shared/files?path=/etc",
      "/api/shared/files?path=%2Fetc",
      "/api/shared/files?path=a%5Cb",
      "/api/shared/files?path=",
      "/api/shared/files?dir=x",
      "/api/shared/files?after=a%2Fb",
      "/api/shared/files?agent=alice",
      "/api/shared/files?shared=false",
      "/api/shared/file",
      "/api/shared/file?path=../x",
      "/api/shared/file?path=/etc/passwd",
      "/api/shared/file?path=x&max_bytes=10",
      "/api/shared/file?path=x&agent=alice",
      `/api/shared/file?path=${"x".repeat(1025)}`,
    ];
    for (const url of bad) {
      const r = await call(t.h.app, "GET", url);
      assert.equal(r.status, 400, url);
      assert.equal(apiError(r.json()).code, "bad_request", url);
    }
    assert.equal(list.seen.length + read.seen.length + log.seen.length, 0, "nothing reached c0re");
  });

  it("answers 401 without the token, and asks nobody", async () => {
    const { list, read, log } = await c0re();
    for (const url of [
      filesApi.files.url("alice"),
      filesApi.file.url("alice", "notes.md"),
      filesApi.log.url("alice"),
      filesApi.sharedFiles.url(),
      filesApi.sharedFile.url("plan.md"),
    ]) {
      const none = await call(t.h.app, "GET", url, { headers: {} });
      assert.equal(none.status, 401, url);
      assert.equal(apiError(none.json()).code, "unauthorized");
      const wrong = await call(t.h.app, "GET", url, { headers: { authorization: "Bearer nope" } });
      assert.equal(wrong.status, 401, url);
    }
    assert.equal(list.seen.length + read.seen.length + log.seen.length, 0);
  });

  it("is 503 when c0re does not answer", async () => {
    for (const url of [filesApi.log.url("alice"), filesApi.sharedFiles.url()]) {
      const r = await call(t.h.app, "GET", url);
      assert.equal(r.status, 503, url);
      assert.equal(apiError(r.json()).code, "unavailable", url);
    }
  });
});
