import assert from "node:assert/strict";
import {
  type AgentInfo,
  AgentLifecycleEvent,
  AgentStateEvent,
  type Approval,
  ApprovalEvent,
  ErrorCode,
  HiveError,
  publishEvent,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import { waitUntil } from "@hyperhive/shared/testing";
import { afterAll, describe, it } from "vitest";
import { browserScope, failedLoad, texts } from "./chromium.js";
import { agentInfo, commitApproval, decideIn, spawnApproval } from "./fixtures.js";
import { type Recorder, record, TOKEN } from "./helpers.js";

describe("the team on the dashboard, in a real headless Chromium (c0re stood in for on NATS)", () => {
  const services: Service[] = [];
  /** c0re's registry and approvals queue as the stand-in keeps them. */
  let agents: AgentInfo[];
  const queue = new Map<number, Approval>();
  let approvalsAsked = 0;
  /** Lifecycle requests, in the order c0re got them. */
  const lifecycle: Array<{ subject: string; req: { name: string } }> = [];
  let purge: Recorder<{ name: string; confirm: string }>;
  /** Approve and deny requests, in the order c0re got them. */
  const decisions: Array<{ subject: string; req: { id: number; reason?: string } }> = [];
  let restartAll: Recorder<Record<string, never>>;
  let releaseRestart: () => void = () => {};

  /** What c0re does on a decision: the change, its event, the reply; deciding twice: conflict. */
  const decide = (id: number, state: "approved" | "denied", note: string | null) => {
    const now = decideIn(queue, id, state, note);
    publishEvent(t.h.nc, subjects.events.approvals, ApprovalEvent, { approval: now });
    return { approval: now };
  };
  const lifecycleEvent = (agent: string, event: AgentLifecycleEvent["event"]) =>
    publishEvent(t.h.nc, subjects.events.agentLifecycle(agent), AgentLifecycleEvent, {
      agent,
      event,
      at: Date.now(),
    });

  const t = browserScope((h) => {
    agents = [
      agentInfo("manager", { model: "sonnet" }),
      agentInfo("alice"),
      agentInfo("bob", { running: false, state: "offline" }),
      agentInfo("zed", { running: false, state: "offline", tombstoned_at: Date.now() - 60_000 }),
    ];
    for (const a of [
      spawnApproval(2, "bob", {
        state: "denied",
        decided_at: Date.now() - 90_000,
        decided_by: "operator",
        note: "not now",
      }),
      spawnApproval(3, "carol"),
      commitApproval(4, "alice"),
    ]) {
      queue.set(a.id, a);
    }
    services.push(
      serve(h.nc, subjects.op.agents, rpcs.opAgents, (req) => ({
        agents: agents.filter((a) => req.all === true || a.tombstoned_at === null),
      })),
      serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
      serve(h.nc, subjects.op.approvals, rpcs.opApprovals, () => {
        approvalsAsked++;
        return { approvals: [...queue.values()].sort((a, b) => b.id - a.id) };
      }),
    );
    const approve = record(h.nc, subjects.op.approve, rpcs.opApprove, (req) => {
      decisions.push({ subject: subjects.op.approve, req });
      return decide(req.id, "approved", `${req.id === 3 ? "carol" : "it"} is starting`);
    });
    const deny = record(h.nc, subjects.op.deny, rpcs.opDeny, (req) => {
      decisions.push({ subject: subjects.op.deny, req });
      return decide(req.id, "denied", req.reason ?? null);
    });
    // One recorder per subject: hive.op.agent.* would take purge's requests too.
    const act = (subject: string) =>
      record(h.nc, subject, rpcs.opAgentLifecycle, (req) => {
        lifecycle.push({ subject, req });
        const a = agents.find((x) => x.name === req.name);
        if (a === undefined) throw new HiveError(ErrorCode.NotFound, `no agent ${req.name}`);
        return { agent: a };
      });
    const { agentStop, agentStart, agentRestart, agentDestroy } = subjects.op;
    const actions = [agentStop, agentStart, agentRestart, agentDestroy].map(act);
    purge = record(h.nc, subjects.op.agentPurge, rpcs.opPurge, (req) => ({
      name: req.name,
      state_dir: `/hive/agents/${req.name}/state`,
    }));
    const released = new Promise<void>((r) => {
      releaseRestart = r;
    });
    restartAll = record(h.nc, subjects.op.restartAll, rpcs.opRestartAll, async () => {
      await released;
      return { restarted: ["manager", "alice"], manager_idle: true };
    });
    services.push(...[approve, deny, ...actions, purge, restartAll].map((r) => r.service));
    return services;
  });

  // A restart-all still waiting must not hold up the stop.
  afterAll(() => releaseRestart());

  it("lists pending approvals first, the config change with its diff, decided ones behind a toggle", async () => {
    await t.page.goto(`${t.url}/?token=${TOKEN}`);
    await t.page.locator('#approvals li[data-id="4"]').waitFor();
    assert.deepEqual(
      await t.page.locator("#approvals > li").evaluateAll((els) => els.map((e) => e.dataset.id)),
      ["3", "4"],
      "pending ones, in the order they were asked",
    );
    assert.equal(await t.page.locator("#approvals-count").textContent(), "2");
    const commit = t.page.locator('#approvals li[data-id="4"]');
    assert.match((await commit.locator(".summary").textContent()) ?? "", /config of alice/);
    assert.match((await commit.locator(".commit-line").textContent()) ?? "", /agents\/alice\.json/);
    assert.deepEqual(await texts(t.page, '#approvals li[data-id="4"] .diff-line.add'), [
      '+  "model": "sonnet",',
    ]);
    assert.deepEqual(await texts(t.page, '#approvals li[data-id="4"] .diff-line.del'), [
      '-  "model": "haiku",',
    ]);
    assert.equal(await commit.locator(".diff-line.hunk").count(), 1);

    const history = t.page.locator("#approvals-history");
    assert.equal(await history.locator('li[data-id="2"]').isVisible(), false, "folded");
    await history.locator("summary").click();
    const bob = history.locator('li[data-id="2"]');
    assert.match(
      (await bob.locator(".decided").textContent()) ?? "",
      /^denied by operator at .* — not now$/,
    );
    await t.page.screenshot({ path: "/tmp/hive-approvals.png", fullPage: true });
  });

  it("approves, and denies with a reason; each decision moves to the history by its event", async () => {
    await t.page.locator('#approvals li[data-id="3"] button.approve').click();
    await t.page.locator('#approvals-history li[data-id="3"][data-state="approved"]').waitFor();
    assert.match(
      (await t.page.locator('#approvals-history li[data-id="3"] .decided').textContent()) ?? "",
      /— carol is starting$/,
    );

    const commit = t.page.locator('#approvals li[data-id="4"]');
    await commit.locator("input.reason").fill("keep haiku for now");
    await commit.locator("button.deny").click();
    await t.page.locator('#approvals-history li[data-id="4"][data-state="denied"]').waitFor();
    assert.equal(
      await t.page.locator("#approvals > li.empty").textContent(),
      "nothing waits for you",
    );
    assert.equal(await t.page.locator("#approvals-count").count(), 0);
    assert.deepEqual(decisions, [
      { subject: subjects.op.approve, req: { id: 3 } },
      { subject: subjects.op.deny, req: { id: 4, reason: "keep haiku for now" } },
    ]);
  });

  it("shows a new approval and its decision live from events, without asking for the list again", async () => {
    const asked = approvalsAsked;
    const dave = spawnApproval(5, "dave");
    queue.set(5, dave);
    publishEvent(t.h.nc, subjects.events.approvals, ApprovalEvent, { approval: dave });
    await t.page.locator('#approvals li[data-id="5"][data-state="pending"]').waitFor();
    assert.equal(await t.page.locator("#approvals-count").textContent(), "1");

    // Decided elsewhere (`hive approve 5`): the event moves it, the buttons go.
    decide(5, "approved", "dave is starting");
    await t.page.locator('#approvals-history li[data-id="5"][data-state="approved"]').waitFor();
    assert.equal(await t.page.locator('#approvals li[data-id="5"]').count(), 0);
    assert.equal(approvalsAsked, asked, "no refetch: events carry every change");
  });

  it("says inline when an approval was decided already (conflict), changing nothing", async () => {
    const erin = spawnApproval(6, "erin");
    queue.set(6, erin);
    publishEvent(t.h.nc, subjects.events.approvals, ApprovalEvent, { approval: erin });
    await t.page.locator('#approvals li[data-id="6"]').waitFor();
    // Denied behind the page's back, its event lost: the page still shows it pending.
    queue.set(6, { ...erin, state: "denied", decided_at: Date.now(), decided_by: "operator" });
    await t.page.locator('#approvals li[data-id="6"] button.approve').click();
    const problem = t.page.locator('#approvals li[data-id="6"] [role="alert"]');
    await problem.waitFor({ state: "visible" });
    assert.equal(await problem.textContent(), "conflict: approval #6 is denied already");
    assert.equal(await problem.getAttribute("data-code"), "conflict");
    assert.deepEqual(t.errors.splice(0), [failedLoad(409, "Conflict")]);
    assert.equal(queue.get(6)?.state, "denied");
  });

  it("shows each agent's model chip, following the model its harness says in state events", async () => {
    const chip = t.page.locator('#agents tr[data-agent="alice"] .chip.model');
    assert.equal(await chip.textContent(), "haiku");
    assert.equal(
      await t.page.locator('#agents tr[data-agent="manager"] .chip.model').textContent(),
      "sonnet",
    );
    const say = (state: AgentStateEvent["state"], model?: string) =>
      publishEvent(t.h.nc, subjects.events.agentState("alice"), AgentStateEvent, {
        agent: "alice",
        state,
        since: Date.now(),
        ...(model === undefined ? {} : { model }),
      });
    say("idle", "opus");
    await t.page
      .locator('#agents tr[data-agent="alice"] .chip.model', { hasText: "opus" })
      .waitFor();
    // c0re's offline says no model: the chip keeps the last one said.
    say("offline");
    await t.page.locator('#agents tr[data-agent="alice"] .badge', { hasText: "offline" }).waitFor();
    assert.equal(await chip.textContent(), "opus");
    say("idle", "haiku");
    await t.page
      .locator('#agents tr[data-agent="alice"] .chip.model', { hasText: "haiku" })
      .waitFor();
  });

  it("stops, starts and restarts a sub-agent; none of it for the manager", async () => {
    assert.equal(await t.page.locator('#agents tr[data-agent="manager"] .actions').count(), 0);
    const alice = t.page.locator('#agents tr[data-agent="alice"]');
    assert.equal(await alice.locator("button.act-start").isDisabled(), true, "it runs");
    await alice.locator("button.act-stop").click();
    await waitUntil(() => lifecycle.length === 1, { what: "c0re to be asked to stop alice" });
    lifecycleEvent("alice", "stopped");
    await alice.locator("td.muted", { hasText: "stopped" }).waitFor();
    await alice.locator("button.act-start:not([disabled])").click();
    await waitUntil(() => lifecycle.length === 2, { what: "c0re to be asked to start" });
    lifecycleEvent("alice", "started");
    await alice.locator("td.running").waitFor();
    await alice.locator("button.act-restart").click();
    await waitUntil(() => lifecycle.length === 3, { what: "c0re to be asked to restart" });
    assert.deepEqual(lifecycle, [
      { subject: subjects.op.agentStop, req: { name: "alice" } },
      { subject: subjects.op.agentStart, req: { name: "alice" } },
      { subject: subjects.op.agentRestart, req: { name: "alice" } },
    ]);
  });

  it("destroys only after a second yes; the tombstone shows live and is purged once its name is typed", async () => {
    const bob = t.page.locator('#agents tr[data-agent="bob"]');
    await bob.locator("button.act-destroy-ask").click();
    await bob.locator("button.act-keep").click();
    await bob.locator("button.act-destroy-ask").click();
    assert.equal(lifecycle.length, 3, "asking is not doing");
    await bob.locator('button[data-action="destroy"]').click();
    await waitUntil(() => lifecycle.length === 4, { what: "c0re to be asked to destroy" });
    assert.deepEqual(lifecycle[3], {
      subject: subjects.op.agentDestroy,
      req: { name: "bob" },
    });
    lifecycleEvent("bob", "destroyed");
    await t.page.locator('#tombstones tr[data-agent="bob"]').waitFor();
    assert.equal(await bob.count(), 0, "no longer among the active agents");
    assert.deepEqual(
      await t.page.locator("#send-to option").evaluateAll((els) => els.map((e) => e.textContent)),
      ["manager", "alice", "* (every agent)"],
      "nor among those the operator can write to",
    );

    const zed = t.page.locator('#tombstones tr[data-agent="zed"]');
    await zed.locator("button.purge-ask").click();
    const go = zed.locator("button.purge-go");
    assert.equal(await go.isDisabled(), true);
    await zed.locator("input.purge-confirm").fill("ze");
    assert.equal(await go.isDisabled(), true, "not the name yet");
    await zed.locator("input.purge-confirm").fill("zed");
    await go.click();
    await zed.locator(".status", { hasText: "purged: /hive/agents/zed/state deleted" }).waitFor();
    assert.deepEqual(purge.seen, [
      { subject: subjects.op.agentPurge, req: { name: "zed", confirm: "zed" } },
    ]);
    lifecycleEvent("zed", "purged");
    await zed.waitFor({ state: "detached" });
    assert.deepEqual(
      await t.page
        .locator("#tombstones tr[data-agent]")
        .evaluateAll((els) => els.map((e) => e.getAttribute("data-agent"))),
      ["bob"],
    );
  });

  it("shows a created agent live (its lifecycle event), model chip included", async () => {
    agents.push(agentInfo("carol", { model: "opus" }));
    lifecycleEvent("carol", "created");
    const chip = t.page.locator('#agents tr[data-agent="carol"] .chip.model');
    await chip.waitFor();
    assert.equal(await chip.textContent(), "opus");
  });

  it("restart all asks first, then shows its progress until c0re answers", async () => {
    await t.page.locator("#restart-all-button").click();
    await t.page.locator("#restart-all-yes").click();
    const status = t.page.locator("#restart-all-status");
    await t.page.locator('#restart-all-status[data-busy="true"]').waitFor();
    assert.match((await status.textContent()) ?? "", /restarting: the manager first/);
    assert.equal(await t.page.locator("#restart-all-button").isDisabled(), true);
    await waitUntil(() => restartAll.seen.length === 1, { what: "c0re to be asked" });
    releaseRestart();
    await t.page.locator("#restart-all-status", { hasText: "restarted manager, alice" }).waitFor();
    assert.equal(restartAll.seen.length, 1);
  });
});
