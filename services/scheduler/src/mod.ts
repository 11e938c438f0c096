/** @hyperhive/scheduler: reminders over NATS (run `dist/src/main.js`; tests use these). */
export { DELIVERY_RETRY, Deliverer, MAX_IN_FLIGHT } from "./delivery.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { clientId, duration, LATE_AFTER_MS, occurrence } from "./message.js";
export { Scheduler, type SchedulerOptions } from "./scheduler.js";
export { migrations, ReminderStore } from "./store.js";
