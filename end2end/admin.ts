// The admin the browser tests sign in as. playwright.config.ts passes these to the server as
// ADMIN_EMAIL/ADMIN_PASSWORD, which create this admin when the database has no users yet.
export const ADMIN = {
  email: process.env.E2E_ADMIN_EMAIL ?? "admin@example.com",
  password: process.env.E2E_ADMIN_PASSWORD ?? "e2e-admin-password",
};
