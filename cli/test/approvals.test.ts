import assert from "node:assert/strict";
import { ApprovalResponse, ApprovalsListResponse } from "@hyperhive/shared";
import { describe, it } from "vitest";
import { useFakeHive } from "./fake-hive.js";
import { DIFF } from "./standins.js";

/**
 * `hive approvals`, `hive approve`, `hive deny` as real processes against a stand-in for c0re's
 * approvals queue on a real nats-server: the requests, the table, the diffs, the outcomes.
 */
describe("the approvals commands (c0re stood in for)", () => {
  const hive = useFakeHive();

  it("approvals: the pending ones as a table; --all the decided too; --diff and --json carry diffs", async () => {
    const pending = await hive.asked("approvals");
    assert.equal(pending.code, 0, pending.stderr);
    assert.deepEqual(pending.calls, [{ subject: "hive.op.approvals", payload: {} }]);
    assert.equal(
      pending.stdout,
      [
        "ID  KIND          SUBMITTER  SUMMARY                                 STATE    AGE",
        "3   apply_commit  manager    config of alice: model haiku -> sonnet  pending  1m ago",
        "2   spawn         manager    spawn carol                             pending  3m ago",
        "",
      ].join("\n"),
    );
    const diff = await hive.cli("approvals", "--diff");
    assert.ok(
      diff.stdout.endsWith(`\n\n#3 config of alice (b000000): aaaaaaa..b000000\n${DIFF}`),
      diff.stdout,
    );
    const all = await hive.asked("approvals", "--all");
    assert.deepEqual(all.calls, [{ subject: "hive.op.approvals", payload: { all: true } }]);
    assert.match(all.stdout, /^ID\s+KIND\s+SUBMITTER\s+SUMMARY\s+STATE\s+AGE\s+NOTE$/m);
    assert.match(
      all.stdout,
      /^1\s+spawn\s+manager\s+spawn dave\s+denied\s+2h ago\s+one is enough$/m,
    );
    const json = await hive.cli("approvals", "--json");
    const got = ApprovalsListResponse.parse(JSON.parse(json.stdout)).approvals;
    const change = got.find((a) => a.id === 3);
    assert.equal(change?.kind === "apply_commit" ? change.details.diff : undefined, DIFF);
    hive.state.queue.clear();
    const none = await hive.cli("approvals");
    assert.equal(none.stdout, "(no pending approvals)\n");
    assert.equal((await hive.cli("approvals", "--all")).stdout, "(no approvals)\n");
  });

  it("approve and deny print the outcome as the submitter hears it", async () => {
    const yes = await hive.asked("approve", "2");
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(yes.calls, [{ subject: "hive.op.approve", payload: { id: 2 } }]);
    assert.equal(yes.stdout, "approval #2 spawn carol: approved; carol is starting\n");
    const no = await hive.asked("deny", "3", "--reason", "not now");
    assert.equal(no.code, 0, no.stderr);
    assert.deepEqual(no.calls, [
      { subject: "hive.op.deny", payload: { id: 3, reason: "not now" } },
    ]);
    assert.equal(no.stdout, "approval #3 config of alice (b000000): denied: not now\n");
    hive.reset();
    const bare = await hive.asked("deny", "2", "--json");
    assert.deepEqual(bare.calls, [{ subject: "hive.op.deny", payload: { id: 2 } }]);
    const denied = ApprovalResponse.parse(JSON.parse(bare.stdout)).approval;
    assert.equal(denied.state, "denied");
    assert.equal(denied.note, null);
    const said = await hive.cli("approvals", "--all");
    assert.match(said.stdout, /^2\s+spawn\s+manager\s+spawn carol\s+denied\s+3m ago\s+-$/m);
  });

  it("deciding twice, or an unknown id, is the hive's error in one line (exit 1), nothing retried", async () => {
    assert.equal((await hive.cli("approve", "2")).code, 0);
    const twice = await hive.asked("approve", "2");
    assert.equal(twice.code, 1);
    assert.equal(twice.stderr, "hive: approval #2 is already approved\n");
    assert.equal(twice.calls.length, 1, "a conflict is not tried again");
    const unknown = await hive.asked("deny", "99", "--json");
    assert.equal(unknown.code, 1);
    assert.deepEqual(JSON.parse(unknown.stdout), {
      error: { code: "not_found", message: "no approval #99", retryable: false },
    });
  });

  it("an approval that failed when carried out is a failure: its line on stderr, exit 1", async () => {
    hive.state.failApprovals = true;
    const r = await hive.cli("approve", "3");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      "hive: approval #3 config of alice (b000000): failed: meta moved on; rebase and ask again\n",
    );
    hive.reset();
    hive.state.failApprovals = true;
    const json = await hive.cli("approve", "3", "--json");
    assert.equal(json.code, 1);
    assert.equal(ApprovalResponse.parse(JSON.parse(json.stdout)).approval.state, "failed");
    assert.equal(json.stderr, "");
  });
});
