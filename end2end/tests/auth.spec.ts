import { test, expect, ready } from "./fixtures";
import { ADMIN_EMAIL, PASSWORD } from "./accounts";

test.describe("signed out", () => {
  test.use({ storageState: { cookies: [], origins: [] }, allowHttpErrors: true });

  test("sign in, come back to the page asked for, sign out", async ({ page, consoleErrors, checkA11y, js }) => {
    await page.goto("/runtime-groups");
    await expect(page).toHaveURL(/\/login\?next=%2Fruntime-groups$/);
    await ready(page, js);
    await checkA11y();
    // No navigation for strangers.
    await expect(page.getByRole("link", { name: "Service Hub" })).toHaveCount(0);

    await page.getByLabel("Email").fill(ADMIN_EMAIL);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toContainText("The email or the password is wrong");
    await expect(page.getByLabel("Email")).toHaveValue(ADMIN_EMAIL);
    await expect(page.getByLabel("Password")).toHaveValue("");

    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/runtime-groups$/);
    await expect(page.getByRole("heading", { level: 1, name: "Runtime Groups" })).toBeVisible();
    await expect(page.getByRole("link", { name: ADMIN_EMAIL })).toBeVisible();

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/service-hub");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
});

test("an admin adds a viewer, who can read but not change anything", async ({
  page,
  browser,
  consoleErrors,
  checkA11y,
  unique,
  js,
}) => {
  // A package to look at.
  await page.goto("/service-hub/new");
  await ready(page, js);
  const name = `Viewed ${unique}`;
  await page.getByLabel("Display name").fill(name);
  await page.getByRole("button", { name: "Create" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  // The admin creates the viewer on the Users page.
  const email = `viewer-${unique}@e2e.example.com`;
  await page.goto("/settings/users");
  await ready(page, js);
  await checkA11y();
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByLabel("Initial password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create user" }).click();
  await expect(page.getByRole("cell", { name: email, exact: true })).toBeVisible();

  // The audit log has it.
  await page.goto(`/settings/audit?target=${encodeURIComponent(email)}`);
  await ready(page, js);
  await checkA11y();
  await expect(page.getByRole("cell", { name: "user.create" })).toBeVisible();

  // The viewer signs in.
  const context = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  const viewer = await context.newPage();
  viewer.on("pageerror", (e) => consoleErrors.push(String(e)));
  await viewer.goto("/login");
  await viewer.getByLabel("Email").fill(email);
  await viewer.getByLabel("Password").fill(PASSWORD);
  await viewer.getByRole("button", { name: "Sign in" }).click();
  await expect(viewer).toHaveURL(/\/service-hub$/);
  await ready(viewer, js);
  await expect(viewer.getByText("Viewer", { exact: true })).toBeVisible();
  await expect(viewer.getByRole("link", { name: "+ New service package" })).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "Users" })).toHaveCount(0);

  const key = `viewed-${unique}`;
  await viewer.goto(`/service-hub/${key}`);
  await ready(viewer, js);
  await expect(viewer.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(viewer.getByRole("link", { name: "Edit" })).toHaveCount(0);
  await expect(viewer.getByRole("link", { name: "Delete" })).toHaveCount(0);
  await expect(viewer.getByText("Delete service package")).toHaveCount(0);

  await viewer.goto("/service-hub/new");
  await expect(viewer.getByRole("heading", { name: "Not allowed" })).toBeVisible();
  await expect(viewer.getByLabel("Display name")).toHaveCount(0);

  // And the server refuses the change even when asked directly.
  const base = new URL(viewer.url()).origin;
  const r = await viewer.request.post("/rpc/packages/create", {
    form: { display_name: `Sneaky ${unique}` },
    headers: { origin: base },
  });
  expect(r.status()).toBe(403);
  expect(await r.text()).toContain("read-only");
  await viewer.goto("/settings/users");
  await expect(viewer.getByRole("heading", { name: "Not allowed" })).toBeVisible();

  // A viewer's own account: a read-only API token, shown once.
  await viewer.goto("/account");
  await ready(viewer, js);
  await viewer.getByLabel("Name").fill("laptop");
  await viewer.getByRole("button", { name: "Create token" }).click();
  const secret = viewer.getByTestId("new-token");
  await expect(secret).toHaveText(/^pt_/);
  await expect(viewer.getByRole("cell", { name: "laptop", exact: true })).toBeVisible();
  await viewer.reload();
  await expect(viewer.getByTestId("new-token")).toHaveCount(0);
  await viewer.getByRole("button", { name: "Revoke laptop" }).click();
  await expect(viewer.getByText("No tokens yet.")).toBeVisible();
  await context.close();
});
