import { test as base, expect, Page, APIRequestContext, request } from "@playwright/test";
import { ADMIN_STATE } from "./accounts";
import AxeBuilder from "@axe-core/playwright";

type Options = {
  /** HTTP 4xx answers this test provokes on purpose (a 404 page, a rejected form). */
  allowHttpErrors: boolean;
};

type Fixtures = {
  /** Console errors and page errors seen during the test; asserted empty at the end. */
  consoleErrors: string[];
  /** Runs axe on the current page and fails on serious or critical violations. */
  checkA11y: () => Promise<void>;
  /** A suffix that keeps names unique across projects and runs. */
  unique: string;
  /** Whether this project runs JavaScript. */
  js: boolean;
  /** The REST API as the signed-in admin, sending our own Origin as a browser would. */
  api: APIRequestContext;
};

export const test = base.extend<Options & Fixtures>({
  allowHttpErrors: [false, { option: true }],
  consoleErrors: async ({ page, allowHttpErrors }, use) => {
    const errors: string[] = [];
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      const text = msg.text();
      if (allowHttpErrors && /the server responded with a status of 4\d\d/.test(text)) return;
      errors.push(text);
    });
    page.on("pageerror", (err) => errors.push(String(err)));
    await use(errors);
    expect(errors, "no console errors").toEqual([]);
  },
  checkA11y: async ({ page }, use, testInfo) => {
    await use(async () => {
      // axe runs in the page, so it needs JavaScript; the no-JS project sees the same HTML.
      if (testInfo.project.name !== "js") return;
      // After a client-side navigation leptos_meta swaps the <title> element while the new
      // page settles; check the page once it has one again.
      await page.waitForFunction(() => !!document.querySelector("title")?.textContent, null, {
        timeout: 5000,
      });
      const results = await new AxeBuilder({ page }).analyze();
      const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(
        bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
        `accessibility of ${page.url()}`,
      ).toEqual([]);
    });
  },
  unique: async ({}, use, testInfo) => {
    const rand = Math.random().toString(36).slice(2, 7);
    await use(`${testInfo.project.name}${rand}`);
  },
  js: async ({}, use, testInfo) => {
    await use(testInfo.project.name === "js");
  },
  api: async ({ baseURL }, use) => {
    const ctx = await request.newContext({
      baseURL,
      storageState: ADMIN_STATE,
      extraHTTPHeaders: { origin: new URL(baseURL!).origin },
    });
    await use(ctx);
    await ctx.dispose();
  },
});

export { expect };

/** Waits until the page is interactive: hydrated with JavaScript, loaded without. */
export async function ready(page: Page, js: boolean) {
  if (js) {
    await page.waitForSelector("body[data-hydrated]");
  } else {
    await page.waitForLoadState("load");
  }
}
