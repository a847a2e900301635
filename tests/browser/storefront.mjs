// Drives shop's storefront at /store in a headless Chromium (Debian's /usr/bin/chromium, or
// $CHROMIUM; playwright-core downloads no browser) through one customer journey, and
// prints as JSON what it saw. tests/storefront.rs starts the shop (with demo data) and
// judges the output.
//
// usage: node storefront.mjs <shop url> <journey> [screenshot folder]
// Journeys:
//   guest   browse -> filter -> product -> variant -> cart -> WELCOME10 -> shipping ->
//           checkout (register there; the guest cart merges) -> 3-D Secure page ->
//           succeed -> order page PAID; then it prints {"waiting":"ship","order":...}
//           and waits for a line on stdin (the test ships the order as an admin) before
//           it waits for SHIPPED to appear without a reload.
//   account  register, open the welcome email's verification link (the test sends it on
//           stdin when asked with {"waiting":"mail",...}), sign out, ask for a password
//           reset, open the emailed link, set a new password; fill a guest cart and
//           sign in with the new password (the cart merges); then save a cart line for
//           later and back, and put the cart aside and restore it.
//   declined  at phone width: register, add a product, check out with the declined
//           card: the error shows and the cart keeps its items.
// With STOREFRONT_FROM=<api/assets/storefront> the storefront's files are read from that
// folder instead of the shop's binary (for editing them without a rebuild).
// Every request for another host is refused (as offline) and remembered: only product
// images (absolute URLs by the API's contract) may ask for one.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [shopUrl, journey, screens] = process.argv.slice(2);
if (!shopUrl || !journey) {
  console.error("usage: node storefront.mjs <shop url> <guest|account|declined> [screenshot folder]");
  process.exit(2);
}
const origin = new URL(shopUrl).origin;
const report = { journey, seen: {}, outside: [], outsideImages: 0, failed: [], errors: [], unlabelled: [] };
const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));
const WAIT = { timeout: 30_000 };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ["--no-sandbox"],
});

/** At each main page: a screenshot (when asked for), and every control a screen reader
 * could not name (no label, no aria-label), listed in `unlabelled`. */
async function shot(page, name) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("main input:not([type=hidden]), main select, main textarea, main button")]
      .filter((control) => !control.labels?.length && !control.getAttribute("aria-label") && !control.textContent.trim())
      .map((control) => control.outerHTML.slice(0, 120)),
  );
  for (const control of unlabelled) report.unlabelled.push(`${name}: ${control}`);
  if (screens) await page.screenshot({ path: `${screens}/${name}.png`, fullPage: true });
}

