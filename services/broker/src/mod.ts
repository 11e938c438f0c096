/** @hyperhive/broker: durable per-agent inboxes. Other packages run `dist/src/main.js`. */
export * from "./broker.js";
export * from "./store.js";
