import { grantsFor, type Identity, SERVICE_IDENTITIES } from "./grants.js";

/**
 * The permissions of every kind of identity as a markdown table: docs/architecture.md carries
 * it between `<!-- grants:start -->` and `<!-- grants:end -->`, and a test checks the two are
 * the same (`node scripts/grants-table.mjs` prints it after a build).
 */

/** An agent's name in the table: the subjects are shown for `<name>`. */
const PLACEHOLDER = "<name>";

const ROWS: { who: string; id: Identity }[] = [
  { who: "agent (its harness)", id: { kind: "agent", name: PLACEHOLDER, role: "agent" } },
  { who: "manager (its harness)", id: { kind: "agent", name: PLACEHOLDER, role: "manager" } },
  ...SERVICE_IDENTITIES.map((name) => ({
    who: name === "supervisor" ? "supervisor (`hive up`)" : name,
    id: { kind: "service", name } as const,
  })),
  { who: "operator (`hive` commands)", id: { kind: "operator" } },
];

const cell = (subjects: readonly string[]): string =>
  subjects.map((s) => `\`${s.replaceAll("|", "\\|")}\``).join(" ");

export function grantsTable(): string {
  const lines = [
    "| identity | may publish | may subscribe | answers requests |",
    "| --- | --- | --- | --- |",
  ];
  for (const { who, id } of ROWS) {
    const g = grantsFor(id);
    lines.push(
      `| ${who} | ${cell(g.publish)} | ${cell(g.subscribe)} | ${g.responds ? "yes" : "no"} |`,
    );
  }
  return lines.join("\n");
}
