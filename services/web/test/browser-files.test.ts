import assert from "node:assert/strict";
import {
  ErrorCode,
  type FileEntry,
  type FilesPlace,
  HiveError,
  rpcs,
  serve,
  subjects,
} from "@hyperhive/shared";
import { beforeAll, describe, it } from "vitest";
import { browserScope, failedLoad, texts } from "./chromium.js";
import { agentInfo } from "./fixtures.js";
import { record, TOKEN } from "./helpers.js";

const entry = (name: string, kind: FileEntry["kind"], readable: boolean): FileEntry => ({
  name,
  kind,
  size: 12,
  mtime: Date.now() - 60_000,
  readable,
});

/** Text that would be markup if it were ever rendered as HTML. */
const MARKUP = '<img src=x onerror="window.pwned=1"><b>bold</b>\nsecond line\n';

/** The place a request named, echoed in its answer as c0re does. */
const place = (req: FilesPlace): FilesPlace =>
  "shared" in req ? { shared: true } : { agent: req.agent };

describe("the agent page's files tab, in a real headless Chromium (c0re stood in for)", () => {
  const asked: Array<{ subject: string; req: unknown }> = [];
  const logLines = ["harness: up", "turn 1 done"];

  const t = browserScope((h) => [
    serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("manager"), agentInfo("alice")],
    })),
    serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
    serve(h.nc, subjects.op.threads, rpcs.opThreads, () => ({ threads: [] })),
    record(h.nc, subjects.op.files.list, rpcs.opFilesList, (req, subject) => {
      asked.push({ subject, req });
      const entries =
        req.path === undefined
          ? [
              entry("notes", "dir", true),
              entry("private.md", "file", false),
              entry("link", "symlink", false),
            ]
          : [entry("today.md", "file", true), entry("gone.md", "file", true)];
      return { ...place(req), path: req.path ?? "", entries, truncated: false };
    }).service,
    record(h.nc, subjects.op.files.read, rpcs.opFileRead, (req, subject) => {
      asked.push({ subject, req });
      if (req.path === "notes/gone.md") {
        throw new HiveError(ErrorCode.Forbidden, "notes/gone.md is not world-readable (mode 0600)");
      }
      return {
        ...place(req),
        path: req.path,
        size: MARKUP.length,
        mtime: Date.now(),
        encoding: "utf8" as const,
        content: MARKUP,
      };
    }).service,
    // An offset is a count of lines here: c0re's are bytes, which the page only passes back.
    record(h.nc, subjects.op.files.log, rpcs.opAgentLog, (req, subject) => {
      asked.push({ subject, req });
      const lines = logLines.slice(req.after ?? 0).slice(-(req.lines ?? 100));
      return { agent: req.agent, lines, end: logLines.length };
    }).service,
  ]);
  beforeAll(async () => {
    await t.page.goto(`${t.url}/agents/alice?token=${TOKEN}`);
    await t.page.locator("#conn", { hasText: "live" }).waitFor();
  });

  it("lists the state dir, opens a directory and a file as text, shows a refusal inline, tails the log", async () => {
    const page = t.page;
    assert.deepEqual(asked, [], "nothing is read before a tab is opened");
    await page.click("#files-tab");
    await page.locator('#files li[data-name="notes"] button').waitFor();
    assert.deepEqual(await texts(page, "#files li.file-entry > :first-child"), [
      "notes/",
      "private.md (private)",
      "link (symlink)",
    ]);
    // Nothing to click on what c0re would refuse.
    assert.equal(await page.locator('#files li[data-name="private.md"] button').count(), 0);
    assert.equal(await page.locator('#files li[data-name="link"] button').count(), 0);

    await page.click('#files li[data-name="notes"] button');
    await page.locator('#files li[data-name="today.md"] button').waitFor();
    assert.deepEqual(await texts(page, "#files-crumbs button"), ["state", "notes"]);
    await page.click('#files li[data-name="today.md"] button');
    await page.locator('#file-view[data-path="notes/today.md"]').waitFor();
    assert.equal(await page.locator("#file-text").textContent(), MARKUP, "shown as text");
    assert.equal(await page.locator("#file-view img").count(), 0, "never as markup");
    assert.equal(await page.evaluate(() => "pwned" in globalThis), false);

    await page.click('#files li[data-name="gone.md"] button');
    await page.locator("#files-error", { hasText: "forbidden: notes/gone.md" }).waitFor();
    assert.equal(await page.locator("#file-view").count(), 0);
    t.errors.splice(0).forEach((e) => {
      assert.equal(e, failedLoad(403, "Forbidden"));
    });

    await page.click("#files-crumbs button >> text=state");
    await page.locator('#files li[data-name="notes"]').waitFor();
    assert.equal(await page.locator("#files-error").isHidden(), true);

    await page.click("#log-tab");
    await page.locator("#log-view", { hasText: "turn 1 done" }).waitFor();
    assert.equal(await page.locator("#log-view").textContent(), "harness: up\nturn 1 done");

    assert.deepEqual(asked, [
      { subject: subjects.op.files.list, req: { agent: "alice" } },
      { subject: subjects.op.files.list, req: { agent: "alice", path: "notes" } },
      { subject: subjects.op.files.read, req: { agent: "alice", path: "notes/today.md" } },
      { subject: subjects.op.files.read, req: { agent: "alice", path: "notes/gone.md" } },
      { subject: subjects.op.files.list, req: { agent: "alice" } },
      { subject: subjects.op.files.log, req: { agent: "alice", lines: 200 } },
    ]);
  });

  it("follows the log: with follow ticked, the lines written since its last answer are appended", async () => {
    const page = t.page;
    const from = asked.length;
    await page.check("#log-follow");
    logLines.push("turn 2 done", "turn 3 done");
    await page.locator("#log-view", { hasText: "turn 3 done" }).waitFor();
    assert.equal(
      await page.locator("#log-view").textContent(),
      "harness: up\nturn 1 done\nturn 2 done\nturn 3 done",
    );
    await page.uncheck("#log-follow");
    const follows = asked.slice(from).map((a) => a.req);
    assert.deepEqual(follows[0], { agent: "alice", lines: 2000, after: 2 });
    assert.ok(
      follows.every((r) => JSON.stringify(r).includes('"after"')),
      JSON.stringify(follows),
    );
  });
});

