/**
 * The raw NATS baseline's responder, a process of its own like the broker: answers every request
 * on `bench.echo` with its own payload. Prints `{"ready":"echo"}` once subscribed.
 */
import { watchLifeline } from "@hyperhive/shared";
import { connect } from "@nats-io/transport-node";

const url = process.env.NATS_URL;
if (!url) throw new Error("NATS_URL is not set");
const nc = await connect({ servers: url, name: "bench-echo" });
nc.subscribe("bench.echo", {
  callback: (_err, msg) => {
    msg.respond(msg.data);
  },
});
await nc.flush();
process.stdout.write(`${JSON.stringify({ ready: "echo" })}\n`);
const stop = () => void nc.drain().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Gone with the benchmark, however it ends.
watchLifeline(stop);
