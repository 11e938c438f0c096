import assert from "node:assert/strict";
import { type Approval, rpcs, subjects } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { ApiError, api } from "../src/wire.js";
import { commitApproval, decideIn, spawnApproval } from "./fixtures.js";
import { call, expectBadBodies, harnessScope, record } from "./helpers.js";

const apiError = (json: unknown) => ApiError.parse(json).error;

/** c0re's queue as the stand-in keeps it: #3 spawn alice, #4 alice's config; #2 decided. */
function queue(): Map<number, Approval> {
  const decided = spawnApproval(2, "bob", {
    state: "denied",
    decided_at: Date.now() - 5000,
    decided_by: "operator",
    note: "not now",
  });
  return new Map([
    [2, decided],
    [3, spawnApproval(3, "alice")],
    [4, commitApproval(4, "alice")],
  ]);
}

describe("approvals API (c0re stood in for on NATS)", () => {
  const t = harnessScope({ requestTimeoutMs: 300 });
  let approvals: Map<number, Approval>;

  /** c0re's three approval subjects, over `approvals`: deciding twice is a conflict. */
  const c0re = async () => {
    approvals = queue();
    const decide = (id: number, state: "approved" | "denied", note: string | null) => ({
      approval: decideIn(approvals, id, state, note),
    });
    const list = record(t.h.nc, subjects.op.approvals, rpcs.opApprovals, (req) => ({
      approvals: [...approvals.values()]
        .filter((a) => req.all === true || a.state === "pending")
        .sort((a, b) => b.id - a.id),
    }));
    const approve = record(t.h.nc, subjects.op.approve, rpcs.opApprove, (req) =>
      decide(req.id, "approved", "alice is starting"),
    );
    const deny = record(t.h.nc, subjects.op.deny, rpcs.opDeny, (req) =>
      decide(req.id, "denied", req.reason ?? null),
    );
    for (const r of [list, approve, deny]) await t.keep(r);
    return { list, approve, deny };
  };

  it("GET /api/approvals lists pending ones, ?all=true decided ones too", async () => {
    const { list } = await c0re();
    const pending = await call(t.h.app, "GET", "/api/approvals");
    assert.equal(pending.status, 200);
    assert.deepEqual(
      api.approvals.reply.parse(pending.json()).approvals.map((a) => a.id),
      [4, 3],
    );
    const all = await call(t.h.app, "GET", "/api/approvals?all=true");
    const got = api.approvals.reply.parse(all.json()).approvals;
    assert.deepEqual(
      got.map((a) => [a.id, a.state]),
      [
        [4, "pending"],
        [3, "pending"],
        [2, "denied"],
      ],
    );
    const commit = got[0];
    assert.equal(commit?.kind, "apply_commit");
    assert.match(
      commit.details.diff,
      /^\+ {2}"model": "sonnet",$/m,
      "the diff comes through whole",
    );

    const bad = await call(t.h.app, "GET", "/api/approvals?all=yes-please");
    assert.equal(bad.status, 400);
    assert.match(apiError(bad.json()).message, /^querystring\.all: /);
    const unknown = await call(t.h.app, "GET", "/api/approvals?state=pending");
    assert.equal(unknown.status, 400);
    assert.deepEqual(
      list.seen.map((s) => s.req),
      [{}, { all: true }],
    );
  });

  it("approve and deny (with or without a reason) ask hive.op.approve / hive.op.deny", async () => {
    const { approve, deny } = await c0re();
    const yes = await call(t.h.app, "POST", api.approve.url(3), { body: {} });
    assert.equal(yes.status, 200);
    const approved = api.approve.reply.parse(yes.json()).approval;
    assert.deepEqual(
      [approved.id, approved.state, approved.note],
      [3, "approved", "alice is starting"],
    );

    const no = await call(t.h.app, "POST", api.deny.url(4), { body: { reason: "  keep haiku " } });
    assert.equal(no.status, 200);
    const denied = api.deny.reply.parse(no.json()).approval;
    assert.deepEqual([denied.state, denied.note], ["denied", "keep haiku"]);
    assert.deepEqual(approve.seen, [{ subject: subjects.op.approve, req: { id: 3 } }]);
    assert.deepEqual(deny.seen, [
      { subject: subjects.op.deny, req: { id: 4, reason: "keep haiku" } },
    ]);

    approvals.set(5, spawnApproval(5, "carol"));
    const bare = await call(t.h.app, "POST", api.deny.url(5), { body: {} });
    assert.equal(bare.status, 200);
    assert.deepEqual(deny.seen[1]?.req, { id: 5 }, "no reason: none sent");
  });

  it("deciding twice is 409 and an unknown id 404; nothing changes", async () => {
    const { approve, deny } = await c0re();
    assert.equal((await call(t.h.app, "POST", api.approve.url(3), { body: {} })).status, 200);
    const again = await call(t.h.app, "POST", api.deny.url(3), { body: { reason: "oops" } });
    assert.equal(again.status, 409);
    assert.deepEqual(apiError(again.json()), {
      code: "conflict",
      message: "approval #3 is approved already",
      retryable: false,
    });
    const twice = await call(t.h.app, "POST", api.approve.url(2), { body: {} });
    assert.equal(twice.status, 409);
    const ghost = await call(t.h.app, "POST", api.approve.url(99), { body: {} });
    assert.equal(ghost.status, 404);
    assert.equal(apiError(ghost.json()).message, "no approval #99");
    assert.equal(approvals.get(3)?.state, "approved");
    assert.equal(approvals.get(2)?.note, "not now");
    assert.equal(approve.seen.length + deny.seen.length, 4);
  });

  it("refuses malformed ids and bodies before they reach NATS", async () => {
    const { approve, deny } = await c0re();
    await expectBadBodies(t.h.app, api.approve.url(3), [
      [{ id: 4 }, /id/],
      [[], /^body: /],
      ["yes", /^body: /],
    ]);
    await expectBadBodies(t.h.app, api.deny.url(3), [
      [{ reason: 5 }, /^body\.reason: /],
      [{ reason: "   " }, /^body\.reason: /],
      [{ reason: "x".repeat(1001) }, /^body\.reason: /],
      [{ reason: "no", id: 4 }, /id/],
      [[], /^body: /],
    ]);
    for (const id of ["abc", "0", "-1", "1.5"]) {
      const r = await call(t.h.app, "POST", `/api/approvals/${id}/approve`, { body: {} });
      assert.equal(r.status, 400, id);
      assert.match(apiError(r.json()).message, /^params\.id: /, id);
    }
    assert.equal(approve.seen.length + deny.seen.length, 0, "nothing reached c0re");
    assert.equal(approvals.get(3)?.state, "pending");
  });
});
