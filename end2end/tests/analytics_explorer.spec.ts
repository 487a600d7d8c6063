import type { Page } from "@playwright/test";
import { test, expect, ready } from "./fixtures";
import { PROXY, drawnSeries, liveService, startUpstream } from "./traffic";

/** The explorer's series table as { group: total }. */
async function totals(page: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const row of await page.locator("#ax-series tbody tr").all()) {
    const group = (await row.locator("th").innerText()).trim();
    out[group] = (await row.locator(".ax-total").innerText()).trim();
  }
  return out;
}

test.describe("analytics explorer", () => {
  // The refused report name answers 422 on purpose.
  test.use({ allowHttpErrors: true });

  test("a report from real traffic: built, saved, listed, opened, a long name refused, deleted", async ({
    page,
    api,
    unique,
    js,
    consoleErrors,
    checkA11y,
  }) => {
    test.setTimeout(120_000);
    const upstream = await startUpstream();
    try {
      // A package with a live version: an implementation and a route in `default`.
      const display = `Ax ${unique}`;
      const { pkg, prefix } = await liveService(api, upstream, display, `ax-${unique}`);

      // Traffic through the proxy: 3 × 2xx, 2 × 4xx, 1 × 5xx (the first 200 was counted
      // once the data plane served the route).
      for (const status of [200, 200, 404, 404, 500]) {
        expect((await fetch(`${PROXY}${prefix}/status/${status}`)).status).toBe(status);
      }

      // Build the report: requests, by status class, stacked bars, last 24 hours, of
      // this package only.
      await page.goto("/analytics");
      await ready(page, js);
      await expect(page.getByRole("heading", { level: 1, name: "Analytics" })).toBeVisible();
      await expect(page.getByRole("checkbox", { name: "Requests", exact: true })).toBeChecked();
      if (js) {
        // Checked as the user changes the form, before it runs.
        await page.getByLabel("Group by").selectOption("route");
        await page.getByLabel("Then by").selectOption("route");
        await expect(page.locator("#ax-then_by-error")).toHaveText('"then_by" must differ from "group_by".');
        await page.getByLabel("Then by").selectOption("");
        await expect(page.locator("#ax-then_by-error")).toBeEmpty();
        await page.getByRole("checkbox", { name: "Requests", exact: true }).uncheck();
        await expect(page.locator("#ax-metrics-error")).toHaveText("Choose at least one metric.");
        await page.getByRole("checkbox", { name: "Requests", exact: true }).check();
        await expect(page.locator("#ax-metrics-error")).toBeEmpty();
      }
      await page.getByLabel("Group by").selectOption("status_class");
      await page.getByLabel("Chart type").selectOption("stacked_bar");
      await page.getByLabel("Time frame").selectOption("24h");
      await page.getByLabel("Service package").selectOption({ label: display });
      await page.getByRole("button", { name: "Run report" }).click();
      await expect(page).toHaveURL(/group_by=status_class/);
      await expect(page).toHaveURL(new RegExp(`package=${pkg.id}`));
      await ready(page, js);

      // The recorder ships within seconds: reload until the totals are there.
      const expected = { "2xx": "3", "4xx": "2", "5xx": "1" };
      await expect
        .poll(
          async () => {
            await page.reload();
            await ready(page, js);
            return totals(page);
          },
          { timeout: 45_000, intervals: [1_000, 2_000, 3_000] },
        )
        .toEqual(expected);
      await expect(page.getByLabel("Group by")).toHaveValue("status_class");
      await expect(page.getByLabel("Chart type")).toHaveValue("stacked_bar");
      if (js) {
        await expect(page.locator("#chart-explorer canvas").first()).toBeVisible();
        await expect.poll(() => drawnSeries(page, "explorer")).toBe(3);
      } else {
        // Without JavaScript the chart is its table.
        await expect(page.getByTestId("chart-explorer").locator("table")).toBeVisible();
      }

      // The CSV export has the same definition.
      const csvHref = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href");
      expect(csvHref).toContain("/api/v1/analytics/export?");
      expect(csvHref).toContain("group_by=status_class");
      const csv = await (await api.get(csvHref!)).text();
      expect(csv.split("\n")[0]).toBe("bucket_start,metric,unit,group,group_id,then,then_id,value");
      expect(csv).toContain(",request_count,requests,5xx,");

      // Save it with a name: it opens as a report and is listed.
      const name = `Status classes ${unique}`;
      const save = page.locator("#save");
      await save.getByLabel("Report name").fill(name);
      await save.getByLabel("Description").fill("Requests by status class, last 24 hours.");
      await save.getByRole("button", { name: "Save report" }).click();
      await expect(page).toHaveURL(/\/analytics\/reports\/[0-9a-f-]{36}$/);
      const reportPath = new URL(page.url()).pathname;
      await ready(page, js);
      await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
      await expect(page.locator("#reports").getByRole("link", { name, exact: true })).toBeVisible();
      await checkA11y();

      // Opening it from the list shows the same report.
      await page.goto("/analytics");
      await ready(page, js);
      await page.locator("#reports").getByRole("link", { name, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`${reportPath}$`));
      await ready(page, js);
      await expect(page.getByLabel("Group by")).toHaveValue("status_class");
      await expect(page.getByLabel("Chart type")).toHaveValue("stacked_bar");
      await expect(page.getByLabel("Time frame")).toHaveValue("24h");
      await expect(page.getByLabel("Service package")).toHaveValue(pkg.id);
      expect(await totals(page)).toEqual(expected);
      if (js) await expect.poll(() => drawnSeries(page, "explorer")).toBe(3);

      // Edit it: a new name; the definition stays.
      const renamed = `${name} (weekly)`;
      await page.locator("#edit").getByLabel("Name").fill(renamed);
      await page.locator("#edit").getByRole("button", { name: "Save changes" }).click();
      await expect(page.getByRole("heading", { level: 1, name: renamed })).toBeVisible();
      await expect(page).toHaveURL(new RegExp(`${reportPath}$`));
      await ready(page, js);
      await expect(page.locator("#reports").getByRole("link", { name: renamed, exact: true })).toBeVisible();
      expect(await totals(page)).toEqual(expected);

      // A 256-character name is refused on the name field, and nothing is saved.
      const long = "n".repeat(256);
      await page.goto(`/analytics?metrics=request_count&group_by=status_class&package=${pkg.id}`);
      await ready(page, js);
      await page.locator("#save").getByLabel("Report name").fill(long);
      await page.locator("#save").getByRole("button", { name: "Save report" }).click();
      await expect(page.locator("#save-name-error")).toHaveText("A report name is at most 255 characters.");
      await expect(page).toHaveURL(/\/analytics\?/);
      const saved = (await (await api.get("/api/v1/analytics/reports")).json()) as { name: string }[];
      expect(saved.some((r) => r.name === long)).toBe(false);
      expect(saved.filter((r) => r.name === renamed)).toHaveLength(1);

      // A broken definition is explained on its field, by the server.
      await page.goto("/analytics?metrics=request_count&then_by=route");
      await ready(page, js);
      await expect(page.locator("#ax-then_by-error")).toHaveText('"then_by" needs "group_by" first.');

      // Delete it, after confirming.
      await page.goto(reportPath);
      await ready(page, js);
      await page.locator("#reports").getByLabel(`Delete report ${renamed}`).click();
      await page.locator("#reports").getByRole("button", { name: "Yes, delete" }).click();
      await expect(page).toHaveURL(/\/analytics$/);
      await ready(page, js);
      await expect(page.locator("#reports").getByRole("link", { name: renamed, exact: true })).toHaveCount(0);
      const after = (await (await api.get("/api/v1/analytics/reports")).json()) as { name: string }[];
      expect(after.some((r) => r.name === renamed)).toBe(false);
    } finally {
      await upstream.close();
    }
    void consoleErrors;
  });

  test.describe("in Berlin", () => {
    test.use({ timezoneId: "Europe/Berlin" });

    test("a custom range is read in UTC without JavaScript, in the browser's zone with it", async ({ page, js, consoleErrors }) => {
      await page.goto("/analytics");
      await ready(page, js);
      if (js) {
        // Typing a range chooses the custom range; the browser's zone is one click away.
        await page.getByRole("button", { name: /Use this browser/ }).click();
        await expect(page.getByLabel("Time zone")).toHaveValue("Europe/Berlin");
        await expect(page.locator("#ax-range-hint")).toContainText("Start and end are in Europe/Berlin");
      } else {
        await page.getByLabel("Time frame").selectOption("custom");
      }
      await page.getByLabel("Start").fill("2026-11-02T10:00");
      await page.getByLabel("End").fill("2026-11-02T09:00");
      if (js) {
        await expect(page.getByLabel("Time frame")).toHaveValue("custom");
        await expect(page.locator("#ax-end-error")).toHaveText('"end" must be after "start".');
      } else {
        await page.getByRole("button", { name: "Run report" }).click();
        await expect(page.locator("#ax-end-error")).toHaveText('"end" must be after "start".');
      }
      await page.getByLabel("End").fill("2026-11-02T12:00");
      await page.getByRole("button", { name: "Run report" }).click();
      await expect(page).toHaveURL(/time_frame=custom/);
      await ready(page, js);
      if (js) {
        // 10:00 in Berlin (UTC+1 in November) is 09:00 UTC; the inputs still show Berlin time.
        await expect(page).toHaveURL(/start=2026-11-02T09%3A00%3A00Z/);
        await expect(page).toHaveURL(/time_zone=Europe%2FBerlin/);
        await expect(page.getByLabel("Start")).toHaveValue("2026-11-02T10:00");
        await expect(page.locator(".ax-result-head")).toContainText("2026-11-02 09:00 UTC to 2026-11-02 11:00 UTC");
      } else {
        await expect(page.getByLabel("Start")).toHaveValue("2026-11-02T10:00");
        await expect(page.locator(".ax-result-head")).toContainText("2026-11-02 10:00 UTC to 2026-11-02 12:00 UTC");
      }
      void consoleErrors;
    });
  });
});
