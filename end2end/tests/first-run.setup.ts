import { test as setup, expect } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN_EMAIL, ADMIN_STATE, PASSWORD } from "./accounts";

/** The one-time setup code `portico serve` writes to `setup-code` in its data
 * directory (`make e2e` serves with `--data-dir target/e2e-data`). */
const SETUP_CODE = readFileSync(
  process.env.PORTICO_SETUP_CODE_FILE ?? join(__dirname, "..", "..", "target", "e2e-data", "setup-code"),
  "utf8",
).trim();

setup("first run: the first visitor creates the first admin", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // With no user, every page leads to the first-run screen.
  await page.goto("/service-hub");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Welcome to Portico" })).toBeVisible();
  await page.waitForSelector("body[data-hydrated]");

  // The password rule shows as one types, and the server holds it too.
  await page.getByLabel("Setup code").fill(SETUP_CODE);
  await page.getByLabel("Email").fill(ADMIN_EMAIL);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("too short");
  await expect(page.getByText("Use at least 12 characters")).toBeVisible();
  await page.getByLabel("Repeat the password").fill("too short");
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page).toHaveURL(/\/setup\?/);
  await expect(page.getByText("Use at least 12 characters")).toBeVisible();
  await expect(page.getByLabel("Email")).toHaveValue(ADMIN_EMAIL);

  // The code is a secret: it is not given back with the form, like the passwords.
  await page.getByLabel("Setup code").fill(SETUP_CODE);
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(PASSWORD);
  await page.getByLabel("Repeat the password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create admin and sign in" }).click();
  await expect(page).toHaveURL(/\/service-hub$/);
  await expect(page.getByRole("link", { name: ADMIN_EMAIL })).toBeVisible();
  await expect(page.getByRole("link", { name: "Users" })).toBeVisible();

  // The screen is closed for good.
  await page.goto("/setup");
  await expect(page).toHaveURL(/\/service-hub$/);
  const anon = await page.context().browser()!.newContext();
  const other = await anon.newPage();
  await other.goto(page.url().replace(/\/service-hub$/, "/setup"));
  await expect(other).toHaveURL(/\/login$/);
  await anon.close();

  expect(errors).toEqual([]);
  await page.context().storageState({ path: ADMIN_STATE });
});
