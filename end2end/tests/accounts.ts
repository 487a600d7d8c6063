/** The accounts the end-to-end tests use. */
export const ADMIN_EMAIL = "admin@e2e.example.com";
export const PASSWORD = "end-to-end passphrase";
/** Where the setup project saves the admin's signed-in browser state. */
export const ADMIN_STATE = "playwright/.auth/admin.json";
