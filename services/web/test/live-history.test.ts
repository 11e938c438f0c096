import assert from "node:assert/strict";
import { encodeJson, LiveEvent, publishEvent, subjects } from "@hyperhive/shared";
import {
  type NatsServerHandle,
  natsForTests,
  secureNatsForTests,
  startNatsServer,
  waitUntil,
} from "@hyperhive/shared/testing";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import { HISTORY_EVENTS, HISTORY_TURNS, TurnHistory } from "../src/live-history.js";
import { testLog } from "./helpers.js";

/** A live event of `agent`'s turn `n`: its start at seq 0, then notes. */
function ev(agent: string, n: number, seq: number): LiveEvent {
  const common = {
    agent,
    turn_id: `${agent}-1700000000000-${n}`,
    seq,
    at: 1_700_000_000_000 + seq,
  };
  if (seq === 0) {
    return {
      ...common,
      kind: "turn_start",
      message: { id: n, from: "operator", body: `turn ${n}`, redelivered: false },
      pending: 0,
      model: "haiku",
    };
  }
  return { ...common, kind: "note", text: `${agent} turn ${n} event ${seq}` };
}

/** A whole turn: start, `notes` notes, end. */
function turn(agent: string, n: number, notes: number): LiveEvent[] {
  const evs = Array.from({ length: notes + 1 }, (_, seq) => ev(agent, n, seq));
  evs.push({
    agent,
    turn_id: `${agent}-1700000000000-${n}`,
    seq: notes + 1,
    at: 1_700_000_000_000 + notes + 1,
    kind: "turn_end",
    ok: true,
    result: "ok",
  });
  return evs;
}

const key = (e: LiveEvent) => `${e.turn_id}#${e.seq}`;

