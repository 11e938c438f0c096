/** Test plumbing: real nats-server on a free port, waiting on conditions with deadlines. */
export * from "./nats-server.js";
export * from "./tmp.js";
export * from "./wait.js";
