/**
 * The dashboard's own wire: every HTTP API route with its request and reply schemas, and every
 * server-sent event with its payload schema. The server validates what it receives and what it
 * sends with these; the page parses what it receives with the same ones. Browser-safe: it imports
 * only zod and `@hyperhive/shared/contract`. Split by area under `wire/`: errors, requests (params,
 * queries, bodies), the API catalog, the event streams, the pages.
 */
export * from "./wire/api.js";
export * from "./wire/errors.js";
export * from "./wire/events.js";
export * from "./wire/files.js";
export * from "./wire/pages.js";
export * from "./wire/requests.js";
