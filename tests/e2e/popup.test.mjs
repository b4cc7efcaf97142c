// The card's side of issue 15 (SPEC 3.1, 4 and 6) against the real server: the pop-up block
// (its times in the pop-up's own zone while the browser runs in another, the map link, the
// calendar file), the shopper's choice of shipping or pick-up sent with the checkout, and the
// offer variant a visitor keeps across reloads, sent with the checkout and every beacon.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL, sellerApi, showListing, until } from "./support.mjs";

let browser;
before(async () => {
  // The browser in Tokyo; the pop-up in New York.
  browser = await launchBrowser({ timezoneId: "Asia/Tokyo" });
});
after(async () => {
  await browser?.close();
});

let count = 0;
/** A fresh listing: a market box sold in an open drop with a pop-up in New York; `offer`
 * is merged into its bundle offer, `popup` into its pop-up. */
async function marketListing(offer = {}, popup = {}) {
  count += 1;
  const id = `e2e-popup-${Date.now()}-${count}`;
  await sellerApi("PUT", `/v1/listings/${id}`, {
    version: 1, id, title: "Market box", currency: "USD",
    offers: [{ id: "box", kind: "bundle", name: "Market box", price: 3000, items: ["jam", "bread"], ships: true, ...offer }],
    drop: {
      starts_at: "2026-01-01T00:00:00Z", ends_at: "2099-01-01T00:00:00Z", inventory: 50,
      popup: {
        name: "Union Square stand", address: "Union Square, New York, NY 10003",
        lat: 40.7359, lon: -73.9911,
        opens_at: "2037-12-05T10:00:00-05:00", closes_at: "2037-12-05T16:00:00-05:00",
        timezone: "America/New_York",
        ...popup,
      },
    },
    checkout: { endpoint: "/v1/checkout/sessions" }, allowed_origins: ["*"],
  });
  return id;
}

/** The checkout body the card posts next (the request goes on to the server). */
function nextCheckoutBody(page) {
  return page
    .waitForRequest((request) => request.method() === "POST" && new URL(request.url()).pathname === "/v1/checkout/sessions")
    .then((request) => request.postDataJSON());
}

test("the pop-up block says when in New York's time, links the map and the calendar file, and the card does not grow", async () => {
  const id = await marketListing();
  const page = await browser.context.newPage();
  await showListing(page, id);
  const popup = page.locator("[part=popup]");
  await popup.waitFor();
  const text = (await popup.innerText()).replace(/\s+/g, " ");
  assert.match(text, /Union Square stand · Union Square, New York, NY 10003/);
  // 10:00 to 16:00 on the stand's clock, with its zone, although the browser is in Tokyo
  // (where that is Sunday 00:00 to 06:00).
  assert.match(text, /Sat, Dec 5, 10:00 AM – 4:00 PM EST/, text);
  assert.ok(!/12:00 AM|Sun/.test(text), text);
  assert.equal(
    await popup.locator("a[href^='https://www.openstreetmap.org/']").getAttribute("href"),
    "https://www.openstreetmap.org/?mlat=40.7359&mlon=-73.9911#map=17/40.7359/-73.9911",
  );
  const calendar = popup.getByRole("link", { name: "Add to calendar" });
  assert.equal(await calendar.innerText(), "Add to calendar");
  // Opened, not saved: no `download` (phones then open their calendar app).
  assert.equal(await calendar.getAttribute("download"), null);
  const href = await calendar.getAttribute("href");
  assert.equal(href, `${BASE_URL}/v1/listings/${id}/popup.ics`);
  const file = await page.request.get(href);
  assert.equal(file.status(), 200);
  assert.match(file.headers()["content-type"], /^text\/calendar/);
  const ics = await file.text();
  assert.match(ics, /BEGIN:VCALENDAR/);
  assert.match(ics, /Union Square stand/);
  // 10:00 in New York in December is 15:00 UTC.
  assert.match(ics, /DTSTART(;TZID=America\/New_York:20371205T100000|:20371205T150000Z)/);
  // The card keeps its documented height: the block scrolls with the card's body.
  const host = await page.locator(`[data-mighty="${id}"]`).boundingBox();
  const card = await page.locator("[part=card]").boundingBox();
  assert.equal(Math.round(host.height), 420);
  assert.ok(card.height <= 420, `card ${card.height}px`);
  await page.close();
});

