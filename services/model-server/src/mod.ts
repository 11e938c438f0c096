/**
 * @hyperhive/model-server: a scripted stand-in for the Anthropic Messages API that the real
 * claude CLI runs full turns against, offline.
 */
export * from "./anthropic.js";
export { buildApp, MAX_BODY_BYTES } from "./app.js";
export * from "./engine.js";
export * from "./errors.js";
export * from "./holds.js";
export * from "./request-log.js";
export * from "./script.js";
export * from "./server.js";
export type * from "./types.js";