describe("TurnHistory (the agents' recent turns, from hive.live.*)", () => {
  let server: NatsServerHandle;
  let pub: NatsConnection;
  let sub: NatsConnection;
  const histories: TurnHistory[] = [];

  /** A started history on its own connection; stopped after the test. */
  async function started(
    limits: { maxTurns?: number; maxEvents?: number; maxBytes?: number } = {},
  ) {
    const h = new TurnHistory({ nc: sub, log: testLog(), ...limits });
    histories.push(h);
    await h.start();
    return h;
  }
  const publish = (e: LiveEvent, subject = subjects.live(e.agent)) =>
    publishEvent(pub, subject, LiveEvent, e);
  /** Publishes `evs` and waits until `h` keeps the last one. */
  async function publishAll(h: TurnHistory, evs: readonly LiveEvent[]) {
    for (const e of evs) publish(e);
    const last = evs.at(-1);
    assert.ok(last);
    await waitUntil(() => h.events(last.agent).some((k) => key(k) === key(last)), {
      what: `the history to keep ${key(last)}`,
    });
  }

  beforeAll(async () => {
    server = await natsForTests();
    pub = await connect({ servers: server.url });
    sub = await connect({ servers: server.url });
  });
  afterEach(() => {
    for (const h of histories.splice(0)) h.stop();
  });
  afterAll(async () => {
    await pub.drain();
    await sub.drain();
    await server.stop();
  });

  it("keeps each agent's events apart, in the order published", async () => {
    const h = await started();
    const alice = turn("alice", 1, 2);
    const bob = turn("bob", 1, 1);
    // Interleaved on the wire, apart in the history.
    const mixed = [alice[0], bob[0], alice[1], bob[1], alice[2], bob[2], alice[3]].filter(
      (e) => e !== undefined,
    );
    await publishAll(h, mixed);
    await waitUntil(() => h.events("bob").length === bob.length, { what: "bob's events" });
    assert.deepEqual(h.events("alice"), alice);
    assert.deepEqual(h.events("bob"), bob);
    assert.deepEqual(h.events("carol"), []);
  });

  it("drops malformed events and those whose body names another agent than the subject", async () => {
    const h = await started();
    pub.publish(subjects.live("alice"), "{not json");
    pub.publish(subjects.live("alice"), encodeJson({ ...ev("alice", 1, 1), kind: "bogus" }));
    pub.publish(subjects.live("alice"), encodeJson({ ...ev("alice", 1, 1), extra: true }));
    // Spoofed: bob's name on alice's subject, and alice's name on bob's.
    publish(ev("bob", 1, 0), subjects.live("alice"));
    publish(ev("alice", 9, 0), subjects.live("bob"));
    const kept = turn("alice", 1, 0);
    await publishAll(h, kept);
    assert.deepEqual(h.events("alice"), kept);
    assert.deepEqual(h.events("bob"), []);
    assert.deepEqual(h.turnIds("alice"), ["alice-1700000000000-1"]);
  });

  it(`keeps the last ${HISTORY_TURNS} turns of an agent, dropping the oldest whole`, async () => {
    const h = await started();
    const turns = Array.from({ length: HISTORY_TURNS + 3 }, (_, i) => turn("alice", i + 1, 1));
    await publishAll(h, turns.flat());
    assert.equal(h.turnIds("alice").length, HISTORY_TURNS);
    assert.deepEqual(h.events("alice"), turns.slice(3).flat());
  });

  it(`keeps at most ${HISTORY_EVENTS} events of an agent: whole oldest turns go first`, async () => {
    const h = await started();
    // Three turns of 800 events: the first must go when the third passes 2,000 in all.
    const turns = [1, 2, 3].map((n) => turn("alice", n, 798));
    await publishAll(h, turns.flat());
    assert.deepEqual(h.turnIds("alice"), ["alice-1700000000000-2", "alice-1700000000000-3"]);
    assert.deepEqual(h.events("alice"), [...(turns[1] ?? []), ...(turns[2] ?? [])]);

    // One turn alone over the bound keeps its start and its latest events.
    const long = turn("bob", 1, HISTORY_EVENTS + 50);
    await publishAll(h, long);
    const kept = h.events("bob");
    assert.equal(kept.length, HISTORY_EVENTS);
    assert.deepEqual(kept[0], long[0], "the turn's start stays");
    assert.deepEqual(kept.slice(1), long.slice(-(HISTORY_EVENTS - 1)));
  });

  it("bounds the bytes kept too, and smaller bounds when asked", async () => {
    const small = [1, 2, 3, 4].map((n) => turn("alice", n, 1));
    // A turn of big events pushes out the older turns by size, not by count.
    const big = turn("alice", 5, 2).map((e) =>
      e.kind === "note" ? { ...e, text: "x".repeat(1500) } : e,
    );
    const bytes = (evs: readonly LiveEvent[]) => evs.reduce((n, e) => n + encodeJson(e).length, 0);
    const [, , third, fourth] = small;
    assert.ok(third && fourth);
    // Room for the 4th and 5th turns, not for the 3rd as well.
    const maxBytes = bytes(fourth) + bytes(big) + 10;
    assert.ok(bytes(third) > 10);
    const h = await started({ maxTurns: 3, maxEvents: 10, maxBytes });
    await publishAll(h, small.flat());
    assert.deepEqual(h.events("alice"), small.slice(1).flat(), "3 turns of 3 events");
    await publishAll(h, big);
    assert.deepEqual(h.turnIds("alice"), ["alice-1700000000000-4", "alice-1700000000000-5"]);
    assert.deepEqual(h.events("alice"), [...fourth, ...big]);

    // Over the count in one turn: its start and its latest events stay.
    const long = turn("bob", 1, 20);
    await publishAll(h, long);
    assert.deepEqual(h.events("bob"), [long[0], ...long.slice(-9)]);
  });

  it("follow: the kept events now, then every later one exactly once, until unsubscribed", async () => {
    const h = await started();
    const first = turn("alice", 1, 3);
    await publishAll(h, first);
    const got: LiveEvent[] = [];
    const bobs: LiveEvent[] = [];
    const f = h.follow("alice", (e) => got.push(e));
    h.follow("bob", (e) => bobs.push(e));
    assert.deepEqual(f.events, first);

    const second = turn("alice", 2, 2);
    await publishAll(h, second);
    assert.deepEqual(got, second, "later events, each once, nothing from before");
    assert.deepEqual(bobs, [], "alice's events go to alice's followers only");

    f.unsubscribe();
    await publishAll(h, turn("alice", 3, 0));
    assert.deepEqual(got, second, "nothing after unsubscribe");
  });

  it("follow while events stream in: snapshot then the rest, no gap and no repeat", async () => {
    const h = await started();
    const all = turn("alice", 1, 600);
    for (const e of all) publish(e);
    // Follow while the history is part way through them.
    await waitUntil(() => h.events("alice").length > 0, { intervalMs: 1, what: "a first event" });
    const later: LiveEvent[] = [];
    const f = h.follow("alice", (e) => later.push(e));
    await waitUntil(() => f.events.length + later.length === all.length, {
      what: "every event, kept or followed",
    });
    assert.deepEqual([...f.events, ...later].map(key), all.map(key));
  });

  it("stop ends the followers; a follow after gets its end at once", async () => {
    const h = await started();
    await publishAll(h, turn("alice", 1, 0));
    let ended = 0;
    h.follow(
      "alice",
      () => {},
      () => ended++,
    );
    h.stop();
    assert.equal(ended, 1);
    h.follow(
      "alice",
      () => {},
      () => ended++,
    );
    assert.equal(ended, 2);
  });
});

describe("TurnHistory's subscription", () => {
  it("as the web's NATS identity: may subscribe to hive.live.*, gets an agent's events", async () => {
    const hive = await secureNatsForTests();
    try {
      const web = await hive.connectAs({ kind: "service", name: "web" });
      const alice = await hive.connectAs({ kind: "agent", name: "alice", role: "agent" });
      const h = new TurnHistory({ nc: web, log: testLog() });
      let ended = false;
      await h.start();
      h.follow(
        "alice",
        () => {},
        () => {
          ended = true;
        },
      );
      const evs = turn("alice", 1, 1);
      for (const e of evs) publishEvent(alice, subjects.live("alice"), LiveEvent, e);
      await waitUntil(() => h.events("alice").length === evs.length, { what: "alice's turn" });
      assert.equal(ended, false);
      h.stop();
    } finally {
      await hive.stop();
    }
  });

  it("a refused subscription (a permissions violation) ends the followers and later follows", async () => {
    const server = await startNatsServer({
      extraConfig: `authorization { users = [ { user: web, password: pw, permissions: {
        publish: { allow: [">"] },
        subscribe: { allow: ["_INBOX.>", "hive.events.>"] } } } ] }`,
    });
    const nc = await connect({ servers: server.url, user: "web", pass: "pw" });
    try {
      const h = new TurnHistory({ nc, log: testLog() });
      let ended = 0;
      const onEnd = () => ended++;
      h.follow("alice", () => {}, onEnd);
      await h.start();
      await waitUntil(() => ended === 1, { what: "the follower to end" });
      h.follow("alice", () => {}, onEnd);
      assert.equal(ended, 2, "a follow after the failure ends at once");
      h.stop();
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
