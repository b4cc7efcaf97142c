// Dynamic value bundles (issue 15), end to end against the real server. A bundle with two
// offer variants: the listing document serves each one's share; a checkout naming a variant is
// charged that variant's stored price (the 201's `amount`, the hosted pay page in Chromium, the
// order), never a price from the browser, and an unknown variant is refused naming the field.
// Then a bandit driven by simulated traffic and the sandbox clock through the public API:
// visitors split by the served shares, their views beaconed, purchases paid on the pay page,
// the clock moved an hour (the recompute interval) between rounds: the better variant's share
// grows and the test stops on its own at ≥ 95 %.
// And in Chromium with the widget: its view is beaconed and counted for the variant shown; a
// visitor keeps the variant first shown (price and all) on every reload, even after the shares
// move, and the checkout it starts names that variant and is charged its stored price; a new
// visitor is shown what the shares now say.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL, SELLER_TOKEN, PayPage, sellerApi, showListing, until } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

let listingCount = 0;
/** A fresh listing whose bundle has variants `a` (the offer's 24.00) and `b` (22.00, one more
 * item); not shipped, so the pay page asks for no address. */
async function variantListing() {
  listingCount += 1;
  const id = `bandit-${Date.now()}-${listingCount}`;
  await sellerApi("PUT", `/v1/listings/${id}`, {
    version: 1, id, title: "Candle studio", currency: "EUR",
    creators: [{ handle: "ana", name: "Ana Ruiz" }],
    offers: [{
      id: "trio", kind: "bundle", name: "Candle trio", price: 2400, items: ["3 candles", "gift box"],
      variants: [{ id: "a" }, { id: "b", price: 2200, items: ["3 candles", "gift box", "matches"] }],
      variant_bounds: { floor: 1800, ceiling: 3000 },
    }],
    checkout: { endpoint: "/v1/checkout/sessions" }, allowed_origins: ["*"],
  });
  return id;
}

/** The shares the listing document serves now: `{a, b}`. */
async function shares(listingId) {
  const response = await fetch(new URL(`/v1/listings/${listingId}`, BASE_URL));
  assert.equal(response.status, 200);
  const document = await response.json();
  return Object.fromEntries(document.offers[0].variants.map((variant) => [variant.id, variant.share]));
}

let keyCount = 0;
/** `POST /v1/checkout/sessions` as the widget sends it, with `extra` fields. */
async function checkout(listingId, extra) {
  keyCount += 1;
  const response = await fetch(new URL("/v1/checkout/sessions", BASE_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `bandit-${Date.now()}-${keyCount}` },
    body: JSON.stringify({
      listing_id: listingId, offer_id: "trio", quantity: 1,
      attribution: { creator: null, token: null, variant: "ana", page: `${BASE_URL}/` },
      return_url: `${BASE_URL}/?mighty_listing=${listingId}`,
      ...extra,
    }),
  });
  return { status: response.status, body: await response.json() };
}

/** Pays a session on the hosted pay page's form (its plain HTML post). */
async function payByForm(session) {
  const form = new URLSearchParams({
    email: "shopper@example.com", "cc-name": "Camille Martin", "cc-number": "4242424242424242",
    "cc-exp": "12/34", "cc-csc": "123",
  });
  const response = await fetch(session.redirect_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: form,
  });
  assert.match(await response.text(), /Payment received/);
}

