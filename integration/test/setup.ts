// Runs in each test file's worker before the file: testcontainers there must use the engine the
// global setup chose, with the same settings.
// When the run cannot go on (no Docker), this throws its one-line reason: the file fails with it.
import { inject } from "vitest";
import { integrationContext } from "./context.js";

Object.assign(process.env, integrationContext(inject("integration")).env);
