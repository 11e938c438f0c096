/**
 * Runs the scheduler benchmark alone (`node bench/dist/src/scheduler-bench.js`) and prints its
 * report as JSON; `npm run bench` runs it with the others.
 */
import { schedulerBench } from "./suites/scheduler.js";

const result = await schedulerBench({ progress: (line) => console.error(line) });
console.log(JSON.stringify(result, null, 2));
