import { request, rpcs, subjects } from "@hyperhive/shared";
import { filesApi } from "../wire.js";
import type { RouteDeps, WebApp } from "./types.js";

/**
 * An agent's files and log tail, and the shared dir's files, forwarded to c0re
 * (`hive.op.files.*`): the web reads no file itself. Refusals (a symlink, a private file, one over
 * the cap) come back as c0re's typed errors.
 */
export function fileRoutes(app: WebApp, { nc, timeoutMs }: RouteDeps): void {
  const { files, file, log, sharedFiles, sharedFile } = filesApi;
  const unnamed = <Q, R>(r: { query: Q; reply: R }) => ({
    querystring: r.query,
    response: { 200: r.reply },
  });
  const schema = <P, Q, R>(r: { params: P; query: Q; reply: R }) => ({
    params: r.params,
    ...unnamed(r),
  });
  app.route({
    method: files.method,
    url: files.path,
    schema: schema(files),
    handler: (req) =>
      request(
        nc,
        subjects.op.files.list,
        rpcs.opFilesList,
        { agent: req.params.name, ...req.query },
        { timeoutMs },
      ),
  });
  app.route({
    method: file.method,
    url: file.path,
    schema: schema(file),
    handler: (req) =>
      request(
        nc,
        subjects.op.files.read,
        rpcs.opFileRead,
        { agent: req.params.name, path: req.query.path },
        { timeoutMs },
      ),
  });
  app.route({
    method: log.method,
    url: log.path,
    schema: schema(log),
    handler: (req) =>
      request(
        nc,
        subjects.op.files.log,
        rpcs.opAgentLog,
        { agent: req.params.name, ...req.query },
        { timeoutMs },
      ),
  });
  // The shared dir: one for the hive, so no params; the strict query cannot name an agent.
  app.route({
    method: sharedFiles.method,
    url: sharedFiles.path,
    schema: unnamed(sharedFiles),
    handler: (req) =>
      request(
        nc,
        subjects.op.files.list,
        rpcs.opFilesList,
        { shared: true, ...req.query },
        { timeoutMs },
      ),
  });
  app.route({
    method: sharedFile.method,
    url: sharedFile.path,
    schema: unnamed(sharedFile),
    handler: (req) =>
      request(
        nc,
        subjects.op.files.read,
        rpcs.opFileRead,
        { shared: true, path: req.query.path },
        { timeoutMs },
      ),
  });
}
