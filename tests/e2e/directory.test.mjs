// End-to-end: the demo directory and example pages in real Chromium against the real server
// (SPEC sections 2 and 8). Run by `cargo xtask test`, which starts the server and sets
// MIGHTY_BASE_URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { launchBrowser, WidgetPage, BASE_URL } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const DIRECTORY_HOSTS = 8;

test("every host on the demo directory renders its card", async () => {
  const directory = await WidgetPage.open(browser.context, "/");
  await directory.scrollThroughHosts();
  const ready = await directory.waitForEvents("ready", DIRECTORY_HOSTS);
  const ids = ready.map((event) => event.detail.listing_id).sort();
  assert.deepEqual(ids, [
    "atelier-cuir", "bowl-set", "candle-trio", "fleurs-de-saone", "kissa-ramen", "sourdough-kit", "tea-club", "velo-atelier",
  ]);
  const cards = directory.page.locator("[data-mighty] [part=card]");
  assert.equal(await cards.count(), DIRECTORY_HOSTS);
  // Every listing source produced its offers, with localized prices.
  assert.match(await directory.host("candle-trio").locator("[part=offer][data-offer-id=trio]").innerText(), /€24\.00/);
  assert.match(await directory.host("sourdough-kit").locator("[part=offer][data-offer-id=default]").innerText(), /€18\.50/);
  assert.match(await directory.host("bowl-set").locator("[part=offer]").innerText(), /€64\.00/);
  assert.match(await directory.host("tea-club").locator("[part=tier][data-tier-id=connoisseur]").innerText(), /€22\.00 \/ month/);
  assert.match(await directory.host("velo-atelier").locator("[part=tier][data-tier-id=annual]").innerText(), /€190\.00 \/ year/);
  assert.match(await directory.host("atelier-cuir").locator("[part=offer]").innerText(), /68,00\s€/);
  // The server-fed listing is marked as test mode (sandbox).
  assert.match(await directory.host("velo-atelier").locator("[part=card]").innerText(), /test mode/i);
  assert.deepEqual(await directory.events("error"), []);
  assert.deepEqual(directory.consoleErrors, []);
  await directory.page.close();
});

test("the directory runs under the strict CSP with no violation and no layout shift", async () => {
  const directory = await WidgetPage.open(browser.context, "/");
  const response = await directory.page.request.get(new URL("/", BASE_URL).href);
  assert.equal(response.headers()["content-security-policy"], "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'");
  await directory.scrollThroughHosts();
  await directory.waitForEvents("ready", DIRECTORY_HOSTS);
  await directory.page.evaluate(() => window.scrollTo(0, 0));
  await directory.page.waitForTimeout(300);
  assert.deepEqual(await directory.cspViolations(), []);
  assert.equal(await directory.layoutShift(), 0);
  // The widget keeps exactly the reserved height.
  const heights = await directory.hosts().evaluateAll((hosts) => hosts.map((host) => host.getBoundingClientRect().height));
  assert.deepEqual(heights, heights.map(() => 420));
  assert.deepEqual(directory.consoleErrors, []);
  await directory.page.close();
});

test("the wasm is not requested before a host nears the viewport", async () => {
  const lazy = await WidgetPage.open(browser.context, "/www/examples/lazy.html");
  await lazy.page.waitForLoadState("networkidle");
  await lazy.page.waitForTimeout(500);
  assert.deepEqual(lazy.wasmRequests(), [], "no wasm while the host is far below the fold");
  assert.ok(lazy.requests.some((url) => url.endsWith("/dist/mighty.js")), "the loader itself did load");
  // The loader already reserves the box and defines the API.
  assert.equal(await lazy.page.evaluate(() => typeof window.Mighty.mount), "function");
  await lazy.page.locator("[data-mighty]").scrollIntoViewIfNeeded();
  const [ready] = await lazy.waitForEvents("ready", 1);
  assert.equal(ready.detail.listing_id, "far-away");
  assert.equal(lazy.wasmRequests().length, 1);
  assert.match(await lazy.page.locator("[data-mighty] [part=offer]").innerText(), /€12\.00/);
  await lazy.page.close();
});

