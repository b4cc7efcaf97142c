// Pick-up at a drop's pop-up (issue 15, SPEC 3.1, 4 and 7) against the real server: a bundle
// bought for pick-up through the hosted pay page (no shipping address asked), its receipt's
// pick-up code, where and when, and the seller finding the order by that code as it is read
// out at the stand. The checkout body is posted as the card posts it (`fulfilment`); the
// card's own choice is the widget's tests'. The pop-up's calendar file is read too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { launchBrowser, BASE_URL, PayPage, sellerApi } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const stamp = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");

/** The demo's candle trio under a fresh id, its drop open now on the server's clock and its
 * pop-up tomorrow (written in Paris time, as a seller there would). */
async function pickupListing() {
  const demo = JSON.parse(readFileSync(new URL("../../www/listings/candle-trio.json", import.meta.url), "utf8"));
  const id = `pickup-${Date.now()}`;
  const answer = await fetch(new URL("/v1/listings/candle-trio", BASE_URL));
  const now = Date.parse((await answer.json()).server_time);
  // Paris's offset at that instant (+01:00 in winter, +02:00 in summer): the server refuses
  // an offset that is not the zone's.
  const paris = (ms) => {
    const name = new Intl.DateTimeFormat("en", { timeZone: "Europe/Paris", timeZoneName: "longOffset" })
      .formatToParts(ms).find((part) => part.type === "timeZoneName").value;
    const offset = name === "GMT" ? "+00:00" : name.slice(3);
    const minutes = (offset[0] === "-" ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
    return `${stamp(ms + minutes * 60_000).slice(0, 19)}${offset}`;
  };
  const opens = now + 24 * 3_600_000;
  const document = {
    ...demo, id,
    drop: {
      starts_at: stamp(now - 3_600_000), ends_at: stamp(now + 3 * 24 * 3_600_000), inventory: 10,
      popup: { ...demo.drop.popup, opens_at: paris(opens), closes_at: paris(opens + 6 * 3_600_000) },
    },
  };
  await sellerApi("PUT", `/v1/listings/${id}`, document);
  return { id, opens, closes: opens + 6 * 3_600_000, popup: document.drop.popup };
}

async function checkout(listingId, fulfilment) {
  const response = await fetch(new URL("/v1/checkout/sessions", BASE_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `pickup-e2e-${Date.now()}-${fulfilment}` },
    body: JSON.stringify({
      listing_id: listingId, offer_id: "trio", quantity: 1, fulfilment,
      attribution: { creator: null, token: null, variant: null, page: `${BASE_URL}/` },
      return_url: `${BASE_URL}/?mighty_listing=${listingId}`,
    }),
  });
  return { status: response.status, body: await response.json() };
}

test("a bundle bought for pick-up on the pay page is found by its code at the stand", async () => {
  const listing = await pickupListing();
  const { status, body: session } = await checkout(listing.id, "pickup");
  assert.equal(status, 201, JSON.stringify(session));

  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  // Where and when, and no shipping address to give.
  const summary = await page.locator("main").innerText();
  assert.match(summary, /Picked up at the pop-up stand/);
  assert.match(summary, new RegExp(listing.popup.name));
  assert.equal(await page.locator('input[autocomplete^="shipping"]').count(), 0);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  assert.match(await page.locator("h1").innerText(), /Payment received/);
  const receipt = page.locator(".receipt");
  const shown = await receipt.locator(".pickup-code").innerText();
  assert.match(shown, /^[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3}$/, "six characters without 0, O, 1 or I");
  assert.match(await receipt.innerText(), new RegExp(listing.popup.address.split(",")[0]));
  await page.close();

  // At the stand the seller types what the shopper reads out, in any case, with a space.
  const typed = shown.toLowerCase().replace("-", " ");
  const found = await sellerApi("GET", `/v1/orders?pickup_code=${encodeURIComponent(typed)}`);
  assert.equal(found.orders.length, 1, JSON.stringify(found));
  const [order] = found.orders;
  assert.equal(order.session_id, session.session_id);
  assert.equal(order.fulfilment, "pickup");
  assert.equal(order.pickup_code, shown.replace("-", ""));
  assert.equal(order.shipping, null);
  // Another code finds nothing.
  const other = shown.startsWith("2") ? "333-333" : "222-222";
  assert.deepEqual((await sellerApi("GET", `/v1/orders?pickup_code=${other}`)).orders, []);
});

test("an offer's pick-up needs the choice the offer allows, and the pop-up has a calendar file", async () => {
  const listing = await pickupListing();
  const refused = await checkout(listing.id, "teleport");
  assert.equal(refused.status, 422);
  assert.equal(refused.body.error.field, "fulfilment");

  const response = await fetch(new URL(`/v1/listings/${listing.id}/popup.ics`, BASE_URL));
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/calendar; charset=utf-8");
  const file = await response.text();
  assert.ok(file.includes("\r\nBEGIN:VEVENT\r\n"), file);
  const utc = (ms) => stamp(ms).replace(/[-:]/g, "");
  assert.ok(file.includes(`\r\nDTSTART:${utc(listing.opens)}\r\n`), file);
  assert.ok(file.includes(`\r\nDTEND:${utc(listing.closes)}\r\n`), file);
  const missing = await fetch(new URL("/v1/listings/atelier-cuir/popup.ics", BASE_URL));
  assert.equal(missing.status, 404);
});
