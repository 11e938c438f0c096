#!/usr/bin/env node
// The pre-step of `npm start`, `npm test` and `npm run bench`: makes a fresh machine ready, or
// says in one line what it lacks. Usage: node scripts/ensure-deps.mjs <start|test|bench>.
//  1. Node.js new enough for every dependency (the lock file's strictest engine: vite's).
//  2. The system programs that purpose needs: git and nats-server always; bubblewrap (agents'
//     sandbox) for the tests, and for `start` when it can be installed; Chromium (dashboard tests) and a
//     Docker engine (testcontainers) for the tests. As root with apt they are installed; else one
//     line names what to install.
//  3. The npm dependencies, when node_modules is missing or older than package-lock.json, with a
//     progress line while the first install (a few minutes) runs. `npm install`, not `npm ci`:
//     some registries (mirrors) lack other platforms' optional binaries (biome, turbo), which
//     `npm ci` refuses as an out-of-sync lock file while `npm install` simply skips them.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const purpose = process.argv[2] ?? "start";
const say = (line) => console.error(`hyperhive: ${line}`);
const fail = (line) => {
  say(line);
  process.exit(1);
};

// 1. Node.js
const NODE_MIN = [20, 19];
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < NODE_MIN[0] || (major === NODE_MIN[0] && minor < NODE_MIN[1])) {
  fail(
    `needs Node.js >= ${NODE_MIN.join(".")} (this is ${process.versions.node}): install a newer Node.js`,
  );
}

// 2. System programs: [what is looked for, the Debian package that provides it].
function onPath(name, extra = ["/usr/sbin", "/usr/local/sbin", "/sbin"]) {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(extra);
  return dirs.some((d) => d && existsSync(join(d, name)));
}
const dockerAvailable = () =>
  Boolean(process.env.DOCKER_HOST) || existsSync("/var/run/docker.sock") || onPath("dockerd");
const needs = [
  // c0re keeps the agents' config in a git repo (meta).
  { pkg: "git", present: () => onPath("git") },
  {
    pkg: "nats-server",
    present: () => Boolean(process.env.NATS_SERVER_BIN) || onPath("nats-server"),
  },
];
// c0re's sandbox driver (bwrap): the tests need it; `hive up` runs without it (the unsandboxed
// process driver, said at start), so there it is installed when we can and only mentioned when not.
const bwrap = { pkg: "bubblewrap", present: () => onPath("bwrap") };
if (purpose === "test" || (process.getuid?.() === 0 && onPath("apt-get"))) needs.push(bwrap);
else if (!bwrap.present()) {
  say(
    "bwrap missing: agents will run unsandboxed (Debian/Ubuntu: sudo apt-get install bubblewrap)",
  );
}
if (purpose === "test") {
  needs.push({ pkg: "chromium", present: () => existsSync("/usr/bin/chromium") });
  needs.push({ pkg: "docker.io", present: dockerAvailable });
}
const missing = needs.filter((n) => !n.present()).map((n) => n.pkg);
if (missing.length > 0) {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !onPath("apt-get")) {
    fail(
      `missing ${missing.join(", ")}: install ${missing.length > 1 ? "them" : "it"} first ` +
        `(Debian/Ubuntu: sudo apt-get install ${missing.join(" ")})`,
    );
  }
  say(`installing ${missing.join(", ")} from Debian's packages (apt-get)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Installed, not started: a system dockerd started with its defaults rewrites the host's
  // firewall and turns on IP forwarding (the tests start a private engine without either), and a
  // system nats-server would only hold port 4222. policy-rc.d tells the packages' scripts so.
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(
      policy,
      "#!/bin/sh\n# hyperhive: install services, do not start them\nexit 101\n",
      {
        mode: 0o755,
      },
    );
  }
  let failed;
  for (const args of [
    ["update", "-q"],
    ["install", "-y", "-q", "--no-install-recommends", ...missing],
  ]) {
    const r = spawnSync("apt-get", args, { stdio: ["ignore", "inherit", "inherit"], env });
    if (r.status !== 0) {
      failed = `apt-get ${args[0]} failed (exit ${r.status}); install ${missing.join(" ")} by hand`;
      break;
    }
  }
  if (ownPolicy) rmSync(policy, { force: true });
  if (failed) fail(failed);
  const still = needs.filter((n) => !n.present()).map((n) => n.pkg);
  if (still.length > 0) fail(`apt-get ran but ${still.join(", ")} is still missing`);
}

// 3. npm dependencies
const lock = join(root, "package-lock.json");
const installed = join(root, "node_modules", ".package-lock.json");
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  const fresh = !existsSync(join(root, "node_modules"));
  say(
    `installing npm dependencies (npm install)${fresh ? "; the first install takes a few minutes" : ""}…`,
  );
  const started = Date.now();
  const count = () => {
    try {
      return readdirSync(join(root, "node_modules")).length;
    } catch {
      return 0;
    }
  };
  const progress = setInterval(() => {
    say(
      `still installing: ${Math.round((Date.now() - started) / 1000)} s, ${count()} packages so far…`,
    );
  }, 15_000);
  const child = spawn("npm", ["install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  const code = await new Promise((resolve) =>
    child.on("exit", (c, sig) => resolve(c ?? (sig ? 1 : 0))),
  );
  clearInterval(progress);
  if (code !== 0) fail(`npm install failed (exit ${code}); see the output above`);
  say(`npm dependencies installed in ${Math.round((Date.now() - started) / 1000)} s`);
}
