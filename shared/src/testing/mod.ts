/** Test plumbing: real nats-server on a free port, a test clock, waiting with deadlines. */
export * from "./clock.js";
export * from "./nats-server.js";
export * from "./permissions.js";
export * from "./reminders.js";
export * from "./secure-nats.js";
export * from "./tmp.js";
export * from "./wait.js";
