import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tempDir } from "@hyperhive/shared/testing";
import { describe, it } from "vitest";
import {
  BadPortFileError,
  keepNatsPort,
  keptNatsPort,
  operatorToken,
  readToken,
  rotateToken,
} from "../src/identity.js";
import { rootPaths } from "../src/paths.js";

const mode = (p: string) => statSync(p).mode & 0o777;

describe("the kept identity of a hive (token, NATS port)", () => {
  it("makes the token once, owner-only, and keeps it until rotated", () => {
    const tmp = tempDir("hive-identity-");
    try {
      const paths = rootPaths(tmp.path);
      assert.equal(readToken(paths), undefined);
      const token = operatorToken(paths);
      assert.match(token, /^[A-Za-z0-9_-]{32}$/);
      assert.equal(operatorToken(paths), token, "kept");
      assert.equal(mode(paths.privateDir), 0o700);
      assert.equal(mode(paths.tokenFile), 0o600);
      const rotated = rotateToken(paths);
      assert.notEqual(rotated, token);
      assert.equal(readFileSync(paths.tokenFile, "utf8"), `${rotated}\n`);
      assert.equal(mode(paths.tokenFile), 0o600);
      assert.equal(operatorToken(paths), rotated);
    } finally {
      tmp.remove();
    }
  });

  it("narrows a private dir or file someone widened", () => {
    const tmp = tempDir("hive-identity-");
    try {
      const paths = rootPaths(tmp.path);
      mkdirSync(paths.privateDir, { mode: 0o755 });
      chmodSync(paths.privateDir, 0o755);
      writeFileSync(paths.tokenFile, "t".repeat(32), { mode: 0o644 });
      assert.equal(operatorToken(paths), "t".repeat(32));
      assert.equal(mode(paths.tokenFile), 0o600);
      keepNatsPort(paths, 4333);
      assert.equal(mode(paths.privateDir), 0o700);
    } finally {
      tmp.remove();
    }
  });

  it("keeps the NATS port; a file that holds no port is named", () => {
    const tmp = tempDir("hive-identity-");
    try {
      const paths = rootPaths(tmp.path);
      assert.equal(keptNatsPort(paths), undefined);
      keepNatsPort(paths, 41234);
      assert.equal(keptNatsPort(paths), 41234);
      assert.equal(mode(paths.natsPortFile), 0o600);
      writeFileSync(paths.natsPortFile, "lots\n");
      assert.throws(() => keptNatsPort(paths), BadPortFileError);
      assert.throws(() => keptNatsPort(paths), /nats-port does not hold a port \("lots"\)/);
    } finally {
      tmp.remove();
    }
  });
});
