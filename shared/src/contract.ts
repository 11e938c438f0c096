/**
 * The wire contract alone: names, the error catalog, every payload's zod schema and the subject
 * builders. It imports nothing but zod, so the dashboard's browser code can use the same schemas
 * and types (`@hyperhive/shared/contract`).
 */
export * from "./errors.js";
export * from "./names.js";
export * from "./schemas/agent.js";
export * from "./schemas/approvals.js";
export * from "./schemas/broker.js";
export * from "./schemas/c0re.js";
export * from "./schemas/config.js";
export * from "./schemas/control.js";
export * from "./schemas/files.js";
export * from "./schemas/hive.js";
export * from "./schemas/questions.js";
export * from "./schemas/scheduler.js";
export * from "./schemas/socket.js";
export * from "./subjects.js";
