import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  request,
  rpcs,
  type ServiceProcess,
  serve,
  startService,
  subjects,
} from "@hyperhive/shared";
import { tempDir } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import { api } from "../src/wire.js";
import { browserScope } from "./chromium.js";
import { agentInfo } from "./fixtures.js";
import { call, TOKEN } from "./helpers.js";

/** The real broker and scheduler, built by `npx tsc -b services/scheduler services/broker`. */
const BROKER = fileURLToPath(new URL("../../broker/dist/src/main.js", import.meta.url));
const SCHEDULER = fileURLToPath(new URL("../../scheduler/dist/src/main.js", import.meta.url));
const AGENTS = ["manager", "alice", "bob"];

/** A built service as a child process on the test's NATS, started once its ready line came. */
function spawn(name: string, main: string, natsUrl: string, env: Record<string, string>) {
  return startService({
    name,
    command: process.execPath,
    args: [main],
    env: { PATH: process.env.PATH ?? "", NATS_URL: natsUrl, HIVE_LOG_LEVEL: "warn", ...env },
    readyTimeoutMs: 15_000,
  });
}

describe("reminders with the real scheduler and broker, in a real headless Chromium", () => {
  const dir = tempDir("hive-web-scheduler-");
  const brokerDb = join(dir.path, "broker.sqlite");
  let broker: ServiceProcess;
  let scheduler: ServiceProcess;
  /** Requests the web made of the scheduler's list, and retries, seen on the wire. */
  let lists = 0;
  const retries: unknown[] = [];

  const t = browserScope(async (h) => {
    // c0re's part: who is in the hive (the broker and the scheduler ask at start), and the
    // registry and open threads the pages ask for.
    const c0re = [
      serve(h.nc, subjects.c0re.roster, rpcs.roster, () => ({ agents: AGENTS, at: 1 })),
      serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
        agents: AGENTS.map((n) => agentInfo(n)),
      })),
      serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
    ];
    const watch = h.nc.subscribe(subjects.op.reminders, {
      callback: () => {
        lists++;
      },
    });
    const tries = h.nc.subscribe(subjects.op.retryReminder, {
      callback: (_err, m) => {
        retries.push(m.json());
      },
    });
    await h.nc.flush();
    broker = await spawn("broker", BROKER, h.server.url, { BROKER_DB: brokerDb });
    scheduler = await spawn("scheduler", SCHEDULER, h.server.url, {
      HIVE_SCHEDULER_DB: join(dir.path, "scheduler.sqlite"),
    });
    return [
      ...c0re,
      {
        async stop() {
          watch.unsubscribe();
          tries.unsubscribe();
          await scheduler.stop(5_000);
          await broker.stop(5_000);
          dir.remove();
        },
      },
    ];
  });

  const agentChip = (text: string) =>
    t.page.locator("#agent-reminders", { hasText: text }).waitFor();
  const rowChip = (agent: string, text: string) =>
    t.page
      .locator(`#agents tr[data-agent="${agent}"] .chip.reminders`, { hasText: text })
      .waitFor();

  it("sets a reminder from an agent's page and shows it delivered — the chip moves — without a reload", async () => {
    await t.page.goto(`${t.url}/agents/alice?token=${TOKEN}`);
    await agentChip("0 pending · 0 delivered");
    await t.page.locator("#reminders > li.empty", { hasText: "no reminders" }).waitFor();
    const body = t.page.locator("body");
    await body.evaluate((b) => {
      b.dataset.sameLoad = "yes";
    });
    const listsBefore = lists;

    await t.page.locator("#remind-body").fill("stand up and stretch");
    await t.page.locator("#remind-in").fill("2");
    await t.page.locator("#remind-in-unit").selectOption("seconds");
    await t.page.locator("#remind-button").click();
    const item = t.page.locator("#reminders > li.reminder");
    await item.first().waitFor();
    const id = Number(await item.first().getAttribute("data-id"));
    assert.equal(await item.first().locator(".set-by").textContent(), "set by operator");

    // The scheduler delivers it into alice's inbox; its event moves the list and the chip.
    await t.page
      .locator(`#reminders li[data-id="${id}"][data-state="delivered"]`)
      .waitFor({ timeout: 15_000 });
    await agentChip("0 pending · 1 delivered");
    assert.match(
      (await t.page.locator(`#reminders li[data-id="${id}"] .delivered`).textContent()) ?? "",
      /^delivered 1×, last \ds ago$/,
    );
    assert.equal(
      await body.evaluate((b) => b.dataset.sameLoad),
      "yes",
      "the same page load: nothing was reloaded",
    );
    assert.equal(lists, listsBefore, "no list was asked again: the events carried it");

    const mail = await request(t.h.nc, subjects.agent.recv("alice"), rpcs.recv, {
      wait_seconds: 5,
    });
    assert.equal(mail.message?.from, "reminder");
    assert.match(mail.message?.body ?? "", new RegExp(`^reminder #${id}: stand up and stretch`));
    await request(t.h.nc, subjects.agent.ack("alice"), rpcs.ack, { id: mail.message?.id ?? 0 });
  });

  it("shows a delivery the broker cannot take as a banner with its error; retry now lands it once the broker is back", async () => {
    await t.page.goto(`${t.url}/`);
    await rowChip("bob", "0 pending · 0 delivered");
    await broker.stop(5_000);

    const set = await call(t.h.app, "POST", api.remind.url("bob"), {
      body: { body: "rotate the logs", in_seconds: 1 },
    });
    assert.equal(set.status, 200);
    const id = api.remind.reply.parse(set.json()).reminder.id;
    const banner = t.page.locator('#agents tr.reminder-banner[data-reminders-of="bob"]');
    const item = banner.locator(`li[data-id="${id}"]`);
    await item.waitFor({ timeout: 15_000 });
    assert.match((await item.locator(".last-error").textContent()) ?? "", /^unavailable: /);
    await rowChip("bob", "1 pending · 0 delivered · 1 failing");
    // Its retries back off (1 s, 2 s, 4 s, 8 s): after four, the next is 8 s away — time to
    // bring the broker back and retry by hand well before the scheduler would.
    await item.locator(".attempts", { hasText: "4 failed tries" }).waitFor({ timeout: 20_000 });
    const waiting = await call(t.h.app, "GET", `${api.reminders.path}?agent=bob`);
    const retryAt = api.reminders.reply.parse(waiting.json()).reminders[0]?.retry_at ?? 0;
    broker = await spawn("broker", BROKER, t.h.server.url, { BROKER_DB: brokerDb });

    await item.locator("button.retry-reminder").click();
    await banner.waitFor({ state: "detached", timeout: 10_000 });
    assert.deepEqual(retries, [{ id }], "retry now asked hive.op.retry_reminder");
    await rowChip("bob", "0 pending · 1 delivered");
    const after = await call(t.h.app, "GET", `${api.reminders.path}?agent=bob&all=true`);
    const done = api.reminders.reply.parse(after.json()).reminders.find((r) => r.id === id);
    assert.equal(done?.state, "delivered");
    assert.ok(
      (done?.last_delivered_at ?? Infinity) < retryAt,
      "delivered by the retry, before the scheduler's own next try",
    );
    const mail = await request(t.h.nc, subjects.agent.recv("bob"), rpcs.recv, { wait_seconds: 5 });
    assert.match(mail.message?.body ?? "", new RegExp(`^reminder #${id}: rotate the logs`));
    await request(t.h.nc, subjects.agent.ack("bob"), rpcs.ack, { id: mail.message?.id ?? 0 });
    const again = await request(t.h.nc, subjects.agent.recv("bob"), rpcs.recv, {
      wait_seconds: 0,
    });
    assert.deepEqual([again.message, again.pending], [null, 0], "delivered once");
  });
});
