import { z } from "zod";

/** A line `from: operator`, header lines, a blank line, then the body (the model server's rule). */
export const FROM_OPERATOR =
  "(?:^|\\n)[ \\t]*from:[ \\t]*operator[ \\t]*\\r?\\n(?:[ \\t]*\\S[^\\n]*\\r?\\n)*?[ \\t]*\\r?\\n";

/**
 * The manager's script: "spawn <name>" is a request_spawn, "apply <agent> <sha>" a
 * request_apply_commit; "hold-me" is held once; anything else is answered with a pong.
 */
export const SCRIPT = [
  {
    match: `${FROM_OPERATOR}spawn ([a-z][a-z0-9-]*)`,
    reply: [
      { tool_use: { name: "mcp__hyperhive__request_spawn", input: { name: "{{match.1}}" } } },
      { text: "Asked the operator." },
    ],
  },
  {
    match: `${FROM_OPERATOR}apply ([a-z][a-z0-9-]*) ([0-9a-f]{40})`,
    reply: [
      {
        tool_use: {
          name: "mcp__hyperhive__request_apply_commit",
          input: { agent: "{{match.1}}", commit_ref: "{{match.2}}" },
        },
      },
      { text: "Asked the operator." },
    ],
  },
  { match: `${FROM_OPERATOR}hold-me`, times: 1, hold: true, reply: [{ text: "held" }] },
  {
    match: `${FROM_OPERATOR}([\\s\\S]*)`,
    reply: [
      {
        tool_use: {
          name: "mcp__hyperhive__send",
          input: { to: "operator", body: "pong: {{match.1|first_line}}" },
        },
      },
      { text: "Replied to the operator." },
    ],
  },
  { match: "", reply: [{ text: "Noted. Nothing to do." }] },
];

/** What `GET /_requests` of the model server says, as far as the tests read it. */
export const Logged = z.array(
  z.object({
    text: z.string(),
    /** The system prompt: an agent's starts `You are **<name>**`. */
    system: z.string(),
    model: z.string().nullable(),
    compact: z.boolean(),
  }),
);
export type Logged = z.infer<typeof Logged>;