test("broken hosts show their notice and log once each, while the others work", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/broken.html");
  const errors = await page.waitForEvents("error", 3);
  await page.waitForEvents("ready", 1);
  const byId = Object.fromEntries(errors.map((event) => [event.detail.listing_id, event.detail.error]));
  assert.equal(byId["bad-price"].code, "invalid_config");
  assert.equal(byId["bad-price"].message, 'offers[1].price: expected a whole number of minor units (2400 for 24.00) or {"amount": 2400, "currency": "EUR"}, found the string "24.00"');
  assert.equal(byId["in-a-list"].code, "unsupported_host");
  assert.equal(byId["not-allowed"].code, "listing_unreachable");
  assert.match(byId["not-allowed"].message, /^data-mighty-listing: http:\/\/127\.0\.0\.1:\d+\/v1\/listings\/does-not-exist answered 404/);

  const notice = page.host("bad-price").locator("[part=notice]");
  assert.equal(await notice.getAttribute("role"), "alert");
  assert.match(await notice.innerText(), /offers\[1\]\.price/);
  assert.match(await page.host("in-a-list").locator("[part=notice]").innerText(), /a <li> cannot hold the widget/);
  assert.match(await page.host("works").locator("[part=offer]").innerText(), /€10\.00/);
  // One console.error per broken host (plus the browser's own line for the 404 response).
  const ours = page.consoleErrors.filter((text) => text.startsWith("Mighty:"));
  assert.equal(ours.length, 3, ours.join("\n"));
  const others = page.consoleErrors.filter((text) => !text.startsWith("Mighty:"));
  assert.ok(others.every((text) => text.includes("404")), others.join("\n"));
  await page.page.close();
});

test("an <img> host and a custom element's own shadow root: left as they are, with a visible notice beside", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html");
  await page.page.evaluate(() => {
    customElements.define("own-card", class extends HTMLElement {
      constructor() { super(); this.attachShadow({ mode: "open" }).textContent = "the component's own content"; }
    });
    document.getElementById("app").innerHTML =
      `<img data-mighty="picture" data-mighty-title="Kit" data-mighty-price="5.00" data-mighty-eager alt="">
       <own-card data-mighty="component" data-mighty-title="Kit" data-mighty-price="5.00" data-mighty-eager></own-card>`;
  });
  const errors = await page.waitForEvents("error", 2);
  assert.deepEqual(errors.map((event) => event.detail.error.code), ["unsupported_host", "unsupported_host"]);
  assert.equal(await page.page.evaluate(() => document.querySelector("own-card").shadowRoot.textContent), "the component's own content");
  // Each notice is a sibling right after its host, and shows.
  for (const selector of ["img", "own-card"]) {
    const notice = page.page.locator(`${selector} + [data-mighty-notice] [part=notice]`);
    await notice.waitFor();
    const box = await notice.boundingBox();
    assert.ok(box.width > 100 && box.height > 10, `${selector}: ${JSON.stringify(box)}`);
  }
  await page.page.close();
});

test("a host inserted later gets a widget, a changed attribute re-renders, a removed host is unmounted", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html");
  await page.page.evaluate(() => {
    const host = document.createElement("section");
    host.id = "late";
    host.setAttribute("data-mighty", "late-comer");
    host.setAttribute("data-mighty-title", "Late comer");
    host.setAttribute("data-mighty-price", "9.00");
    host.textContent = "fallback";
    document.getElementById("app").append(host);
  });
  await page.waitForEvents("ready", 1);
  const late = page.page.locator("#late");
  assert.match(await late.locator("[part=offer]").innerText(), /€9\.00/);

  await late.evaluate((host) => host.setAttribute("data-mighty-price", "11.50"));
  await page.waitForEvents("ready", 2);
  assert.match(await late.locator("[part=offer]").innerText(), /€11\.50/);

  const handle = await late.elementHandle();
  await late.evaluate((host) => host.remove());
  await page.page.waitForFunction((host) => !host.shadowRoot.querySelector("[part=card]"), handle);
  assert.equal(await handle.evaluate((host) => host.shadowRoot.querySelector("slot") !== null), true);
  assert.deepEqual(page.consoleErrors, []);
  await page.page.close();
});

