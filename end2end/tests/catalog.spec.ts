import { test, expect, ready } from "./fixtures";

test("runtime group, package with labels, label filter, version lifecycle, delete", async ({
  page,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  // Create a runtime group.
  await page.goto("/runtime-groups/new");
  await ready(page, js);
  await checkA11y();
  const group = `rg-${unique}`;
  await page.getByLabel("Name").fill(group);
  await page.getByLabel("Labels").fill("env:test");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(/\/runtime-groups\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name: group })).toBeVisible();
  await ready(page, js);
  await checkA11y();

  await page.goto("/runtime-groups");
  await expect(page.getByRole("link", { name: group })).toBeVisible();
  await checkA11y();

  // Create a package with labels.
  await page.goto("/service-hub/new");
  await ready(page, js);
  const name = `Pkg ${unique}`;
  const key = `pkg-${unique}`;
  await page.getByLabel("Display name").fill(name);
  await page.getByLabel("Description").fill("Made by the end-to-end test.");
  await page.getByLabel("Labels").fill(`team:t${unique}, tier:gold`);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${key}$`));
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByText("No versions yet")).toBeVisible();
  await ready(page, js);
  await checkA11y();

  // Filter the hub by label.
  await page.goto("/service-hub");
  await ready(page, js);
  await page.locator("#hub-label").fill(`team:t${unique}`);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByText("1 service package", { exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name })).toBeVisible();
  await checkA11y();
  await page.getByRole("link", { name: "List" }).click();
  await expect(page.getByRole("table")).toBeVisible();
  await expect(page.getByRole("link", { name })).toBeVisible();
  await checkA11y();

  // Create a version in the new group.
  await page.goto(`/service-hub/${key}`);
  await ready(page, js);
  await page.getByRole("link", { name: "+ New version" }).first().click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${key}/versions/new$`));
  await ready(page, js);
  await checkA11y();
  await page.getByLabel("Version name").fill("v1");
  await page.getByLabel("Runtime group").selectOption({ label: group });
  await page.getByRole("button", { name: "Create version" }).click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${key}/versions/[0-9a-f-]{36}$`));
  await expect(page.getByRole("heading", { level: 1, name: "v1" })).toBeVisible();
  await expect(page.getByRole("link", { name: group })).toBeVisible();
  await ready(page, js);
  await checkA11y();

  // Change its status.
  await page.locator("#version-status").selectOption("published");
  await page.getByRole("button", { name: "Save status" }).click();
  await expect(page.locator(".overview .badge")).toHaveText("Published");

  // Delete it by typing its name.
  await ready(page, js);
  await page.getByText("Delete version", { exact: true }).first().click();
  await page.getByLabel('Type the version name "v1" to confirm').fill("v1");
  await page.getByRole("button", { name: "Delete version" }).click();
  await expect(page).toHaveURL(new RegExp(`/service-hub/${key}$`));
  await expect(page.getByText("No versions yet")).toBeVisible();

  // Delete the package.
  await ready(page, js);
  await page.getByText("Delete service package", { exact: true }).click();
  await page.getByLabel(`Type the key "${key}" to confirm`).fill(key);
  await page.getByRole("button", { name: "Delete package" }).click();
  await expect(page).toHaveURL(/\/service-hub$/);
  await page.goto(`/service-hub?q=${encodeURIComponent(name)}`);
  await expect(page.getByRole("link", { name })).toHaveCount(0);
  void consoleErrors;
});

test.describe("errors", () => {
test.use({ allowHttpErrors: true });

test("bad input is explained on the form and nothing is lost", async ({ page, consoleErrors, unique, js }) => {
  await page.goto("/service-hub/new");
  await ready(page, js);
  const name = page.getByLabel("Display name");
  if (js) {
    // Checked as the user types, before any submission.
    await name.fill("bad/name");
    await expect(page.getByText("Name may contain only letters, digits, spaces and . - _ ~ :")).toBeVisible();
  }
  await name.fill(`Ok ${unique}`);
  await page.getByLabel("Labels").fill("kong-x:y");
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByText('Label "kong-x:y": key must not start with "kong" (reserved).')).toBeVisible();
  // The form keeps what the user typed, with and without JavaScript.
  await expect(page.getByLabel("Display name")).toHaveValue(`Ok ${unique}`);
  await expect(page.getByLabel("Labels")).toHaveValue("kong-x:y");
  await page.goto(`/service-hub?q=${encodeURIComponent(`Ok ${unique}`)}`);
  await expect(page.getByText("No service packages match")).toBeVisible();
  void consoleErrors;
});

test("unknown pages answer 404 with a clear message", async ({ page, consoleErrors }) => {
  const r = await page.goto("/service-hub/does-not-exist-anywhere");
  expect(r?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();
  const r2 = await page.goto("/no/such/page");
  expect(r2?.status()).toBe(404);
  void consoleErrors;
});

test("a version is deleted only after typing its exact name", async ({ page, api, consoleErrors, unique, js }) => {
  const pkg = await (await api.post("/api/v1/service-packages", { data: { display_name: `Del ${unique}` } })).json();
  const groups = await (await api.get("/api/v1/runtime-groups?name=default")).json();
  const version = await (
    await api.post(`/api/v1/service-packages/${pkg.id}/versions`, {
      data: { name: "v1", runtime_group_id: groups.data[0].id },
    })
  ).json();
  const url = `/service-hub/${pkg.key}/versions/${version.id}`;
  await page.goto(url);
  await ready(page, js);
  await page.getByText("Delete version", { exact: true }).first().click();
  await page.getByLabel('Type the version name "v1" to confirm').fill("v2");
  await page.getByRole("button", { name: "Delete version" }).click();
  await expect(page.getByText('Type the version name "v1" to delete it.')).toBeVisible();
  expect(new URL(page.url()).pathname).toBe(url);
  expect((await api.get(`/api/v1/service-packages/${pkg.id}/versions/${version.id}`)).status()).toBe(200);
  void consoleErrors;
});
});
