// Unlucky and unusual pages (issue 14): the widget degrades and never breaks. Each test puts
// the page in one bad situation (no observers, right-to-left, a listing server that fails for
// a while, a missing stylesheet or word file, Prototype.js, a throwing Intl, a narrow phone)
// and checks what the shopper and the site owner see, and that nothing reaches the page's
// own error monitoring (no uncaught exception, no unhandled promise rejection).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, WidgetPage, BASE_URL, until } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const CANDLES = "/www/listings/candle-trio.json";

/** What the page's own error monitoring would see. */
function monitor() {
  window.__unhandled = [];
  window.addEventListener("unhandledrejection", (event) => window.__unhandled.push(`unhandled rejection: ${event.reason}`));
  window.addEventListener("error", (event) => window.__unhandled.push(`uncaught: ${event.message}`));
}

async function openBlank(init, options = {}) {
  const page = await WidgetPage.open(browser.context, options.path ?? "/www/examples/blank.html", init);
  await page.page.evaluate(monitor);
  return page;
}

/** A host for `listing` with the page's own fallback child, added to the blank page. */
async function addHost(page, { listing = CANDLES, attributes = "" } = {}) {
  await page.page.evaluate(([url, extra]) => {
    document.getElementById("app").innerHTML =
      `<div data-mighty="" data-mighty-listing="${url}" data-mighty-eager ${extra}><p class="fallback">Lavender candles, 24 € — <a href="#shop">buy on our shop</a></p></div>`;
  }, [listing, attributes]);
}

async function nothingReachedThePage(page) {
  assert.deepEqual(await page.page.evaluate(() => window.__unhandled), []);
  assert.deepEqual(page.consoleErrors.filter((text) => text.startsWith("uncaught")), []);
}

