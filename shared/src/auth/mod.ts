export * from "./authority.js";
export * from "./claims.js";
export * from "./grants.js";
export * from "./grants-table.js";
export * from "./store.js";