/** Beacons `count` views of `offerVariant` as a server-side sender (the seller's token). */
async function views(listingId, prefix, offerVariant, count) {
  const at = new Date().toISOString();
  const events = Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${index}`, type: "view", listing_id: listingId, creator: null, variant: "ana",
    offer_variant: offerVariant, visitor_id: `visitor-${prefix}-${index}`, at,
  }));
  for (let start = 0; start < events.length; start += 100) {
    const response = await fetch(new URL("/v1/events", BASE_URL), {
      method: "POST",
      headers: { "Content-Type": "text/plain", Authorization: `Bearer ${SELLER_TOKEN}` },
      body: JSON.stringify({ events: events.slice(start, start + 100) }),
    });
    assert.equal(response.status, 200, await response.text());
  }
}

test("the document serves shares and a checkout is charged the stored price of the variant shown", async () => {
  const listingId = await variantListing();
  const served = await shares(listingId);
  assert.deepEqual(Object.keys(served), ["a", "b"]);
  assert.ok(Math.abs(served.a + served.b - 1) < 1e-3, JSON.stringify(served));
  assert.ok(served.a >= 0.1 && served.b >= 0.1, "a young test keeps a floor for each");

  // The browser's word on price is never taken: the stored variant's price is charged.
  const b = await checkout(listingId, { offer_variant: "b", amount: 1, price: 1 });
  assert.equal(b.status, 201, JSON.stringify(b.body));
  assert.equal(b.body.amount, 2200);
  const twoA = await checkout(listingId, { offer_variant: "a", quantity: 2 });
  assert.equal(twoA.body.amount, 4800);
  const refused = await checkout(listingId, { offer_variant: "z" });
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.code, "invalid_request");
  assert.equal(refused.body.error.field, "offer_variant");

  // The hosted pay page shows and charges b's price; the order says which variant.
  const page = await browser.context.newPage();
  await page.goto(b.body.redirect_url);
  assert.match(await page.locator("body").innerText(), /22\.00/);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  assert.match(await page.locator("h1").innerText(), /Payment received/);
  await page.close();
  const { orders } = await sellerApi("GET", `/v1/orders?listing=${listingId}`);
  assert.equal(orders.length, 1);
  assert.equal(orders[0].amount, 2200);
  assert.equal(orders[0].offer_variant, "b");
});

test("a bandit driven by simulated traffic and the sandbox clock stops on the better variant", async () => {
  // 4 % of a's views buy at 24.00 (0.96 a view), 10 % of b's at 22.00 (2.20 a view).
  const listingId = await variantListing();
  const history = [await shares(listingId)];
  const seen = { a: 0, b: 0 };
  const every = { a: 25, b: 10 };
  for (let round = 0; round < 12 && history.at(-1).b < 1; round += 1) {
    const current = history.at(-1);
    // 400 visitors split by the served shares, as the widget splits them.
    const visitors = 400;
    const forA = Math.round(visitors * (current.a / (current.a + current.b)));
    const arrivals = { a: forA, b: visitors - forA };
    for (const id of ["a", "b"]) {
      await views(listingId, `${listingId}-r${round}-${id}`, id, arrivals[id]);
      const purchases = Math.floor((seen[id] + arrivals[id]) / every[id]) - Math.floor(seen[id] / every[id]);
      for (let purchase = 0; purchase < purchases; purchase += 1) {
        const session = await checkout(listingId, { offer_variant: id });
        assert.equal(session.status, 201);
        assert.equal(session.body.amount, id === "a" ? 2400 : 2200);
        await payByForm(session.body);
      }
      seen[id] += arrivals[id];
    }
    // Between recomputes the same shares are served, whatever arrived.
    assert.deepEqual(await shares(listingId), current);
    await sellerApi("POST", "/sandbox/clock/advance", { seconds: 3600 });
    history.push(await shares(listingId));
  }
  const bShares = history.map((served) => served.b);
  assert.ok(bShares[1] > bShares[0] + 0.3, `b's share grows: ${bShares}`);
  assert.equal(bShares.at(-1), 1, `b ends with every visitor: ${bShares}`);
  const test = (await sellerApi("GET", `/v1/metrics?listing=${listingId}`)).offer_variants[0];
  assert.equal(test.status, "stopped");
  assert.equal(test.winner, "b");
  assert.equal(test.stop_reason, "confident");
  const b = test.variants.find((variant) => variant.id === "b");
  assert.ok(b.probability_best >= 0.95, JSON.stringify(b));
  assert.equal(b.views, seen.b);
  assert.ok(test.history.length >= 2);
  assert.equal(test.history.at(-1).variants.find((variant) => variant.id === "b").share, 1);
  // The seller may still choose otherwise: a's visitors from now on, at a's price.
  const stopped = await sellerApi("POST", `/v1/listings/${listingId}/offers/trio/variants/stop`, { winner: "a" });
  assert.equal(stopped.winner, "a");
  assert.deepEqual(await shares(listingId), { a: 1, b: 0 });
});

const PRICE = { a: /€24\.00/, b: /€22\.00/ };
const AMOUNT = { a: 2400, b: 2200 };

test("a visitor keeps the variant first shown on reload and its checkout is charged that variant's price", async () => {
  const listingId = await variantListing();
  const page = await browser.context.newPage();
  const beacons = `data-mighty-events="/v1/events"`;
  await showListing(page, listingId, beacons);
  const offer = page.locator('[part=offer][data-offer-id="trio"]');
  const shown = await page.evaluate((key) => localStorage.getItem(key), `mighty:offer-variant:${listingId}:trio`);
  assert.ok(shown === "a" || shown === "b", `the variant shown is remembered: ${shown}`);
  const price = await offer.locator(".price").innerText();
  assert.match(price, PRICE[shown]);
  // Its view is beaconed with the variant, and counted for it.
  await until(async () => {
    const test = (await sellerApi("GET", `/v1/metrics?listing=${listingId}`)).offer_variants[0];
    return test.variants.find((variant) => variant.id === shown).views >= 1;
  }, "the view counted for the variant shown");

  // The seller now sends every new visitor to the other variant; this visitor keeps theirs.
  const other = shown === "a" ? "b" : "a";
  await sellerApi("POST", `/v1/listings/${listingId}/offers/trio/variants/stop`, { winner: other });
  for (let reload = 0; reload < 2; reload += 1) {
    await showListing(page, listingId, beacons);
    assert.equal(await offer.locator(".price").innerText(), price, "the same price on reload");
  }

  // The checkout names the variant shown, and the partner charges its stored price.
  const [request, popup] = await Promise.all([
    page.waitForRequest((candidate) => candidate.method() === "POST" && new URL(candidate.url()).pathname === "/v1/checkout/sessions"),
    page.waitForEvent("popup"),
    offer.locator("[part=checkout]").click(),
  ]);
  assert.equal(request.postDataJSON().offer_variant, shown);
  const created = await (await request.response()).json();
  assert.equal(created.amount, AMOUNT[shown]);
  await popup.close().catch(() => {});
  await page.close();

  // A new visitor (another profile) is shown the variant the shares now give everyone.
  const newcomer = await launchBrowser();
  try {
    const fresh = await newcomer.context.newPage();
    await showListing(fresh, listingId);
    assert.match(await fresh.locator('[part=offer][data-offer-id="trio"] .price').innerText(), PRICE[other]);
  } finally {
    await newcomer.close();
  }
});