test("the JavaScript API mounts, refreshes and unmounts", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html");
  const version = await page.page.evaluate(() => window.Mighty.version);
  assert.match(version, /^\d+\.\d+\.\d+$/);
  await page.page.evaluate(async () => {
    const element = document.createElement("div");
    element.id = "api";
    document.getElementById("app").append(element);
    await window.Mighty.mount(element, {
      listing: { id: "api-listing", title: "Mounted from script", currency: "JPY",
                 offers: [{ id: "set", kind: "bundle", name: "Set", price: 2400 }] },
      locale: "en-US",
    });
  });
  const [ready] = await page.waitForEvents("ready", 1);
  assert.equal(ready.detail.listing_id, "api-listing");
  assert.match(await page.page.locator("#api [part=offer]").innerText(), /¥2,400/);

  await page.page.evaluate(() => window.Mighty.unmount(document.getElementById("api")));
  await page.page.waitForFunction(() => !document.getElementById("api").shadowRoot.querySelector("[part=card]"));
  // An unmounted host stays unmounted, even when refresh() re-reads the page.
  await page.page.evaluate(() => window.Mighty.refresh());
  await page.page.waitForTimeout(200);
  assert.equal(await page.page.locator("#api [part=card]").count(), 0);
  // Called with no element: nothing is thrown into the page's script; mount's promise says why.
  const misuse = await page.page.evaluate(() => {
    window.Mighty.unmount(null);
    return window.Mighty.mount(null).then(() => "resolved", (error) => error.message);
  });
  assert.equal(misuse, "Mighty.mount: the first argument must be an element");
  await page.page.close();
});

test("the loader included twice starts one runtime", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/twice.html");
  await page.waitForEvents("ready", 2);
  await page.page.waitForTimeout(300);
  assert.equal((await page.events("ready")).length, 2, "each host mounted once");
  assert.equal(page.wasmRequests().length, 1);
  assert.equal(page.requests.filter((url) => /mighty-[0-9a-f]{10}\.js$/.test(url)).length, 1);
  await page.page.close();
});

const ISOLATION_PROPERTIES = [
  "font-family", "font-size", "font-weight", "font-style", "color", "letter-spacing", "word-spacing",
  "text-transform", "line-height", "text-align", "background-color", "padding-top", "margin-top",
  "border-top-width", "cursor",
];
const WIDGET_ELEMENTS = [".root", ".title", ".seller", ".rating", "[part=offer]", ".offer-name", ".price"];

async function widgetStyles(path) {
  const page = await WidgetPage.open(browser.context, path);
  await page.waitForEvents("ready", 1);
  const styles = {};
  for (const selector of WIDGET_ELEMENTS) {
    styles[selector] = await page.computedStyle(`[data-mighty] ${selector}`, ISOLATION_PROPERTIES);
  }
  await page.page.close();
  return styles;
}

test("the host page's CSS does not change the widget, inherited properties included", async () => {
  const hostile = await widgetStyles("/www/examples/isolation.html");
  const plain = await widgetStyles("/www/examples/isolation-plain.html");
  assert.deepEqual(hostile, plain);
});

test("a host the page pads and borders (border-box) still does not shift", async () => {
  // The host's height also as the card is built, before its first frame (read in the event).
  const page = await WidgetPage.open(browser.context, "/www/examples/isolation.html", () => {
    document.addEventListener("mighty:ready", (event) => { window.__heightAtReady = event.target.getBoundingClientRect().height; });
  });
  const tab = page.page;
  const before = await tab.locator("[data-mighty]").evaluate((host) => host.getBoundingClientRect().height);
  await tab.waitForFunction(() => window.__heightAtReady !== undefined);
  const atReady = await tab.evaluate(() => window.__heightAtReady);
  const after = await tab.locator("[data-mighty]").evaluate((host) => host.getBoundingClientRect().height);
  assert.deepEqual([before, atReady, after], [before, before, before]);
  assert.equal(await page.layoutShift(), 0);
  await page.page.close();
});

