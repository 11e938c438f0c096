import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { WebAppOptions } from "../src/app.js";
import { type Harness, startHarness } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";

/** A headless Chromium page that records every script error, console error and CSP violation. */
export interface BrowserSession {
  browser: Browser;
  page: Page;
  /** What went wrong on the page so far; a test takes out what it expected. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium (a missing browser is a failure, not a skip: CI installs it) with one
 * page whose errors, console errors and CSP violations (even caught ones) land in `errors`.
 */
export async function openChromium(): Promise<BrowserSession> {
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: the browser test needs it (apt-get install -y chromium)`,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
  page.setDefaultTimeout(10_000);
  // A CSP violation is an error too (an inline script or style, an eval), even a caught one.
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) =>
      console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));`,
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  return { browser, page, errors, close: () => browser.close() };
}

/** What Chromium logs on the console for a fetch answered with `status` (expected by a test). */
export function failedLoad(status: number, text: string): string {
  return `Failed to load resource: the server responded with a status of ${status} (${text})`;
}

/** The texts of the elements `selector` finds on `page`, trimmed. */
export function texts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) => els.map((e) => e.textContent?.trim() ?? ""));
}

/** The `data-id`s of the elements `selector` finds on `page`, in order. */
export function dataIds(page: Page, selector: string): Promise<Array<string | null>> {
  return page.locator(selector).evaluateAll((els) => els.map((e) => e.getAttribute("data-id")));
}

/** What a block starts beside the app and stops after it: a stand-in, a child process. */
export interface Stoppable {
  stop(): Promise<unknown>;
}

/** Each receipt's recipient and state under `locator` (a message in the flow), in order. */
export function receiptStates(locator: Locator): Promise<Array<[string?, string?]>> {
  return locator
    .locator(".receipt")
    .evaluateAll((els) =>
      els.map((e): [string?, string?] => [e.dataset.recipient, e.dataset.state]),
    );
}

/** A listening app with its stand-ins and a Chromium page, shared by the tests of a block. */
export interface BrowserScope {
  /** The harness (NATS, the app); started by the block's `beforeAll`. */
  readonly h: Harness;
  /** The app's base URL. */
  readonly url: string;
  readonly page: Page;
  /** The page's errors so far: each test must leave none (it takes out those it expected). */
  readonly errors: string[];
}

/**
 * Before the block's tests: a harness listening on a free port, what `setup` starts beside it
 * (stand-ins served on its NATS, services), and Chromium. After each test: no script or console error on the page. After the
 * block: all of it stopped, the browser first.
 */
export function browserScope(
  setup: (h: Harness) => Stoppable[] | Promise<Stoppable[]>,
  opts: Partial<WebAppOptions> = {},
): BrowserScope {
  let harness: Harness | undefined;
  let base: string | undefined;
  let chrome: BrowserSession | undefined;
  const services: Stoppable[] = [];
  beforeAll(async () => {
    harness = await startHarness(opts);
    base = await harness.listen();
    services.push(...(await setup(harness)));
    await harness.nc.flush();
    chrome = await openChromium();
  });
  afterEach(() => {
    assert.deepEqual(chrome?.errors.splice(0), [], "script or console errors on the page");
  });
  afterAll(async () => {
    await chrome?.close();
    await Promise.all(services.map((s) => s.stop()));
    await harness?.stop();
  });
  const started = <T>(v: T | undefined): T => {
    assert.ok(v !== undefined, "the browser scope starts in beforeAll");
    return v;
  };
  return {
    get h() {
      return started(harness);
    },
    get url() {
      return started(base);
    },
    get page() {
      return started(chrome).page;
    },
    get errors() {
      return started(chrome).errors;
    },
  };
}
