import { errors, type NatsConnection } from "@nats-io/transport-node";
import { withTimeout } from "./wait.js";

/**
 * Probes of what a NATS connection may do, as the server decides it. A refusal is the server's
 * `-ERR 'Permissions Violation …'` (nats.js reports it as a status event); that something was
 * allowed is known by ordering: the server answers a connection's protocol in order, so once the
 * refusal of a later probe on a subject nobody may use arrives, no refusal of the earlier one is
 * coming.
 */

/** A subject no identity of the hive may publish or subscribe to: the ordering probe's. */
const NOBODY = "hive.probe.nobody";

type Operation = "publish" | "subscription";

interface Violation {
  operation: Operation;
  subject: string;
  queue: string | undefined;
}

/** Every permission violation `nc` is told of from now on; `next` resolves at the next one. */
function watchViolations(nc: NatsConnection): { seen: Violation[]; next: () => Promise<void> } {
  const seen: Violation[] = [];
  const waiters: (() => void)[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error instanceof errors.PermissionViolationError) {
        seen.push({
          operation: s.error.operation === "subscription" ? "subscription" : "publish",
          subject: s.error.subject,
          queue: s.error.queue,
        });
        for (const w of waiters.splice(0)) w();
      }
    }
  })();
  return { seen, next: () => new Promise<void>((resolve) => waiters.push(resolve)) };
}

const watchers = new WeakMap<NatsConnection, ReturnType<typeof watchViolations>>();

function violations(nc: NatsConnection) {
  let w = watchers.get(nc);
  if (!w) {
    w = watchViolations(nc);
    watchers.set(nc, w);
  }
  return w;
}

async function waitFor(
  nc: NatsConnection,
  match: (v: Violation) => boolean,
  what: string,
): Promise<Violation> {
  const w = violations(nc);
  return withTimeout(
    (async () => {
      for (;;) {
        const hit = w.seen.find(match);
        if (hit) {
          w.seen.splice(w.seen.indexOf(hit), 1);
          return hit;
        }
        await w.next();
      }
    })(),
    5000,
    what,
  );
}

/** What one probe found: `refused` by the server, or `allowed`. */
export type ProbeResult = "refused" | "allowed";

/**
 * Whether the server lets `nc` publish to `subject`: it publishes, then publishes to a subject
 * nobody may use; the second refusal arriving alone means the first was allowed.
 */
export async function probePublish(nc: NatsConnection, subject: string): Promise<ProbeResult> {
  violations(nc);
  nc.publish(subject, "probe");
  nc.publish(NOBODY, "probe");
  await nc.flush();
  const v = await waitFor(
    nc,
    (v) => v.operation === "publish" && (v.subject === subject || v.subject === NOBODY),
    `the server's answer to publishing on ${subject}`,
  );
  if (v.subject === NOBODY && subject !== NOBODY) return "allowed";
  // The refusal of `subject` came first: the one of NOBODY follows; take it too.
  await waitFor(nc, (x) => x.operation === "publish" && x.subject === NOBODY, "the probe's end");
  return "refused";
}

/**
 * Whether the server lets `nc` subscribe to `subject` (in `queue`, when given). An allowed
 * subscription is removed again.
 */
export async function probeSubscribe(
  nc: NatsConnection,
  subject: string,
  queue?: string,
): Promise<ProbeResult> {
  violations(nc);
  const sub = nc.subscribe(subject, queue === undefined ? {} : { queue });
  const end = nc.subscribe(NOBODY);
  await nc.flush();
  const v = await waitFor(
    nc,
    (v) => v.operation === "subscription" && (v.subject === subject || v.subject === NOBODY),
    `the server's answer to subscribing to ${subject}`,
  );
  if (v.subject === NOBODY) {
    sub.unsubscribe();
    end.unsubscribe();
    return "allowed";
  }
  await waitFor(
    nc,
    (x) => x.operation === "subscription" && x.subject === NOBODY,
    "the probe's end",
  );
  return "refused";
}
