// Shared pieces of the end-to-end suite: launching Debian's Chromium through playwright-core,
// the seller's API, fresh listings, waiting, and page objects for widget and pay pages.
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BASE_URL = process.env.MIGHTY_BASE_URL ?? "http://127.0.0.1:8080";
export const SELLER_TOKEN = process.env.MIGHTY_SELLER_TOKEN;

/** The server's API with the demo seller's token: the parsed answer (or null); any answer
 * other than 2xx fails the test with the method, path, status and body. */
export async function sellerApi(method, path, body) {
  const response = await fetch(new URL(path, BASE_URL), {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${SELLER_TOKEN}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls `condition` every 100 ms; fails naming `what` after `timeout` ms. */
export async function until(condition, what, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

let listingCount = 0;
/** A fresh listing of the demo seller with two creators (Ana and Théo, with demo videos) and
 * `offers` (by default one 12 € bundle); returns its id, `<prefix>-<time>-<n>`. */
export async function creatorListing(prefix, offers = [{ id: "candle", kind: "bundle", name: "Candle", price: 1200 }]) {
  listingCount += 1;
  const id = `${prefix}-${Date.now()}-${listingCount}`;
  const creator = (handle, name) => ({ handle, name, demo: { src: `/www/media/${handle}.webm`, poster: `/www/media/${handle}.jpg` } });
  await sellerApi("PUT", `/v1/listings/${id}`, {
    version: 1, id, title: "Candle studio", currency: "EUR",
    creators: [creator("ana", "Ana Ruiz"), creator("theo", "Théo Marchand")],
    offers, checkout: { endpoint: "/v1/checkout/sessions" }, allowed_origins: ["*"],
  });
  return id;
}

const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Puts one eager widget of `listingId` (with the extra `attributes`) on `page`, after opening
 * `url` (the blank example page by default; `null` keeps the page as it is), and waits for its
 * card. */
export async function showListing(page, listingId, attributes = "", url = new URL("/www/examples/blank.html", BASE_URL).href) {
  if (url) await page.goto(url);
  await page.evaluate(([id, extra]) => {
    document.getElementById("app").innerHTML =
      `<div data-mighty="${id}" data-mighty-checkout="/v1/checkout/sessions" data-mighty-eager ${extra}></div>`;
  }, [listingId, attributes]);
  await page.locator("[part=card]").waitFor();
}

/** A fresh Chromium with an empty profile; `close()` removes the profile. */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), "mighty-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    headless: true,
    viewport: { width: 1200, height: 900 },
    locale: "en-US",
    ...options,
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** Records what a test asserts on from the very start of the page: widget events, CSP
 * violations, layout shifts. Runs before any page script. */
function recorder() {
  window.__mighty = { events: [], csp: [], shifts: [] };
  for (const type of ["ready", "error", "checkout-start", "checkout-complete", "checkout-error", "demo-play", "demo-complete", "view", "offer-select"]) {
    document.addEventListener(`mighty:${type}`, (event) => {
      window.__mighty.events.push({ type, detail: event.detail, tag: event.target.tagName.toLowerCase() });
    });
  }
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__mighty.csp.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (!entry.hadRecentInput) window.__mighty.shifts.push(entry.value);
    }
  }).observe({ type: "layout-shift", buffered: true });
}

/** A page with widgets: navigation, waiting for widgets, reading their parts. */
export class WidgetPage {
  constructor(page) {
    this.page = page;
    this.consoleErrors = [];
    this.requests = [];
    page.on("console", (message) => {
      if (message.type() === "error") this.consoleErrors.push(message.text());
    });
    page.on("pageerror", (error) => this.consoleErrors.push(`uncaught: ${error.message}`));
    page.on("request", (request) => this.requests.push(request.url()));
  }

  /** Opens `path` in a new tab of `context`, recording the widget's events (and running
   * `init`, when given, before the page's own scripts). */
  static async open(context, path, init) {
    const page = await context.newPage();
    await page.addInitScript(recorder);
    if (init) await page.addInitScript(init);
    const widgetPage = new WidgetPage(page);
    await page.goto(new URL(path, BASE_URL).href);
    return widgetPage;
  }

  /** Every host on the page, in document order. */
  hosts() {
    return this.page.locator("[data-mighty]");
  }

  host(id) {
    return this.page.locator(`[data-mighty="${id}"]`);
  }

  /** Scrolls each host into view so lazy widgets load. */
  async scrollThroughHosts() {
    const count = await this.hosts().count();
    for (let index = 0; index < count; index += 1) {
      await this.hosts().nth(index).scrollIntoViewIfNeeded();
    }
  }

  events(type) {
    return this.page.evaluate((wanted) => window.__mighty.events.filter((event) => event.type === wanted), type);
  }

  async waitForEvents(type, count, timeout = 20_000) {
    await this.page.waitForFunction(
      ([wanted, n]) => window.__mighty.events.filter((event) => event.type === wanted).length >= n,
      [type, count],
      { timeout },
    );
    return this.events(type);
  }

  cspViolations() {
    return this.page.evaluate(() => window.__mighty.csp);
  }

  layoutShift() {
    return this.page.evaluate(() => window.__mighty.shifts.reduce((sum, value) => sum + value, 0));
  }

  wasmRequests() {
    return this.requests.filter((url) => url.endsWith(".wasm"));
  }

  /** Computed styles of the first element matching `selector` (shadow roots pierced). */
  computedStyle(selector, properties) {
    return this.page.locator(selector).first().evaluate((element, names) => {
      const style = getComputedStyle(element);
      return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
    }, properties);
  }
}

/** Page object of the pay page: fields found by their autocomplete tokens. */
export class PayPage {
  constructor(page) {
    this.page = page;
  }

  field(token) {
    return this.page.locator(`input[autocomplete="${token}"]`);
  }

  async fill({ number, expiry = "12/34", csc = "123", email = "shopper@example.com" }) {
    await this.field("email").fill(email);
    await this.field("cc-name").fill("Camille Martin");
    await this.field("cc-number").fill(number);
    await this.field("cc-exp").fill(expiry);
    await this.field("cc-csc").fill(csc);
    // Only offers that ship ask for an address.
    if ((await this.field("shipping name").count()) === 0) return;
    await this.field("shipping name").fill("Camille Martin");
    await this.field("shipping address-line1").fill("12 rue de la République");
    await this.field("shipping postal-code").fill("69002");
    await this.field("shipping address-level2").fill("Lyon");
    await this.field("shipping country-name").fill("France");
  }

  async submit() {
    await this.page.getByRole("button", { name: /^Pay / }).click();
    await this.page.waitForLoadState("domcontentloaded");
  }

  /** The error shown next to a field, through aria-describedby. */
  async errorFor(token) {
    const input = this.field(token);
    assert.equal(await input.getAttribute("aria-invalid"), "true");
    const id = await input.getAttribute("aria-describedby");
    return this.page.locator(`#${id}`).innerText();
  }
}
