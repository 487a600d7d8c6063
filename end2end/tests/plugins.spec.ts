import { test, expect, ready } from "./fixtures";
import { PROXY, startUpstream, liveService } from "./traffic";

// key-auth and rate-limiting added to a version in the UI (with JavaScript and
// without), a consumer with a generated key, and the embedded data plane answering as
// Kong does: 401 without a key, 200 with it, 429 past the limit with Kong's headers.

/** Waits, when the current minute is about to end, for the next one (the local
 *  rate-limiting windows are whole minutes: a count must not straddle two). */
async function freshMinute() {
  const s = new Date().getUTCSeconds();
  if (s >= 50) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
}

test.describe("plugins and consumers", () => {
  // The refused plugin form answers 422 on purpose; so do the proxy's 401 and 429.
  test.use({ allowHttpErrors: true });

  test("key-auth and rate-limiting on a version; a consumer's generated key through the proxy", async ({
    page,
    api,
    consoleErrors,
    checkA11y,
    unique,
    js,
  }) => {
    test.setTimeout(120_000);
    const upstream = await startUpstream();
    try {
      const svc = await liveService(api, upstream, `Plugins ${unique}`, `pl-${unique}`);
      const versionPath = `/service-hub/${svc.pkg.key}/versions/${svc.version.id}`;
      await page.goto(versionPath);
      await ready(page, js);
      const card = page.locator("#plugins");
      await expect(card.getByRole("heading", { name: "Plugins", exact: true })).toBeVisible();
      await expect(card.getByText("No plugins here yet")).toBeVisible();

      // key-auth with its defaults: the form shows them.
      await card.getByLabel("Add a plugin").selectOption("key-auth");
      await card.getByRole("button", { name: "Configure" }).click();
      await ready(page, js);
      await expect(card.getByRole("heading", { name: "Add key-auth" })).toBeVisible();
      await expect(card.getByLabel("Key names")).toHaveValue("apikey");
      await expect(card.getByLabel("Key in header")).toBeChecked();
      await card.getByRole("button", { name: "Add plugin" }).click();
      await expect(card.locator('tr[data-plugin="key-auth"]')).toBeVisible();
      await expect(card.locator('tr[data-plugin="key-auth"]')).toContainText("Enabled");

      // rate-limiting: Kong's message on a refused minute, then 3 a minute.
      await ready(page, js);
      await card.getByLabel("Add a plugin").selectOption("rate-limiting");
      await card.getByRole("button", { name: "Configure" }).click();
      await ready(page, js);
      const minute = card.getByLabel("Minute", { exact: true });
      await minute.fill("0");
      // Refused after the post: the page comes back with what was typed and why.
      await card.getByRole("button", { name: "Add plugin" }).click();
      await ready(page, js);
      await expect(card.locator('[id="plugins-config.minute-error"]')).toContainText("greater than 0");
      await expect(card.getByLabel("Minute", { exact: true })).toHaveValue("0");
      await card.getByLabel("Minute", { exact: true }).fill("3");
      await card.getByRole("button", { name: "Add plugin" }).click();
      await expect(card.locator('tr[data-plugin="rate-limiting"]')).toContainText("minute: 3");
      await checkA11y();

      // A consumer with a generated key, shown once.
      await page.goto("/runtime-groups/default");
      await ready(page, js);
      await page.getByRole("link", { name: "Manage consumers" }).click();
      await ready(page, js);
      // The form is open while the group has no consumer.
      if (!(await page.getByLabel("Username").isVisible())) {
        await page.locator("summary", { hasText: "New consumer" }).click();
      }
      const username = `app-${unique}`;
      await page.getByLabel("Username").fill(username);
      await page.getByRole("button", { name: "Create consumer" }).click();
      await expect(page.getByRole("heading", { level: 1, name: username })).toBeVisible();
      await ready(page, js);
      await page.getByRole("button", { name: "Generate key" }).click();
      const shown = page.getByTestId("new-api-key");
      await expect(shown).toHaveText(/^\S{32}$/);
      const key = ((await shown.textContent()) ?? "").trim();
      expect(page.url()).not.toContain(key);
      await expect(page.getByTestId("api-keys")).toContainText(key.slice(0, 4));
      await checkA11y();
      await page.reload();
      await ready(page, js);
      await expect(page.getByTestId("new-api-key")).toHaveCount(0);
      await expect(page.locator("body")).not.toContainText(key);

      // The proxy: no key, 401 with Kong's message.
      const url = `${PROXY}${svc.prefix}/hello`;
      await expect
        .poll(async () => (await fetch(url)).status, { timeout: 10_000, intervals: [100, 200, 300] })
        .toBe(401);
      const denied = await fetch(url);
      expect(denied.status).toBe(401);
      expect(await denied.json()).toEqual({ message: "No API key found in request" });

      // With the key: 200, three times a minute (the first 200 counts), then 429.
      await freshMinute();
      const withKey = () => fetch(url, { headers: { apikey: key } });
      await expect
        .poll(async () => (await withKey()).status, { timeout: 10_000, intervals: [100, 200, 300] })
        .toBe(200);
      for (const remaining of ["1", "0"]) {
        const ok = await withKey();
        expect(ok.status).toBe(200);
        expect(ok.headers.get("x-ratelimit-limit-minute")).toBe("3");
        expect(ok.headers.get("ratelimit-remaining")).toBe(remaining);
      }
      const limited = await withKey();
      expect(limited.status).toBe(429);
      expect(limited.headers.get("x-ratelimit-limit-minute")).toBe("3");
      expect(limited.headers.get("ratelimit-remaining")).toBe("0");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await limited.json()).toEqual({ message: "API rate limit exceeded" });
    } finally {
      await upstream.close();
    }
    void consoleErrors;
  });
});
