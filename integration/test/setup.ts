// Runs in each test file's worker before the file: testcontainers there must use the engine the
// global setup chose, with the same settings.
import { inject } from "vitest";
import "./context.js";

Object.assign(process.env, inject("integration").env);
