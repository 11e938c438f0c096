// Regenerates test/fixtures/*.jsonl from the real claude CLI (run after a CLI upgrade):
//   npm run build && node services/harness/dist/test/capture-fixtures.js
// Each fixture is the stream-json stdout of one claude run driven by the harness against the
// scripted model server. A tool, not a test: the test runner only picks up *.test.ts.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJson, encodeJson, LiveEvent } from "@hyperhive/shared";
import { startNatsServer, tempDir, waitUntil } from "@hyperhive/shared/testing";
import { connect } from "@nats-io/transport-node";
import {
  BROKER_MAIN,
  HARNESS_MAIN,
  harnessEnv,
  MODEL_MAIN,
  ModelControl,
  REPO,
  rules,
  serveRoster,
  startNode,
  writeTestPrompts,
} from "./procs.js";

async function capture(): Promise<void> {
  const t = tempDir("hive-capture-");
  const nats = await startNatsServer();
  const nc = await connect({ servers: nats.url });
  serveRoster(nc, ["alice"]);
  await nc.flush();
  const broker = await startNode(BROKER_MAIN, [], {
    env: { NATS_URL: nats.url, BROKER_DB: join(t.path, "b.sqlite") },
  });
  const model = await startNode(MODEL_MAIN, ["--port", "0"]);
  const ctl = new ModelControl(String(model.ready.url));
  const events: LiveEvent[] = [];
  const sub = nc.subscribe("hive.live.alice");
  (async () => {
    for await (const m of sub) events.push(LiveEvent.parse(decodeJson(m.data)));
  })().catch(() => {});
  const harness = await startNode(HARNESS_MAIN, ["serve"], {
    env: harnessEnv(
      {
        natsUrl: nats.url,
        root: t.path,
        agent: "alice",
        prompts: writeTestPrompts(join(t.path, "prompts")),
        modelUrl: String(model.ready.url),
      },
      { HIVE_LOGIN_RETRY_SECONDS: "3600" },
    ),
  });

  async function turn(name: string, body: string): Promise<void> {
    events.length = 0;
    await nc.request("hive.op.send", encodeJson({ to: "alice", body }));
    const end = await waitUntil(() => events.find((e) => e.kind === "turn_end"), {
      timeoutMs: 60_000,
      what: `${name} turn_end`,
    });
    const lines = events.flatMap((e) => (e.kind === "stream" ? [JSON.stringify(e.event)] : []));
    writeFileSync(
      join(REPO, "services/harness/test/fixtures", `${name}.jsonl`),
      `${lines.join("\n")}\n`,
    );
    console.log(name, end, lines.length, "lines");
  }

  await turn("send-to-operator", "hello there");
  await ctl.setScript(rules.promptTooLongOnce);
  await turn("prompt-too-long-then-compact", "this is too long");
  await ctl.setScript([rules.notLoggedIn]);
  await turn("not-logged-in", "are you there?");
  await harness.stop();
  await model.stop();
  await broker.stop();
  await nc.close();
  await nats.stop();
  t.remove();
}

await capture();
