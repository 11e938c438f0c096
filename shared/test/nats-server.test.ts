import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { describe, it } from "vitest";
import { readNatsPortsFile, startNatsServer } from "../src/nats-server.js";
import { processAlive } from "../src/proc.js";
import { tempDir } from "../src/testing/tmp.js";

describe("startNatsServer (the real nats-server)", () => {
  it("starts on a free port read from its ports file, answers, and stops", async () => {
    const nats = await startNatsServer();
    try {
      assert.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      const nc = await connect({ servers: nats.url });
      await nc.flush();
      await nc.close();
    } finally {
      await nats.stop();
    }
    assert.equal(processAlive(nats.pid!), false);
  });

  it("in a kept dir, restarts on the same port and never reads a stale or half-written ports file", async () => {
    const dir = tempDir("hive-nats-kept-");
    try {
      // What a killed server could leave: a ports file of another pid, and a torn one.
      writeFileSync(`${dir.path}/nats-server_1.ports`, '{"nats":["nats://127.0.0.1:1"]}');
      assert.equal(readNatsPortsFile(dir.path, 1), 1);
      writeFileSync(`${dir.path}/nats-server_2.ports`, '{"nats":["nats://127.0');
      assert.equal(readNatsPortsFile(dir.path, 2), undefined);

      const first = await startNatsServer({ dir: dir.path });
      assert.notEqual(first.port, 1);
      await first.stop();
      const second = await startNatsServer({ dir: dir.path, port: first.port });
      try {
        assert.equal(second.port, first.port);
        assert.ok(readdirSync(dir.path).includes("nats.conf"), "a kept dir is kept");
      } finally {
        await second.stop();
      }
    } finally {
      dir.remove();
    }
  });

  it("fails with the server's own words when the port is taken", async () => {
    const a = await startNatsServer();
    try {
      await assert.rejects(
        startNatsServer({ port: a.port }),
        /exited before ready[\s\S]*address already in use/i,
      );
    } finally {
      await a.stop();
    }
  });
});