test("the widget's CSS does not change the page", async () => {
  const pageElements = ["body", "h1", ".page-heading", ".page-text", ".page-text button", ".page-box"];
  const properties = [...ISOLATION_PROPERTIES, "display", "width", "height"];
  const measure = async (withWidget) => {
    const page = await browser.context.newPage();
    if (!withWidget) await page.route("**/dist/mighty.js", (route) => route.abort());
    await page.goto(new URL("/www/examples/isolation.html", BASE_URL).href);
    if (withWidget) {
      await page.locator("[data-mighty] [part=card]").waitFor();
    }
    const styles = {};
    for (const selector of pageElements) {
      styles[selector] = await page.locator(selector).first().evaluate((element, names) => {
        const style = getComputedStyle(element);
        return Object.fromEntries(names.map((name) => [name, style.getPropertyValue(name)]));
      }, properties);
    }
    await page.close();
    return styles;
  };
  assert.deepEqual(await measure(true), await measure(false));
});

test("the bundle works from a CDN on another origin, under that page's strict CSP", async () => {
  // Everything is served by Playwright from dist/: a directory on one origin, the bundle on a
  // CDN origin at a deep path. The browser enforces CORS for the module and the wasm.
  const dist = new URL("../../dist/", import.meta.url);
  const cdn = "https://cdn.example.com/mighty/v1/";
  const page = await browser.context.newPage();
  const errors = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  await page.route(`${cdn}**`, (route) => {
    const name = new URL(route.request().url()).pathname.split("/").pop();
    const type = name.endsWith(".wasm") ? "application/wasm" : "text/javascript";
    route.fulfill({ status: 200, body: readFileSync(new URL(name, dist)), headers: { "content-type": type, "access-control-allow-origin": "*" } });
  });
  await page.route("https://directory.example/favicon.ico", (route) => route.fulfill({ status: 204 }));
  await page.route("https://directory.example/", (route) => route.fulfill({
    status: 200,
    headers: {
      "content-type": "text/html",
      "content-security-policy": "default-src 'self'; script-src 'self' https://cdn.example.com 'wasm-unsafe-eval'; style-src 'self'; connect-src https://cdn.example.com",
    },
    body: `<!doctype html><html lang="en"><head><script type="module" src="${cdn}mighty.js"></script></head>
      <body><div data-mighty data-mighty-title="Far-flung candle" data-mighty-price="7.00" data-mighty-eager></div></body></html>`,
  }));
  await page.goto("https://directory.example/");
  await page.locator("[data-mighty] [part=card]").waitFor({ timeout: 20_000 });
  assert.match(await page.locator("[data-mighty] [part=offer]").innerText(), /€7\.00/);
  assert.deepEqual(errors, []);
  assert.ok(readdirSync(dist).some((name) => name.endsWith(".wasm")));
  await page.close();
});

test("a listing refuses origins that are not on its allowlist, readably", async () => {
  const response = await fetch(new URL("/v1/listings/private-studio", BASE_URL), { headers: { Origin: "https://elsewhere.example" } });
  assert.equal(response.status, 403);
  assert.equal(response.headers.get("access-control-allow-origin"), "https://elsewhere.example");
  assert.deepEqual((await response.json()).error.code, "origin_not_allowed");
  const allowed = await fetch(new URL("/v1/listings/private-studio", BASE_URL), { headers: { Origin: "https://studio-argile.example" } });
  assert.equal(allowed.status, 200);
  const listing = await allowed.json();
  assert.equal(listing.allowed_origins, undefined, "the allowlist is not served");
  assert.match(listing.server_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test("when the bundle cannot load, hosts keep their fallback and report bundle_unavailable", async () => {
  const page = await browser.context.newPage();
  const events = [];
  await page.exposeFunction("__recordError", (detail) => events.push(detail));
  await page.addInitScript(() => document.addEventListener("mighty:error", (event) => window.__recordError(event.detail)));
  await page.route(/\/dist\/mighty-[0-9a-f]{10}\.js$/, (route) => route.abort());
  await page.goto(new URL("/www/examples/broken.html", BASE_URL).href);
  await page.waitForFunction(() => true);
  await expectSoon(() => events.length >= 1);
  assert.ok(events.every((detail) => detail.error.code === "bundle_unavailable"), JSON.stringify(events));
  assert.equal(await page.locator("[data-mighty='in-a-list']").innerText(), "A list item cannot hold the widget.");
  assert.equal(await page.evaluate(() => document.querySelector("[data-mighty='works']").shadowRoot), null);
  await page.close();
});

async function expectSoon(condition, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
