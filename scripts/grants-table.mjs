#!/usr/bin/env node
// Prints the NATS permissions table of docs/architecture.md from shared/src/auth/grants.ts
// (after a build): paste it between the grants markers when the grants change.
import { grantsTable } from "../shared/dist/src/mod.js";

console.log(grantsTable());