test("without IntersectionObserver and MutationObserver the loader still works: hosts mount at once", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/lazy.html", () => {
    delete window.IntersectionObserver;
    delete window.MutationObserver;
  });
  await page.page.evaluate(monitor);
  assert.equal(await page.page.evaluate(() => typeof window.Mighty?.mount), "function");
  // Far below the fold, and nothing to say when it nears the viewport: mounted at once.
  // (Polled by hand: Playwright's own waiting needs the MutationObserver this page lacks.)
  const ready = async (count) => (await page.events("ready")).length >= count;
  await until(() => ready(1), "the first card");
  assert.equal((await page.events("ready"))[0].detail.listing_id, "far-away");
  // A host added later is found by Mighty.refresh(), with no MutationObserver to see it.
  await page.page.evaluate(() => {
    const host = document.createElement("div");
    host.setAttribute("data-mighty", "later");
    host.setAttribute("data-mighty-title", "Later candle");
    host.setAttribute("data-mighty-price", "9.00");
    host.setAttribute("data-mighty-currency", "EUR");
    document.body.append(host);
    window.Mighty.refresh();
  });
  await until(() => ready(2), "the card of the host added later");
  // textContent: the host sits below the fold, where content-visibility skips its layout.
  assert.match(await page.host("later").locator("[part=offer]").textContent(), /€9\.00/);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("on a right-to-left page the card speaks its own language and direction", async () => {
  const page = await openBlank(() => {
    document.addEventListener("DOMContentLoaded", () => {
      document.documentElement.setAttribute("dir", "rtl");
      document.documentElement.setAttribute("lang", "ar");
    });
  });
  await addHost(page);
  await page.page.locator("[part=card]").waitFor();
  const card = page.page.locator("[part=card]");
  const english = await card.evaluate((element) => {
    const root = element.closest("[lang]");
    return { lang: root?.getAttribute("lang"), dir: element.closest("[dir]")?.getAttribute("dir"), direction: getComputedStyle(element).direction };
  });
  // Arabic has no catalog: the card speaks English, left to right, and says so.
  assert.deepEqual(english, { lang: "en", dir: "ltr", direction: "ltr" });
  await addHost(page, { attributes: 'data-mighty-locale="fr-FR"' });
  await page.page.locator("[part=card]").waitFor();
  assert.equal(await page.page.locator("[part=card]").evaluate((element) => element.closest("[lang]").getAttribute("lang")), "fr");
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a listing server answering 500 keeps the page's fallback, tells the site owner, and is tried again", async () => {
  const page = await openBlank();
  let failures = 1;
  await page.page.route("**/www/listings/candle-trio.json", (route) => {
    if (failures > 0) {
      failures -= 1;
      return route.fulfill({ status: 500, contentType: "application/json", body: '{"error":{"code":"internal","message":"database restarting"}}' });
    }
    return route.continue();
  });
  await addHost(page);
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "listing_unavailable");
  assert.match(error.detail.error.message, /candle-trio\.json answered 500/);
  assert.ok(page.consoleErrors.some((text) => text.startsWith("Mighty:") && text.includes("answered 500")), page.consoleErrors.join("\n"));
  // Shoppers see the page's own fallback, not a developer notice.
  assert.equal(await page.page.locator("p.fallback").isVisible(), true);
  assert.equal(await page.page.locator("[part=notice]").count(), 0);
  // Tried again by itself, with backoff: the card replaces the fallback.
  await page.waitForEvents("ready", 1, 15_000);
  assert.equal(await page.page.locator("p.fallback").isVisible(), false);
  assert.match(await page.page.locator("[part=offer][data-offer-id=trio]").innerText(), /€24\.00/);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a listing unreachable for a while (network down) comes back at once on Mighty.refresh()", async () => {
  const page = await openBlank();
  let blocked = true;
  let attempts = 0;
  await page.page.route("**/www/listings/candle-trio.json", (route) => {
    attempts += 1;
    return blocked ? route.abort("internetdisconnected") : route.continue();
  });
  await addHost(page);
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "listing_unavailable");
  // The first retry comes by itself, a couple of seconds later.
  await until(async () => attempts >= 2, "a retry with backoff", 10_000);
  assert.equal(await page.page.locator("p.fallback").isVisible(), true);
  blocked = false;
  const asked = Date.now();
  await page.page.evaluate(() => window.Mighty.refresh());
  await page.waitForEvents("ready", 1, 5_000);
  assert.ok(Date.now() - asked < 2_500, `ready ${Date.now() - asked} ms after refresh(), not at the next backoff step`);
  // One report per failing spell, not one per retry.
  assert.equal((await page.events("error")).length, 1);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a listing the server refuses (404) keeps its notice: that is the site owner's to fix", async () => {
  const page = await openBlank();
  await addHost(page, { listing: "/www/listings/no-such-listing.json" });
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "listing_unreachable");
  await page.page.locator("[part=notice]").waitFor();
  assert.equal(await page.page.locator("p.fallback").isVisible(), false);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a missing stylesheet: the fallback stays, the error names the stylesheet, nothing unhandled", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html", monitor);
  await page.page.route(/\/dist\/mighty-[0-9a-f]{10}\.css$/, (route) => route.fulfill({ status: 404, body: "gone" }));
  await addHost(page);
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "stylesheet_unavailable");
  assert.match(error.detail.error.message, /mighty-[0-9a-f]{10}\.css/);
  assert.doesNotMatch(error.detail.error.message, /mighty-[0-9a-f]{10}\.js/);
  assert.equal(await page.page.locator("p.fallback").isVisible(), true);
  await page.page.waitForTimeout(300);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a missing word file: the card speaks English and the console names the file", async () => {
  const page = await WidgetPage.open(browser.context, "/www/examples/blank.html", monitor);
  await page.page.route(/\/dist\/mighty-[0-9a-f]{10}\.json$/, (route) => route.abort());
  await addHost(page, { attributes: 'data-mighty-locale="de-DE"' });
  await page.waitForEvents("ready", 1);
  assert.equal(await page.page.locator("[part=share]").innerText(), "Share");
  assert.ok(page.consoleErrors.some((text) => /^Mighty: .*mighty-[0-9a-f]{10}\.json/.test(text)), page.consoleErrors.join("\n"));
  await nothingReachedThePage(page);
  await page.page.close();
});

