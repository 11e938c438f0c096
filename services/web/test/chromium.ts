import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

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
