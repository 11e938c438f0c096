#!/usr/bin/env node
// The test command: lint, typecheck+build (turbo), then every package's tests one package at a
// time (turbo), with a closing "N passed, N failed" line summed over all packages.
import { spawn, spawnSync } from "node:child_process";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };

function step(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: "inherit", env });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

step("npx", ["biome", "check", "."]);
step("npx", ["turbo", "run", "build"]);

let passed = 0;
let failed = 0;
const child = spawn("npx", ["turbo", "run", "test", "--concurrency=1", "--continue"], {
  stdio: ["ignore", "pipe", "inherit"],
  env,
});
let buf = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  buf += chunk.toString();
  const lines = buf.split("\n");
  buf = lines.pop() ?? "";
  for (const line of lines) {
    const m = /# (pass|fail) (\d+)\s*$/.exec(line);
    if (m?.[1] === "pass") passed += Number(m[2]);
    if (m?.[1] === "fail") failed += Number(m[2]);
  }
});
child.on("exit", (code) => {
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 && passed > 0 ? 0 : 1);
});
