import * as z from "zod";
import { AgentName, OPERATOR } from "../names.js";
import { CommitSha } from "./config.js";

/**
 * The approvals queue (c0re): what waits for the operator's yes or no. Creating an agent
 * (`spawn`) and changing any agent's config (`apply_commit`) are the manager's to ask and the
 * operator's to decide.
 */

/** An approval's number, from 1. */
export const ApprovalId = z.number().int().positive();
export type ApprovalId = z.infer<typeof ApprovalId>;

/** `pending` until decided; `failed` when approved but carrying it out failed (the note says why). */
export const ApprovalState = z.enum(["pending", "approved", "denied", "failed"]);
export type ApprovalState = z.infer<typeof ApprovalState>;

const ApprovalBase = {
  id: ApprovalId,
  /** Who asked: the manager (the only agent that may), by name. */
  submitter: AgentName,
  /** One line for the operator, e.g. "spawn alice" or "config of alice: model haiku -> sonnet". */
  summary: z.string().min(1).max(300),
  /** Unix ms. */
  created_at: z.number().int(),
  state: ApprovalState,
  /** Unix ms of the decision; null while pending. */
  decided_at: z.number().int().nullable(),
  /** Who decided (`operator`); null while pending. */
  decided_by: z.literal(OPERATOR).nullable(),
  /** The denial's reason, or what carrying it out came to ("alice is starting", a failure). */
  note: z.string().max(2000).nullable(),
};

/** One entry of the queue. */
export const Approval = z.discriminatedUnion("kind", [
  z.strictObject({
    ...ApprovalBase,
    kind: z.literal("spawn"),
    details: z.strictObject({
      /** The sub-agent to create. */
      name: AgentName,
    }),
  }),
  z.strictObject({
    ...ApprovalBase,
    kind: z.literal("apply_commit"),
    details: z.strictObject({
      /** Whose config the commit changes. */
      agent: AgentName,
      /** The commit, fetched from the manager's clone into the meta repo. */
      commit: CommitSha,
      /** meta's main when it was asked (the diff is against it). */
      base: CommitSha,
      /** `git diff` of `agents/<agent>.json` from `base` to `commit`. */
      diff: z.string().max(200_000),
    }),
  }),
]);
export type Approval = z.infer<typeof Approval>;
export type ApprovalKind = Approval["kind"];

/** `hive.op.approvals` request: the queue, newest first. */
export const ApprovalsListRequest = z.strictObject({
  /** Decided ones too (default: pending only). */
  all: z.boolean().optional(),
});
export type ApprovalsListRequest = z.infer<typeof ApprovalsListRequest>;
export const ApprovalsListResponse = z.strictObject({ approvals: z.array(Approval) });
export type ApprovalsListResponse = z.infer<typeof ApprovalsListResponse>;

/** `hive.op.approve` request. */
export const ApproveRequest = z.strictObject({ id: ApprovalId });
export type ApproveRequest = z.infer<typeof ApproveRequest>;

/** `hive.op.deny` request. */
export const DenyRequest = z.strictObject({
  id: ApprovalId,
  /** Told to the submitter. */
  reason: z.string().trim().min(1).max(1000).optional(),
});
export type DenyRequest = z.infer<typeof DenyRequest>;

/** The reply to approve, deny, request_spawn and request_apply_commit: the approval as it is now. */
export const ApprovalResponse = z.strictObject({ approval: Approval });
export type ApprovalResponse = z.infer<typeof ApprovalResponse>;

/** `hive.events.approvals` event: an approval was created or changed (every change, in order). */
export const ApprovalEvent = z.strictObject({ approval: Approval });
export type ApprovalEvent = z.infer<typeof ApprovalEvent>;
