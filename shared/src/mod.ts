/** @hyperhive/shared: the wire contract and plumbing every service imports. */
export * from "./auth/mod.js";
export * from "./clock.js";
export * from "./config.js";
export * from "./contract.js";
export * from "./fs.js";
export * from "./hive-root.js";
export * from "./lifecycle.js";
export * from "./lifeline.js";
export * from "./lines.js";
export * from "./log.js";
export * from "./nats.js";
export * from "./nats-server.js";
export * from "./proc.js";
export * from "./process.js";
export * from "./retry.js";
export * from "./rpc.js";
export * from "./sqlite.js";
