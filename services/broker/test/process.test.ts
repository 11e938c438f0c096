import assert from "node:assert/strict";
import { join } from "node:path";
import {
  openDatabase,
  request,
  rpcs,
  type SendResponse,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  tempDir,
  waitUntil,
  withTimeout,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, it } from "vitest";
import { AGENTS, type BrokerProcess, spawnBroker as spawn } from "./helpers.js";

describe("the built broker as a child process", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  const dir = tempDir("hive-broker-proc-");
  // Every broker a test spawned, stopped in afterAll() even when the test failed half-way: a
  // child left running keeps this file's process alive forever.
  const spawned: BrokerProcess[] = [];
  const spawnBroker = async (natsUrl: string, dbPath: string): Promise<BrokerProcess> => {
    const b = await spawn(natsUrl, dbPath);
    spawned.push(b);
    return b;
  };
  let roster: Service;
  beforeAll(async () => {
    server = await natsForTests();
    nc = await connect({ servers: server.url });
    // Stands in for c0re: each broker asks for the roster when it starts.
    roster = serve(nc, subjects.c0re.roster, rpcs.roster, () => ({ agents: AGENTS, at: 1 }));
    await nc.flush();
  });
  afterAll(async () => {
    await roster.stop();
    await Promise.all(spawned.map((b) => b.stop(2000)));
    await nc.drain();
    await server.stop();
    dir.remove();
  });

  it("prints its ready line, answers, and exits 0 on SIGTERM, answering a pending long-poll", async () => {
    const dbPath = join(dir.path, "term.sqlite");
    const broker = await spawnBroker(server.url, dbPath);
    const sent = await request(nc, subjects.agent.send("alice"), rpcs.send, {
      to: "bob",
      body: "hi",
    });
    assert.equal(sent.duplicate, false);
    const got = await request(nc, subjects.agent.recv("bob"), rpcs.recv, { wait_seconds: 0 });
    assert.equal(got.message?.id, sent.id);

    const polling = request(
      nc,
      subjects.agent.recv("carol"),
      rpcs.recv,
      { wait_seconds: 180 },
      {
        timeoutMs: 190_000,
      },
    );
    // The long-poll is in the broker once a later request on the same connection is answered.
    await request(nc, subjects.op.inbox, rpcs.opInbox, {});
    const t = performance.now();
    broker.child.kill("SIGTERM");
    assert.deepEqual(await withTimeout(polling, 5000, "long-poll answered on SIGTERM"), {
      message: null,
      pending: 0,
    });
    assert.deepEqual(await withTimeout(broker.exited, 5000, "exit"), { code: 0, signal: null });
    assert.ok(performance.now() - t < 5000);
  });

  /**
   * `workers` senders (as alice, to `to`, each send retried with its client id until answered)
   * while the broker is killed with SIGKILL after `killAfter` acknowledged sends; then a new
   * broker on the same file. Returns what was acknowledged (client id -> id) and issued, and the
   * file's path, once every send has an answer.
   */
  async function sendThroughKill(
    name: string,
    to: string,
    workers: number,
    killAfter: number,
  ): Promise<{ acked: Map<string, number>; issued: number; dbPath: string }> {
    const dbPath = join(dir.path, `${name}.sqlite`);
    let broker = await spawnBroker(server.url, dbPath);
    const acked = new Map<string, number>(); // client_id -> id from the broker's reply
    const unanswered = new Set<string>();
    let issued = 0;
    let killed = false;
    const body = (cid: string) => `body of ${cid}`;

    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        const cid = `w${w}-${i}`;
        issued++;
        let r: SendResponse;
        try {
          r = await request(
            nc,
            subjects.agent.send("alice"),
            rpcs.send,
            { to, body: body(cid), client_id: cid },
            { timeoutMs: 2000 },
          );
        } catch {
          unanswered.add(cid);
          continue;
        }
        assert.equal(r.duplicate, false);
        acked.set(cid, r.id);
      }
    };
    const running = Array.from({ length: workers }, (_, w) => worker(w));
    await waitUntil(() => acked.size >= killAfter, { timeoutMs: 30_000, intervalMs: 1 });
    broker.child.kill("SIGKILL");
    // The senders go on until the broker is seen dead: stopping them at the kill let them all
    // take the replies it had written before it died and leave none in flight (a flaky miss).
    const exit = await broker.exited;
    killed = true;
    assert.equal(exit.signal, "SIGKILL");
    await Promise.all(running);
    const ackedBeforeCrash = new Map(acked);
    // Each worker had a send in flight when the broker died.
    assert.ok(unanswered.size > 0, "no send was in flight at the kill");
    assert.equal(ackedBeforeCrash.size + unanswered.size, issued);

    broker = await spawnBroker(server.url, dbPath);
    let committedButUnanswered = 0;
    for (const cid of unanswered) {
      const r = await request(nc, subjects.agent.send("alice"), rpcs.send, {
        to,
        body: body(cid),
        client_id: cid,
      });
      if (r.duplicate) committedButUnanswered++;
      acked.set(cid, r.id);
    }
    // A retry of something acknowledged before the crash returns the same id and stores nothing.
    for (const [cid, id] of [...ackedBeforeCrash].slice(0, 20)) {
      const r = await request(nc, subjects.agent.send("alice"), rpcs.send, {
        to,
        body: body(cid),
        client_id: cid,
      });
      assert.deepEqual([r.id, r.duplicate], [id, true]);
    }
    console.log(
      `${name}: ${issued} sends to ${to} from ${workers} at once, ${ackedBeforeCrash.size} ` +
        `acked before kill -9, ${unanswered.size} unanswered ` +
        `(${committedButUnanswered} of them had been committed)`,
    );
    broker.child.kill("SIGTERM");
    assert.equal((await broker.exited).code, 0);
    return { acked, issued, dbPath };
  }

  /** Every acknowledged send is in the file exactly once, with its own id and body. */
  function assertStoredOnce(
    rows: { id: number; client_id: string; body: string }[],
    acked: Map<string, number>,
    issued: number,
  ): void {
    assert.equal(rows.length, issued, "one row per send issued");
    const byCid = new Map(rows.map((r) => [r.client_id, r]));
    assert.equal(byCid.size, rows.length, "no client_id stored twice");
    for (const [cid, id] of acked) {
      const row = byCid.get(cid);
      assert.ok(row, `acknowledged send ${cid} is missing`);
      assert.equal(row.id, id);
      assert.equal(row.body, `body of ${cid}`);
    }
    assert.equal(acked.size, issued);
  }

  it("kill -9 during 64 concurrent sends: every acknowledged send is stored exactly once", async () => {
    const { acked, issued, dbPath } = await sendThroughKill("crash", "bob", 64, 300);
    const db = openDatabase(dbPath, []);
    const rows = db
      .prepare("SELECT id, client_id, body FROM messages WHERE recipient = 'bob' ORDER BY id")
      .all() as { id: number; client_id: string; body: string }[];
    const receipts = db
      .prepare("SELECT count(*) AS n FROM receipts WHERE recipient = 'bob'")
      .get() as { n: number };
    db.close();
    assertStoredOnce(rows, acked, issued);
    assert.equal(receipts.n, rows.length, "one receipt per message");
  });

  it("kill -9 mid-broadcast loses no receipt: every stored broadcast has all of them", async () => {
    const { acked, issued, dbPath } = await sendThroughKill("crash-broadcast", "*", 16, 100);
    const db = openDatabase(dbPath, []);
    const rows = db
      .prepare("SELECT id, client_id, body FROM messages WHERE recipient = '*' ORDER BY id")
      .all() as { id: number; client_id: string; body: string }[];
    const perMessage = db
      .prepare(
        `SELECT m.id, group_concat(r.recipient, ',') AS who FROM messages m
          LEFT JOIN receipts r ON r.message_id = m.id WHERE m.recipient = '*' GROUP BY m.id`,
      )
      .all() as { id: number; who: string | null }[];
    db.close();
    assertStoredOnce(rows, acked, issued);
    const others = AGENTS.filter((a) => a !== "alice").join(",");
    for (const m of perMessage) {
      assert.equal(m.who?.split(",").sort().join(","), others, `receipts of #${m.id}`);
    }
    // And every recipient can still take each of them, once.
    const broker = await spawnBroker(server.url, dbPath);
    const got: number[] = [];
    for (;;) {
      const r = await request(nc, subjects.agent.recvBatch("carol"), rpcs.recvBatch, {
        max: 50,
        wait_seconds: 0,
      });
      if (r.messages.length === 0) break;
      got.push(...r.messages.map((m) => m.id));
    }
    assert.deepEqual(
      got,
      rows.map((r) => r.id),
    );
    await broker.stop(5000);
  });
});