test("the shopper picks up at the pop-up by keyboard, and the checkout says so", async () => {
  const id = await marketListing({ ships: undefined, fulfilment: ["ship", "pickup"] });
  const page = await browser.context.newPage();
  await showListing(page, id);
  const offer = page.locator("[data-offer-id=box]");
  const ship = offer.locator("input[value=ship]");
  const pickup = offer.locator("input[value=pickup]");
  // Shipping is the default, shown checked; both are named radios of one group.
  assert.equal(await ship.isChecked(), true);
  assert.equal(await page.getByRole("radio", { name: "Pick up at the pop-up" }).count(), 1);
  assert.equal(await page.getByRole("group", { name: "Delivery" }).count(), 1);
  await ship.focus();
  await page.keyboard.press("ArrowRight");
  assert.equal(await pickup.isChecked(), true);
  // The choice never hides the buy button.
  const buy = offer.locator("[part=checkout]");
  assert.equal(await buy.isVisible(), true);
  const body = nextCheckoutBody(page);
  const opened = page.context().waitForEvent("page");
  await buy.focus();
  await page.keyboard.press("Enter");
  assert.equal((await body).fulfilment, "pickup");
  const popupWindow = await opened;
  await popupWindow.close();
  await page.close();
});

test("once the pop-up has closed, the card offers shipping only (the server refuses a pick-up then)", async () => {
  const id = await marketListing(
    { ships: undefined, fulfilment: ["ship", "pickup"] },
    { opens_at: "2026-01-03T10:00:00-05:00", closes_at: "2026-01-03T16:00:00-05:00" },
  );
  const page = await browser.context.newPage();
  await showListing(page, id);
  const offer = page.locator("[data-offer-id=box]");
  await offer.locator("[part=checkout]").waitFor();
  assert.equal(await offer.locator("input[type=radio]").count(), 0);
  const body = nextCheckoutBody(page);
  const opened = page.context().waitForEvent("page");
  await offer.locator("[part=checkout]").click();
  assert.equal((await body).fulfilment ?? "ship", "ship");
  await (await opened).close();
  await page.close();
});

test("a visitor keeps the offer variant first shown across reloads; the checkout and every beacon name it", async () => {
  const id = await marketListing({
    variants: [{ id: "a", price: 3000 }, { id: "b", price: 2600, items: ["jam", "bread", "honey"] }],
  });
  const served = await (await fetch(new URL(`/v1/listings/${id}`, BASE_URL))).json();
  assert.ok(served.offers[0].variants.every((variant) => typeof variant.share === "number"), "shares are served");

  const page = await browser.context.newPage();
  const batches = [];
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/v1/events") batches.push(request.postData());
  });
  const prices = [];
  for (let load = 0; load < 3; load += 1) {
    await showListing(page, id, `data-mighty-events="/v1/events"`);
    prices.push(await page.locator("[data-offer-id=box] .price").innerText());
  }
  assert.ok(["$30.00", "$26.00"].includes(prices[0]), prices[0]);
  assert.deepEqual(prices, [prices[0], prices[0], prices[0]], "the same price on every load");
  const shown = prices[0] === "$26.00" ? "b" : "a";
  const stored = await page.evaluate((key) => localStorage.getItem(key), `mighty:offer-variant:${id}:box`);
  assert.equal(stored, shown);
  if (shown === "b") {
    assert.match(await page.locator("[data-offer-id=box] .items").innerText(), /honey/);
  }

  const body = nextCheckoutBody(page);
  const opened = page.context().waitForEvent("page");
  await page.locator("[data-offer-id=box] [part=checkout]").click();
  assert.equal((await body).offer_variant, shown);
  await (await opened).close();

  // The view and the checkout's start reach the collector with the variant.
  await until(
    () => batches.some((batch) => batch?.includes('"type":"view"')) && batches.some((batch) => batch?.includes('"type":"checkout-start"')),
    "the view's and the checkout's beacons",
  );
  const events = batches.flatMap((batch) => JSON.parse(batch).events);
  assert.ok(events.length >= 2);
  for (const event of events) {
    assert.equal(event.offer_variant, shown, JSON.stringify(event));
  }
  await page.close();
});

test("with consent required and not given, the offer variant holds for the page view and nothing is stored", async () => {
  const id = await marketListing({
    variants: [{ id: "a", price: 3000 }, { id: "b", price: 2600 }],
  });
  const fresh = await launchBrowser({ timezoneId: "Asia/Tokyo" });
  try {
    const page = await fresh.context.newPage();
    await showListing(page, id, `data-mighty-consent="required"`);
    const price = await page.locator("[data-offer-id=box] .price").innerText();
    // Re-mounted in the same page view: the same variant.
    await page.evaluate(() => window.Mighty.refresh());
    await page.evaluate((listing) => {
      const host = document.querySelector(`[data-mighty="${listing}"]`);
      window.Mighty.unmount(host);
      window.Mighty.mount(host);
    }, id);
    await page.locator("[data-offer-id=box] .price").waitFor();
    assert.equal(await page.locator("[data-offer-id=box] .price").innerText(), price);
    const stored = await page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith("mighty:")));
    assert.deepEqual(stored, []);
    // Consent given: what is shown is kept from now on.
    await page.evaluate(() => window.Mighty.consent(true));
    const kept = await page.evaluate((key) => localStorage.getItem(key), `mighty:offer-variant:${id}:box`);
    assert.equal(kept, price === "$26.00" ? "b" : "a");
  } finally {
    await fresh.close();
  }
});
