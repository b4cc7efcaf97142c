// The sandbox's hosted pay page, driven in Chromium through its standard `autocomplete`
// fields (SPEC section 7): success, decline, a bad card number, an expired card.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL, PayPage } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

let keys = 0;
/** A fresh checkout session for the seeded leather wallet (a bundle that ships). */
async function openSession() {
  keys += 1;
  const response = await fetch(new URL("/v1/checkout/sessions", BASE_URL), {
    method: "POST",
    headers: { "Content-Type": "application/json", "Idempotency-Key": `pay-e2e-${Date.now()}-${keys}` },
    body: JSON.stringify({
      listing_id: "atelier-cuir", offer_id: "wallet", quantity: 1,
      attribution: { creator: null, token: null, variant: null, page: `${BASE_URL}/` },
      return_url: `${BASE_URL}/?mighty_listing=atelier-cuir`,
    }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return response.json();
}

async function sessionStatus(id) {
  const response = await fetch(new URL(`/v1/checkout/sessions/${id}`, BASE_URL));
  return (await response.json()).status;
}

test("a test card pays and ends on a receipt with the way back to the shop", async () => {
  const session = await openSession();
  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  assert.match(await page.locator(".test-mode").innerText(), /test mode/i);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  assert.match(await page.locator("h1").innerText(), /Payment received/);
  assert.match(await page.locator(".receipt").innerText(), /•••• 4242/);
  const back = await page.getByRole("link", { name: "Back to the shop" }).getAttribute("href");
  assert.equal(back, `${BASE_URL}/?mighty_listing=atelier-cuir&mighty_session=${session.session_id}`);
  assert.equal(await sessionStatus(session.session_id), "paid");
  await page.close();
});

test("a declined card fails the session", async () => {
  const session = await openSession();
  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  const pay = new PayPage(page);
  await pay.fill({ number: "4000 0000 0000 0002" });
  await pay.submit();
  assert.match(await page.getByRole("alert").innerText(), /declined/);
  assert.equal(await sessionStatus(session.session_id), "failed");
  await page.close();
});

test("a bad card number and an expired card are shown next to their field", async () => {
  const session = await openSession();
  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4241" });
  await pay.submit();
  assert.match(await pay.errorFor("cc-number"), /not valid/);
  assert.equal(await pay.field("email").inputValue(), "shopper@example.com", "what was typed is kept");

  await pay.fill({ number: "4242 4242 4242 4242", expiry: "01/21" });
  await pay.submit();
  assert.match(await pay.errorFor("cc-exp"), /expired/);
  assert.equal(await sessionStatus(session.session_id), "open");
  await page.close();
});

test("the pay page works with the keyboard alone", async () => {
  const session = await openSession();
  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  await page.keyboard.press("Tab");
  const typed = ["shopper@example.com", "Camille Martin", "4242424242424242", "12/34", "123",
    "Camille Martin", "12 rue de la République", "69002", "Lyon", "France"];
  for (const value of typed) {
    await page.keyboard.type(value);
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Enter");
  await page.waitForLoadState("domcontentloaded");
  assert.match(await page.locator("h1").innerText(), /Payment received/);
  await page.close();
});

test("in a popup, the receipt tells the opener, addressed to the shop's origin", async () => {
  const session = await openSession();
  const shop = await browser.context.newPage();
  await shop.goto(new URL("/www/examples/blank.html", BASE_URL).href);
  await shop.evaluate(() => {
    window.__messages = [];
    window.addEventListener("message", (event) => window.__messages.push({ origin: event.origin, data: event.data }));
  });
  const [popup] = await Promise.all([
    shop.waitForEvent("popup"),
    shop.evaluate((url) => { window.open(url, "mighty-checkout", "popup,width=480,height=720"); }, session.redirect_url),
  ]);
  await popup.waitForLoadState("domcontentloaded");
  const pay = new PayPage(popup);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  await shop.waitForFunction(() => window.__messages.length > 0, null, { timeout: 10_000 });
  const [message] = await shop.evaluate(() => window.__messages);
  assert.equal(message.origin, new URL(BASE_URL).origin);
  assert.deepEqual(message.data, { type: "mighty:checkout", session_id: session.session_id });
  assert.match(await popup.locator("#return-status").innerText(), /close this window/);
  await popup.close();
  await shop.close();
});

test("without an opener, the receipt returns to the shop with mighty_session", async () => {
  const session = await openSession();
  const page = await browser.context.newPage();
  await page.goto(session.redirect_url);
  const pay = new PayPage(page);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  await page.waitForURL(/mighty_session=/, { timeout: 10_000 });
  const url = new URL(page.url());
  assert.equal(url.searchParams.get("mighty_session"), session.session_id);
  assert.equal(url.searchParams.get("mighty_listing"), "atelier-cuir");
  await page.close();
});
