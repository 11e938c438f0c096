import { AgentName, Recipient } from "@hyperhive/shared/contract";
import * as z from "zod";
import { agentQuery } from "./events.js";
import { AgentParams, FlowQuery } from "./requests.js";

/** The pages; the server renders a shell, the bundled UI fills it. */
export const pages = {
  dashboard: { path: "/" },
  agent: {
    path: "/agents/:name",
    url: (name: AgentName) => `/agents/${encodeURIComponent(name)}`,
    params: AgentParams,
  },
  /** Who wrote to whom, threads folded, delivery states live; `?agent=` for one's mail. */
  flow: {
    path: "/flow",
    url: (agent?: Recipient) => `/flow${agentQuery(agent)}`,
    query: FlowQuery,
  },
} as const;

/**
 * Which page the shell asks the UI to render: `<main id="app" data-page=… data-agent=…>`. Parsed
 * by the UI at start, so a shell and a bundle that disagree fail loudly.
 */
export const PageData = z.discriminatedUnion("page", [
  z.strictObject({ page: z.literal("dashboard") }),
  z.strictObject({ page: z.literal("agent"), agent: AgentName }),
  z.strictObject({ page: z.literal("flow"), agent: Recipient.optional() }),
]);
export type PageData = z.infer<typeof PageData>;
