/**
 * Imported first by the entry point. zod compiles object parsers with `new Function` when it can,
 * and finds out by trying one; the dashboard's CSP (`script-src 'self'`, no 'unsafe-eval') refuses
 * that and reports a violation. Parsing without it is what the page needs anyway.
 */
import * as z from "zod";

z.config({ jitless: true });
