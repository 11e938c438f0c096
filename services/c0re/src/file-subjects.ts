import {
  ErrorCode,
  type FileReadResponse,
  HiveError,
  type Logger,
  type NatsConnection,
  rpcs,
  type Service,
  serve,
  subjects,
} from "@hyperhive/shared";
import type { StateFiles } from "./state-files.js";

export interface FileSubjectsOptions {
  nc: NatsConnection;
  log: Logger;
  files: StateFiles;
}

/** NATS' default max payload, for a connection that has not said its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * Serves the operator's reads of agents' files and of the shared dir (queue group c0re):
 * `hive.op.files.list`, `.read` and `.log`. Only the operator's identities may publish on
 * `hive.op.>`, and only c0re may subscribe here, so the answer always comes from the checks in
 * {@link StateFiles}.
 */
export function serveFiles(o: FileSubjectsOptions): Service[] {
  const { nc, log, files } = o;
  const opts = { queue: "c0re", log };
  const op = subjects.op.files;
  return [
    serve(nc, op.list, rpcs.opFilesList, (r) => files.list(r, r.path, r.after), opts),
    serve(
      nc,
      op.read,
      rpcs.opFileRead,
      async (r) => fitsPayload(nc, await files.read(r, r.path, r.max_bytes)),
      opts,
    ),
    serve(nc, op.log, rpcs.opAgentLog, (r) => files.log(r.agent, r.lines, r.after), opts),
  ];
}

/**
 * Refuses a reply NATS would not carry: text under the cap may still grow past the payload
 * limit once JSON escapes its control characters.
 */
function fitsPayload(nc: NatsConnection, reply: FileReadResponse): FileReadResponse {
  const max = nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  const bytes = Buffer.byteLength(JSON.stringify(reply));
  // Room for the rest of the message: NATS counts only the payload, but leave a margin.
  if (bytes > max - 1024) {
    throw new HiveError(
      ErrorCode.BodyTooLarge,
      `${reply.path} is ${bytes} bytes as a reply, over NATS' ${max}-byte payload limit`,
    );
  }
  return reply;
}
