import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import * as z from "zod";

const UserVersion = z.number().int().nonnegative();

export type Db = Database.Database;

/** One schema step; applied once, in order, inside a transaction. */
export interface Migration {
  /** 1, 2, 3, ...: recorded in `PRAGMA user_version`. */
  version: number;
  sql: string;
}

export interface OpenOptions {
  /**
   * `FULL` (default) syncs the WAL on every commit, so an acknowledged write survives power loss,
   * not just a process crash.
   */
  synchronous?: "FULL" | "NORMAL";
}

/** Opens (creating if needed) a sqlite file in WAL mode and brings its schema up to date. */
export function openDatabase(path: string, migrations: Migration[], opts: OpenOptions = {}): Db {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${opts.synchronous ?? "FULL"}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db, migrations);
  return db;
}

/** Applies the migrations newer than the file's `user_version`. */
export function migrate(db: Db, migrations: Migration[]): void {
  const current = UserVersion.parse(db.pragma("user_version", { simple: true }));
  const todo = [...migrations]
    .sort((a, b) => a.version - b.version)
    .filter((m) => m.version > current);
  for (const m of todo) {
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}