/** A user name no other run has. */
const unique = `buyer${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function register(page) {
  const form = page.locator("form.auth", { has: page.getByRole("heading", { name: /create an account/i }) });
  await form.getByLabel("Username").fill(unique);
  await form.getByLabel("Email").fill(`${unique}@example.test`);
  await form.getByLabel("Password").fill("correct horse battery");
  await form.getByRole("button", { name: "Create account" }).click();
}

async function fillAddress(page, country) {
  await page.getByLabel("Full name").fill("Ada Lovelace");
  await page.getByLabel("Address line 1").fill("12 St James's Square");
  await page.getByLabel("City").fill("London");
  await page.getByLabel("Postal code").fill("SW1Y 4JH");
  await page.getByLabel("Country").selectOption(country);
}

async function guest(page) {
  // The catalog, then a category of clothing (its products come in sizes and colours),
  // narrowed with the filters: in stock, at least 25.00 (so WELCOME10's minimum is met).
  await page.goto(`${shopUrl}/store`, { waitUntil: "load" });
  await page.locator(".product-grid .card").first().waitFor(WAIT);
  report.seen.productsOnFirstPage = await page.locator(".product-grid .card").count();
  await shot(page, "catalog");
  await page.getByRole("button", { name: "Load more" }).click();
  await page.locator(".product-grid .card").nth(report.seen.productsOnFirstPage).waitFor(WAIT);
  report.seen.productsAfterLoadMore = await page.locator(".product-grid .card").count();

  await page.getByRole("navigation", { name: "Categories" }).getByRole("link", { name: "Tops", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Tops" }).waitFor(WAIT);
  await page.getByLabel("Min price").fill("25");
  await page.getByLabel("In stock only").check();
  await page.getByRole("button", { name: "Apply" }).click();
  await page.waitForURL(/inStock=1/, WAIT);
  await page.locator(".product-grid .card").first().waitFor(WAIT);
  report.seen.filteredUrl = new URL(page.url()).search;

  // The product, and a variant other than the one chosen to start with.
  await page.locator(".product-grid .card a").first().click();
  await page.locator(".variants").waitFor(WAIT);
  report.seen.productName = await page.getByRole("heading", { level: 1 }).innerText();
  const variants = page.locator(".variants input[type=radio]");
  report.seen.variants = await variants.count();
  report.seen.soldOutVariants = await page.locator(".variants input[type=radio]:disabled").count();
  report.seen.soldOutLabelled = await page.locator(".variants .unavailable label", { hasText: "sold out" }).count();
  const enabled = page.locator(".variants input[type=radio]:not(:disabled):not(:checked)");
  const choice = enabled.first();
  const choiceId = await choice.getAttribute("id");
  report.seen.variant = await page.locator(`label[for="${choiceId}"]`).innerText();
  await page.locator(`label[for="${choiceId}"]`).click();
  await shot(page, "product");
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.locator(".added", { hasText: "Added" }).waitFor(WAIT);
  report.seen.guestCartId = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.guestCartId")));

  // The cart survives a reload (its id is kept in localStorage).
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.locator(".lines .line").first().waitFor(WAIT);
  await page.reload({ waitUntil: "load" });
  await page.locator(".lines .line").first().waitFor(WAIT);
  report.seen.cartLinesAfterReload = await page.locator(".lines .line").count();
  report.seen.cartLine = await page.locator(".lines .line").first().innerText();

  await page.getByLabel("Discount code").fill("welcome10");
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByText("WELCOME10", { exact: true }).waitFor(WAIT);
  await page.getByLabel("Ship to").selectOption("GB");
  await page.getByLabel(/^Express/).check();
  await page.locator(".totals dd", { hasText: "14.95" }).waitFor(WAIT);
  await page.locator(".totals dt", { hasText: "Discount" }).waitFor(WAIT);
  report.seen.cartTotals = await page.locator(".totals").innerText();
  await shot(page, "cart");

  // Checkout asks the guest to register; the cart comes along.
  await page.getByRole("link", { name: "Check out" }).click();
  await page.getByText(/Your cart comes with you/).waitFor(WAIT);
  await shot(page, "checkout-sign-in");
  await register(page);
  await page.getByRole("button", { name: "Place order" }).waitFor(WAIT);
  report.seen.guestCartIdAfterRegister = await page.evaluate(() => JSON.parse(localStorage.getItem("shop.guestCartId")));
  report.seen.checkoutLines = await page.locator(".summary-lines").innerText();
  await fillAddress(page, "GB");
  await page.getByLabel(/^Express/).check();
  await page.getByLabel("3-D Secure card").check();
  // The totals are asked for again when the method changes: wait for Express's price.
  await page.locator(".totals dd", { hasText: "14.95" }).waitFor(WAIT);
  await page.locator(".totals dt", { hasText: "Discount" }).waitFor(WAIT);
  report.seen.checkoutTotals = await page.locator(".totals").innerText();
  await shot(page, "checkout");
  await page.getByRole("button", { name: "Place order" }).click();

  // The test gateway's 3-D Secure page, then back to the order page.
  await page.waitForURL(/\/payments\/test\/authenticate\//, WAIT);
  await shot(page, "three-d-secure");
  await page.getByRole("button", { name: "Authenticate the payment" }).click();
  await page.waitForURL(/\/store\/orders\/SO-/, WAIT);
  const number = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  report.seen.order = number;
  await page.locator('.order-status [data-status="PAID"]').waitFor(WAIT);
  report.seen.paid = true;
  await page.locator('.live-note[data-live="on"]').waitFor(WAIT);
  await shot(page, "order-paid");

  // An admin ships it; the page hears it over the subscription, without a reload.
  console.log(JSON.stringify({ waiting: "ship", order: number }));
  await nextLine();
  await page.locator('.order-status [data-status="SHIPPED"]').waitFor(WAIT);
  report.seen.shipped = true;
  report.seen.tracking = await page.locator(".tracking").innerText();
  await shot(page, "order-shipped");

  await page.getByRole("link", { name: "Orders", exact: true }).click();
  await page.locator(".order-list li").first().waitFor(WAIT);
  report.seen.history = await page.locator(".order-list").innerText();
  await shot(page, "order-history");
}

/** Prints what the journey waits for, and answers the line the test sends back. */
async function waitFor(what) {
  console.log(JSON.stringify(what));
  return (await nextLine()).trim();
}

async function account(page) {
  await page.goto(`${shopUrl}/store/signin`, { waitUntil: "load" });
  await register(page);
  await page.getByRole("heading", { level: 1, name: "All products" }).waitFor(WAIT);
  const email = `${unique}@example.test`;

  // The link of the welcome email.
  const verifyLink = await waitFor({ waiting: "mail", link: "verify-email", email });
  await page.goto(verifyLink, { waitUntil: "load" });
  await page.getByRole("heading", { level: 1, name: "Email verified" }).waitFor(WAIT);
  report.seen.verifyAddressAfter = new URL(page.url()).search;
  await shot(page, "verify-email");

  await page.getByRole("link", { name: unique }).click();
  await page.getByText("verified", { exact: true }).waitFor(WAIT);
  await shot(page, "account");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("link", { name: "Sign in" }).waitFor(WAIT);

  await page.goto(`${shopUrl}/store/forgot-password`, { waitUntil: "load" });
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a link" }).click();
  await page.getByText(/is on its way/).waitFor(WAIT);
  const resetLink = await waitFor({ waiting: "mail", link: "reset-password", email });
  await page.goto(resetLink, { waitUntil: "load" });
  await page.getByLabel("New password").waitFor(WAIT);
  report.seen.resetAddressAfter = new URL(page.url()).search;
  await page.getByLabel("New password").fill("a brand new password");
  await shot(page, "reset-password");
  await page.getByRole("button", { name: "Set password" }).click();
  await page.getByRole("link", { name: "Sign in with it" }).waitFor(WAIT);

  // Signed out, a guest again: a product goes in a guest cart, which signing in (with
  // the new password) merges into the account's cart.
  await page.goto(`${shopUrl}/store?category=laptops&inStock=1`, { waitUntil: "load" });
  await page.locator(".product-grid .card a").first().click();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.locator(".added", { hasText: "Added" }).waitFor(WAIT);
  await page.goto(`${shopUrl}/store/signin?next=/store/cart`, { waitUntil: "load" });
  const form = page.locator("form.auth", { has: page.getByRole("heading", { name: "Sign in" }) });
  await form.getByLabel("Username or email").fill(email);
  await form.getByLabel("Password").fill("a brand new password");
  await form.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: unique }).waitFor(WAIT);
  report.seen.signedInWithNewPassword = true;
  await page.getByRole("heading", { level: 1, name: "Your cart" }).waitFor(WAIT);
  await page.locator(".lines .line").first().waitFor(WAIT);
  report.seen.linesMergedOnSignIn = await page.locator(".lines .line").count();

  // A user's cart: save a line for later and move it back; put the cart aside and
  // restore it.
  await page.getByRole("button", { name: /^Save for later/ }).click();
  await page.getByRole("heading", { name: "Saved for later" }).waitFor(WAIT);
  await page.getByText("Your cart is empty").waitFor(WAIT);
  report.seen.savedForLater = true;
  await page.getByRole("button", { name: /^Move to cart/ }).click();
  await page.locator(".lines .line").first().waitFor(WAIT);
  await page.getByLabel("Save this cart for later as").fill("Birthday");
  await page.getByRole("button", { name: "Save cart" }).click();
  await page.getByRole("button", { name: "Restore Birthday" }).waitFor(WAIT);
  await page.getByText("Your cart is empty").waitFor(WAIT);
  await shot(page, "cart-saved-cart");
  await page.getByRole("button", { name: "Restore Birthday" }).click();
  await page.locator(".lines .line").first().waitFor(WAIT);
  report.seen.cartRestored = await page.locator(".lines .line").count();
}

async function declined(page) {
  await page.goto(`${shopUrl}/store/signin`, { waitUntil: "load" });
  await register(page);
  await page.getByRole("heading", { level: 1, name: "All products" }).waitFor(WAIT);
  // A product with one variant that is in stock: the first of Laptops.
  await page.goto(`${shopUrl}/store?category=laptops&inStock=1`, { waitUntil: "load" });
  await page.locator(".product-grid .card a").first().click();
  // By keyboard: from the quantity, Tab reaches "Add to cart" and Enter presses it.
  await page.getByLabel("Quantity").focus();
  await page.keyboard.press("Tab");
  report.seen.focusedAfterQuantity = await page.evaluate(() => document.activeElement?.textContent);
  await page.keyboard.press("Enter");
  await page.locator(".added", { hasText: "Added" }).waitFor(WAIT);
  await shot(page, "phone-product");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.locator(".lines .line").first().waitFor(WAIT);
  report.seen.cartBefore = await page.locator(".lines .line .line-name a").allInnerTexts();
  await page.getByRole("link", { name: "Check out" }).click();
  await page.getByRole("button", { name: "Place order" }).waitFor(WAIT);
  await fillAddress(page, "DE");
  await page.getByLabel("Declined card").check();
  await page.getByRole("button", { name: "Place order" }).click();
  const alert = page.locator(".checkout-form .form-alert:not([hidden])");
  await alert.waitFor(WAIT);
  report.seen.declineMessage = await alert.innerText();
  report.seen.stillOnCheckout = new URL(page.url()).pathname;
  await shot(page, "phone-checkout-declined");
  await page.getByRole("link", { name: /^Cart/ }).click();
  await page.locator(".lines .line").first().waitFor(WAIT);
  report.seen.cartAfter = await page.locator(".lines .line .line-name a").allInnerTexts();
  report.seen.pageWiderThanPhone = await page.evaluate(() => document.documentElement.scrollWidth > innerWidth);
  await shot(page, "phone-cart");
}

try {
  const phone = journey === "declined";
  const page = await browser.newPage({
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 900 },
    isMobile: phone,
    hasTouch: phone,
  });
  await page.route("**/*", async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin === origin && process.env.STOREFRONT_FROM && url.pathname.startsWith("/store/assets/")) {
      // For editing the storefront without rebuilding shop: its files from this folder.
      const file = `${process.env.STOREFRONT_FROM}/${url.pathname.slice("/store/assets/".length)}`;
      const type = file.endsWith(".css") ? "text/css" : file.endsWith(".svg") ? "image/svg+xml" : "text/javascript";
      return route.fulfill({ path: file, contentType: type });
    }
    if (url.origin === origin) return route.continue();
    // Product images name their own hosts (the demo's are on picsum.photos); nothing
    // else may: no script, style, font or API call.
    if (request.resourceType() === "image") report.outsideImages += 1;
    else report.outside.push(`${request.resourceType()} ${request.url()}`);
    return route.abort("internetdisconnected");
  });
  page.on("requestfailed", (request) => {
    const error = request.failure()?.errorText;
    // ERR_ABORTED is the browser dropping what a page it left had asked for (an image
    // still loading): nothing failed.
    if (new URL(request.url()).origin === origin && error !== "net::ERR_ABORTED") report.failed.push(`${request.url()}: ${error}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) report.failed.push(`${response.url()}: ${response.status()}`);
  });
  page.on("pageerror", (error) => report.errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && !/ERR_INTERNET_DISCONNECTED/.test(message.text())) {
      report.errors.push(`console: ${message.text()}`);
    }
  });
  try {
    if (journey === "guest") await guest(page);
    else if (journey === "declined") await declined(page);
    else if (journey === "account") await account(page);
    else throw new Error(`no journey ${journey}`);
  } catch (error) {
    report.errors.push(String(error));
    report.failedAt = { url: page.url(), main: await page.locator("main").innerText().catch(() => null) };
    await shot(page, `${journey}-failed`).catch(() => {});
  }
} catch (error) {
  report.errors.push(String(error));
} finally {
  await browser.close();
  stdin.close();
}
console.log(JSON.stringify(report));