test("the loading skeleton is visible while the listing loads", async () => {
  const page = await openBlank();
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  await page.page.route("**/www/listings/candle-trio.json", async (route) => {
    await held;
    await route.continue();
  });
  await addHost(page);
  const bars = page.page.locator(".skeleton > *");
  await bars.first().waitFor();
  const widths = await bars.evaluateAll((elements) => elements.map((element) => element.getBoundingClientRect().width));
  assert.ok(widths.length >= 3 && widths.every((width) => width > 50), `skeleton bars: ${widths}`);
  release();
  await page.waitForEvents("ready", 1);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("Mighty.mount reads a listing object as it is, even with Prototype.js's Array.prototype.toJSON", async () => {
  const page = await openBlank(() => {
    // Prototype.js 1.6: arrays serialize themselves as a JSON *string*.
    Array.prototype.toJSON = function () {
      return "[" + this.map((value) => JSON.stringify(value)).join(", ") + "]";
    };
  });
  await page.page.evaluate(() => {
    const host = document.createElement("div");
    document.getElementById("app").append(host);
    return window.Mighty.mount(host, {
      checkout: "/v1/checkout/sessions",
      listing: {
        version: 1, id: "proto-candles", title: "Prototype candles", currency: "EUR",
        offers: [{ id: "pair", kind: "bundle", name: "Two candles", price: 1800, items: ["2 candles"] }],
      },
    });
  });
  await page.waitForEvents("ready", 1);
  assert.deepEqual(await page.events("error"), []);
  assert.match(await page.page.locator("[part=offer][data-offer-id=pair]").innerText(), /€18\.00/);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("a throwing Intl.NumberFormat#format: the card still shows exact prices, nothing reaches the page", async () => {
  const page = await openBlank(() => {
    Object.defineProperty(Intl.NumberFormat.prototype, "format", {
      get() {
        return () => {
          throw new TypeError("format is broken on this page");
        };
      },
    });
  });
  await addHost(page);
  await page.waitForEvents("ready", 1);
  assert.match(await page.page.locator("[part=offer][data-offer-id=trio]").innerText(), /24\.00 EUR/);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("an exception while the card is drawn leaves a notice and mighty:error, not a blank host", async () => {
  const page = await openBlank(() => {
    // A broken media polyfill: every call throws.
    HTMLMediaElement.prototype.canPlayType = function () {
      throw new Error("canPlayType polyfill exploded");
    };
  });
  await addHost(page);
  const [error] = await page.waitForEvents("error", 1);
  assert.equal(error.detail.error.code, "render_failed");
  assert.match(error.detail.error.message, /canPlayType polyfill exploded/);
  await page.page.locator("[part=notice]").waitFor();
  // Another host on the same page still works afterwards.
  await page.page.evaluate(() => {
    const host = document.createElement("div");
    for (const [name, value] of [["data-mighty", "plain"], ["data-mighty-title", "Plain candle"], ["data-mighty-price", "7.00"], ["data-mighty-currency", "EUR"], ["data-mighty-eager", ""]]) {
      host.setAttribute(name, value);
    }
    document.body.append(host);
  });
  await page.waitForEvents("ready", 1);
  // textContent: innerText of a card that content-visibility has not laid out yet is "".
  assert.match(await page.host("plain").locator("[part=offer]").textContent(), /€7\.00/);
  await nothingReachedThePage(page);
  await page.page.close();
});

test("nothing is cut off at 320 px, in English, French, Spanish and German", async () => {
  const page = await openBlank();
  await page.page.setViewportSize({ width: 320, height: 800 });
  const problems = [];
  for (const listing of ["candle-trio", "fleurs-de-saone", "atelier-cuir", "kissa-ramen", "velo-atelier"]) {
    for (const locale of ["en-US", "fr-FR", "es-ES", "de-DE"]) {
      await addHost(page, { listing: `/www/listings/${listing}.json`, attributes: `data-mighty-locale="${locale}"` });
      await page.page.locator("[part=card]").waitFor();
      const cut = await page.page.locator("[part=card]").evaluate((card) => {
        const box = card.getBoundingClientRect();
        const found = [];
        for (const element of card.querySelectorAll("*")) {
          const style = getComputedStyle(element);
          if (style.display === "none" || style.visibility === "hidden" || element.closest("[hidden], .sr")) continue;
          const rect = element.getBoundingClientRect();
          if (rect.width === 0 || rect.height === 0) continue;
          const label = `${element.tagName.toLowerCase()}.${element.className} "${(element.textContent || "").trim().slice(0, 30)}"`;
          if (rect.left < box.left - 0.5 || rect.right > box.right + 0.5) found.push(`${label} outside the card (${rect.left.toFixed(0)}–${rect.right.toFixed(0)} of ${box.left.toFixed(0)}–${box.right.toFixed(0)})`);
          // Text clipped inside its own box (one line that does not fit).
          const clips = ["hidden", "clip"].includes(style.overflowX) && style.webkitLineClamp === "none";
          if (clips && element.scrollWidth > element.clientWidth + 1) found.push(`${label} clipped (${element.scrollWidth} > ${element.clientWidth})`);
        }
        return found;
      });
      for (const line of cut) problems.push(`${listing} ${locale}: ${line}`);
    }
  }
  assert.deepEqual(problems, []);
  await nothingReachedThePage(page);
  await page.page.close();
});