describe("the dashboard's shared files panel, in a real headless Chromium (c0re stood in for)", () => {
  const asked: Array<{ subject: string; req: unknown }> = [];
  /** The `many` directory, listed a page at a time. */
  const MANY = ["a.md", "b.md", "c.md", "d.md", "e.md"];
  /** The `plans` directory: an agent adds to it while the page is open. */
  const plans = [entry("sprint.md", "file", true), entry("locked.md", "file", true)];

  const t = browserScope((h) => [
    serve(h.nc, subjects.op.agents, rpcs.opAgents, () => ({
      agents: [agentInfo("manager"), agentInfo("alice")],
    })),
    serve(h.nc, subjects.op.inbox, rpcs.opInbox, () => ({ messages: [] })),
    record(h.nc, subjects.op.files.list, rpcs.opFilesList, (req, subject) => {
      asked.push({ subject, req });
      // A directory over c0re's page size, in pages of two here.
      if (req.path === "many") {
        const rest = MANY.filter((n) => n > (req.after ?? ""));
        const entries = rest.slice(0, 2).map((n) => entry(n, "file", true));
        return { ...place(req), path: "many", entries, truncated: rest.length > 2 };
      }
      const entries =
        req.path === undefined
          ? [
              entry("plans", "dir", true),
              entry("secret.md", "file", false),
              entry("readme.md", "file", true),
              entry("many", "dir", true),
            ]
          : plans;
      return { ...place(req), path: req.path ?? "", entries, truncated: false };
    }).service,
    record(h.nc, subjects.op.files.read, rpcs.opFileRead, (req, subject) => {
      asked.push({ subject, req });
      if (req.path === "plans/locked.md") {
        throw new HiveError(
          ErrorCode.Forbidden,
          "plans/locked.md is not world-readable (mode 0600)",
        );
      }
      return {
        ...place(req),
        path: req.path,
        size: MARKUP.length,
        mtime: Date.now(),
        encoding: "utf8" as const,
        content: MARKUP,
      };
    }).service,
  ]);
  beforeAll(async () => {
    await t.page.goto(`${t.url}/?token=${TOKEN}`);
    await t.page.locator("#conn", { hasText: "live" }).waitFor();
  });

  it("lists the shared dir on demand, opens a directory and a file as text, shows a refusal, reloads", async () => {
    const page = t.page;
    await page.locator("#shared-files-hint", { hasText: "<root>/shared" }).waitFor();
    assert.deepEqual(asked, [], "nothing is read before the panel is opened");
    assert.equal(await page.locator("#shared-files").count(), 0);

    await page.click("#shared-files-browse");
    await page.locator('#shared-files li[data-name="plans"] button').waitFor();
    assert.deepEqual(await texts(page, "#shared-files li.file-entry > :first-child"), [
      "plans/",
      "secret.md (private)",
      "readme.md",
      "many/",
    ]);
    assert.deepEqual(await texts(page, "#shared-files-crumbs button"), ["shared"]);
    // Nothing to click on what c0re would refuse.
    assert.equal(await page.locator('#shared-files li[data-name="secret.md"] button').count(), 0);

    await page.click('#shared-files li[data-name="plans"] button');
    await page.locator('#shared-files li[data-name="sprint.md"] button').waitFor();
    assert.deepEqual(await texts(page, "#shared-files-crumbs button"), ["shared", "plans"]);
    await page.click('#shared-files li[data-name="sprint.md"] button');
    await page.locator('#shared-file-view[data-path="plans/sprint.md"]').waitFor();
    assert.equal(await page.locator("#shared-file-text").textContent(), MARKUP, "shown as text");
    assert.equal(await page.locator("#shared-file-view img").count(), 0, "never as markup");
    assert.equal(await page.evaluate(() => "pwned" in globalThis), false);

    await page.click('#shared-files li[data-name="locked.md"] button');
    await page
      .locator("#shared-files-error", {
        hasText: "forbidden: plans/locked.md is not world-readable",
      })
      .waitFor();
    assert.equal(await page.locator("#shared-file-view").count(), 0);
    t.errors.splice(0).forEach((e) => {
      assert.equal(e, failedLoad(403, "Forbidden"));
    });

    // An agent writes a file meanwhile: reload lists the directory shown again.
    plans.push(entry("retro.md", "file", true));
    await page.click("#shared-files-reload");
    await page.locator('#shared-files li[data-name="retro.md"] button').waitFor();
    assert.equal(await page.locator("#shared-files-error").isHidden(), true);
    assert.deepEqual(await texts(page, "#shared-files-crumbs button"), ["shared", "plans"]);
    await page.click("#shared-files-crumbs button >> text=shared");
    await page.locator('#shared-files li[data-name="plans"]').waitFor();

    // The agent page's ids are its own: none of them on the dashboard.
    assert.equal(await page.locator("#files, #file-view, #files-error").count(), 0);
    assert.deepEqual(asked, [
      { subject: subjects.op.files.list, req: { shared: true } },
      { subject: subjects.op.files.list, req: { shared: true, path: "plans" } },
      { subject: subjects.op.files.read, req: { shared: true, path: "plans/sprint.md" } },
      { subject: subjects.op.files.read, req: { shared: true, path: "plans/locked.md" } },
      { subject: subjects.op.files.list, req: { shared: true, path: "plans" } },
      { subject: subjects.op.files.list, req: { shared: true } },
    ]);
  });

  it("a directory of several pages: 'more' adds the next page after the last name shown", async () => {
    const page = t.page;
    const from = asked.length;
    await page.click('#shared-files li[data-name="many"] button');
    await page.locator('#shared-files li[data-name="b.md"]').waitFor();
    const names = () => texts(page, "#shared-files li.file-entry > :first-child");
    assert.deepEqual(await names(), ["a.md", "b.md"]);
    await page.click("#shared-files-more");
    await page.locator('#shared-files li[data-name="d.md"]').waitFor();
    assert.deepEqual(await names(), ["a.md", "b.md", "c.md", "d.md"]);
    await page.click("#shared-files-more");
    await page.locator('#shared-files li[data-name="e.md"]').waitFor();
    assert.deepEqual(await names(), ["a.md", "b.md", "c.md", "d.md", "e.md"]);
    assert.equal(await page.locator("#shared-files-more").count(), 0, "the last page: no more");
    assert.deepEqual(
      asked.slice(from).map((a) => a.req),
      [
        { shared: true, path: "many" },
        { shared: true, path: "many", after: "b.md" },
        { shared: true, path: "many", after: "d.md" },
      ],
    );
  });
});
