import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  CommitSha,
  type Logger,
  ModelName,
  type SetModelResponse,
  writeFileAtomic,
} from "@hyperhive/shared";
import { z } from "zod";
import type { RunConfig } from "./run-config.js";

/** `<state>/hyperhive-model`: the operator's `/model`, and the config rev it was set under. */
export const MODEL_FILE = "hyperhive-model";

const ModelOverride = z.strictObject({
  model: ModelName,
  /** The config rev current when it was set; null when the harness ran without a config file. */
  rev: CommitSha.nullable(),
});
type ModelOverride = z.infer<typeof ModelOverride>;

/**
 * Which model the agent's turns use: the operator's override when it was set under the config rev
 * the harness runs now, else the config's model. So `/model` holds across restarts until c0re
 * applies a new config (a new rev), which wins until the next `/model`.
 */
export class ModelChoice {
  readonly #path: string;
  #override: ModelOverride | null;

  constructor(private readonly o: { stateDir: string; run: RunConfig; log?: Logger }) {
    this.#path = join(o.stateDir, MODEL_FILE);
    this.#override = readOverride(this.#path, o.log);
  }

  /** The model the next turn uses. */
  get effective(): ModelName {
    const ov = this.#override;
    return ov !== null && ov.rev === this.o.run.rev ? ov.model : this.o.run.config.model;
  }

  /** The operator's `/model`: persisted under the current rev, used from the next turn on. */
  set(model: ModelName): SetModelResponse {
    const previous = this.effective;
    const ov: ModelOverride = { model, rev: this.o.run.rev };
    writeFileAtomic(this.#path, `${JSON.stringify(ov)}\n`);
    this.#override = ov;
    return { model, previous };
  }
}

/**
 * The override on disk, or null. The file used to hold a bare model name: that still counts, as
 * an override set under no rev (so any config c0re hands over supersedes it). Anything else
 * unreadable is ignored (with a warning): the config's model is a safe answer.
 */
function readOverride(path: string, log?: Logger): ModelOverride | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const v = ModelOverride.safeParse(JSON.parse(text));
    if (v.success) return v.data;
  } catch {
    // Not JSON: maybe the old one-line format.
  }
  const legacy = ModelName.safeParse(text.trim());
  if (legacy.success) return { model: legacy.data, rev: null };
  log?.warn({ path }, "unreadable model override ignored");
  return null;
}
