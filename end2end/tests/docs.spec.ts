import { test, expect, ready } from "./fixtures";

test("write a documentation page; its Markdown renders and raw HTML never runs", async ({
  page,
  api,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  const name = `Docs ${unique}`;
  const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: name } })).json();
  let dialogs = 0;
  page.on("dialog", async (d) => {
    dialogs += 1;
    await d.dismiss();
  });

  await page.goto(`/service-hub/${pkg.key}`);
  await ready(page, js);
  await expect(page.getByRole("heading", { name: "Documentation" })).toBeVisible();
  await page.getByRole("link", { name: "+ New page" }).click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${pkg.key}/docs/new$`));
  await ready(page, js);
  await checkA11y();
  await page.getByLabel("Title").fill("Getting Started");
  await page.getByLabel("Content (Markdown)").fill(
    [
      "## Calling the API",
      "",
      "| Method | Path |",
      "|---|---|",
      "| GET | /things |",
      "",
      "<img src=x onerror=alert(1)>",
      "",
      "[click](javascript:alert(2))",
    ].join("\n"),
  );
  // A rejected save keeps everything that was typed (the server sends it back).
  await page.getByLabel("Slug").fill("Bad Slug!");
  const published = page.getByRole("checkbox", { name: /Published \(shown/ });
  await published.check();
  await page.getByRole("button", { name: "Create page" }).click();
  await expect(page.locator("#slug-error")).not.toBeEmpty();
  await ready(page, js);
  await expect(page.getByLabel("Content (Markdown)")).toHaveValue(/^## Calling the API\n/);
  await expect(page.getByLabel("Title")).toHaveValue("Getting Started");
  await expect(published).toBeChecked();
  if (js) await expect(page.locator(".markdown.preview h2")).toHaveText("Calling the API");
  await page.getByLabel("Slug").fill("");
  await published.uncheck();
  await page.getByRole("button", { name: "Create page" }).click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${pkg.key}/docs/getting-started$`));
  await ready(page, js);
  const article = page.locator("article.markdown");
  await expect(article.getByRole("heading", { level: 2, name: "Calling the API" })).toBeVisible();
  await expect(article.getByRole("cell", { name: "/things" })).toBeVisible();
  await expect(article).toContainText("<img src=x onerror=alert(1)>");
  await expect(article.locator("img")).toHaveCount(0);
  await expect(article.locator("a[href^='javascript']")).toHaveCount(0);
  await checkA11y();

  // The REST API sees the same page; the dashboard lists it.
  const doc = await (await api.get(`/api/v1/service-packages/${pkg.key}/documents/getting-started`)).json();
  expect(doc.title).toBe("Getting Started");
  await page.goto(`/service-hub/${pkg.key}`);
  await expect(page.getByRole("link", { name: "Getting Started" })).toBeVisible();
  expect(dialogs).toBe(0);
});
