/** @hyperhive/shared: the wire contract and plumbing every service imports. */
export * from "./config.js";
export * from "./contract.js";
export * from "./hive-root.js";
export * from "./lifecycle.js";
export * from "./lines.js";
export * from "./log.js";
export * from "./nats.js";
export * from "./process.js";
export * from "./rpc.js";
export * from "./sqlite.js";
/** Locating the nats-server binary is also needed outside tests (`hive up` starts one). */
export { findNatsServer } from "./testing/nats-server.js";
