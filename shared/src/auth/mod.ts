export * from "./authority.js";
export * from "./grants.js";
export * from "./store.js";
