import * as z from "zod";

/** A service process `hive up` runs: `nats-server`, `broker`, `c0re`, `web`, `model-server`, ... */
export const ServiceName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, "service names are lowercase words joined by dashes");
export type ServiceName = z.infer<typeof ServiceName>;

/**
 * `hive.events.service.<name>` event, published by `hive up` as it supervises its services:
 * one came up, exited on its own, is being restarted after a pause, or was given up on (the hive
 * then stops).
 */
export const ServiceEvent = z.strictObject({
  service: ServiceName,
  event: z.enum(["started", "exited", "restarting", "gave_up"]),
  /** Unix ms. */
  at: z.number().int(),
  /** `exited`: how ("code 1", "signal SIGKILL"); `restarting`: "in 2000 ms"; `gave_up`: why. */
  detail: z.string().max(500).optional(),
  /** Starts of this service since `hive up` began, the first included. */
  starts: z.number().int().nonnegative(),
});
export type ServiceEvent = z.infer<typeof ServiceEvent>;
