// Attribution in the widget (SPEC section 5), in Chromium against the real server: a signed
// creator link shows that creator first and the order carries the verified creator; a tampered
// token arrives unverified, on the order and in the seller's signed webhook; reloads keep the
// variant; consent-required mode stores nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import { launchBrowser, BASE_URL, PayPage, sellerApi as api, creatorListing, showListing } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const twoCreatorListing = () => creatorListing("e2e-attribution");

async function open(url, id, attributes = "") {
  const page = await browser.context.newPage();
  await showListing(page, id, attributes, url);
  return page;
}

const shownCreator = (page) => page.locator(".creators [aria-pressed=true]").getAttribute("data-creator");

async function buy(page) {
  const [popup] = await Promise.all([page.waitForEvent("popup"), page.locator("[part=checkout]").click()]);
  await popup.waitForURL(/\/pay\//);
  const pay = new PayPage(popup);
  await pay.fill({ number: "4242 4242 4242 4242" });
  await pay.submit();
  await page.locator("[part=status]").filter({ hasText: /Paid/ }).waitFor({ timeout: 15_000 });
}

/// A webhook receiver on a real socket: collects the seller's deliveries whose signature
/// (SPEC section 8) checks out with the endpoint's secret.
async function webhookReceiver() {
  const deliveries = [];
  let secret = null;
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => { body += chunk; });
    request.on("end", () => {
      const header = request.headers["mighty-signature"] ?? "";
      const t = /t=(\d+)/.exec(header)?.[1];
      const v1 = /v1=([0-9a-f]+)/.exec(header)?.[1];
      const expected = createHmac("sha256", secret ?? "").update(`${t}.${body}`).digest("hex");
      deliveries.push({ signed: v1 === expected, body: JSON.parse(body) });
      response.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/hook`;
  const endpoint = await api("POST", "/v1/webhooks", { url });
  secret = endpoint.secret;
  const close = async () => {
    await api("DELETE", `/v1/webhooks/${endpoint.id}`);
    await new Promise((resolve) => server.close(resolve));
  };
  return { deliveries, close };
}

test("a signed creator link shows that creator first and the order and webhook have the verified creator; a tampered token does not", async () => {
  const receiver = await webhookReceiver();
  const id = await twoCreatorListing();
  const link = await api("POST", `/v1/listings/${id}/creator-links`, { handle: "theo", page: `${BASE_URL}/www/examples/blank.html` });
  const page = await open(link.url, id);
  assert.equal(await shownCreator(page), "theo");
  await buy(page);
  const tampered = new URL(link.url);
  tampered.searchParams.set("mighty_token", `${link.token.slice(0, -1)}${link.token.endsWith("0") ? "1" : "0"}`);
  const other = await browser.context.newPage();
  await other.goto("about:blank");
  const second = await open(tampered.href, id);
  await buy(second);
  const { orders } = await api("GET", `/v1/orders?listing=${id}`);
  const verified = orders.map((order) => [order.creator, order.creator_verified]).sort();
  assert.deepEqual(verified, [["theo", false], ["theo", true]]);
  const completed = () => receiver.deliveries
    .filter(({ body }) => body.type === "checkout.session.completed" && body.data.session.listing_id === id);
  for (let wait = 0; wait < 100 && completed().length < 2; wait += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(completed().every(({ signed }) => signed), "every delivery is signed with the endpoint's secret");
  const webhooks = completed().map(({ body }) => [body.data.session.creator, body.data.session.creator_verified]).sort();
  assert.deepEqual(webhooks, [["theo", false], ["theo", true]]);
  await receiver.close();
  await page.close();
  await second.close();
  await other.close();
});

test("reloads keep the variant; consent-required mode stores nothing until consent, and consent(false) removes it", async () => {
  const id = await twoCreatorListing();
  const blank = new URL("/www/examples/blank.html", BASE_URL).href;
  const page = await open(blank, id);
  const first = await shownCreator(page);
  const visitor = await page.evaluate(() => localStorage.getItem("mighty:visitor"));
  assert.ok(visitor, "a visitor id is kept");
  for (let reload = 0; reload < 3; reload += 1) {
    await page.reload();
    await showListing(page, id, "", null);
    assert.equal(await shownCreator(page), first, "the same variant on every reload");
  }
  await page.close();

  const fresh = await launchBrowser();
  try {
    const consentPage = await fresh.context.newPage();
    await showListing(consentPage, id, `data-mighty-consent="required"`, `${blank}?mighty_creator=ana&utm_source=ig`);
    assert.equal(await consentPage.evaluate(() => localStorage.length), 0);
    assert.equal(await consentPage.evaluate(() => document.cookie), "");
    assert.equal((await fresh.context.cookies()).length, 0);
    // Consent as a banner gives it: after the card is up, with no re-mount. The link the
    // shopper came by is stored then, and so is this page view's visitor id.
    await consentPage.evaluate(() => window.Mighty.consent(true));
    await consentPage.waitForFunction(() => localStorage.getItem("mighty:visitor") !== null);
    const touch = JSON.parse(await consentPage.evaluate((listingId) => localStorage.getItem(`mighty:touch:${listingId}`), id));
    assert.equal(touch.creator, "ana");
    // A later page view of this browser, without the link, consent given as the page starts:
    // Ana's attribution is still there.
    await consentPage.goto(blank);
    await consentPage.evaluate(() => window.Mighty.consent(true));
    await showListing(consentPage, id, `data-mighty-consent="required"`, null);
    assert.equal(await shownCreator(consentPage), "ana");
    // A later visit by a UTM-only link, consent again after the card is up: Ana keeps the touch.
    await showListing(consentPage, id, `data-mighty-consent="required"`, `${blank}?utm_source=newsletter`);
    await consentPage.evaluate(() => window.Mighty.consent(true));
    const kept = JSON.parse(await consentPage.evaluate((listingId) => localStorage.getItem(`mighty:touch:${listingId}`), id));
    assert.equal(kept.creator, "ana");
    await consentPage.evaluate(() => window.Mighty.consent(false));
    await consentPage.waitForFunction(() => Object.keys(localStorage).every((key) => !key.startsWith("mighty:")));
  } finally {
    await fresh.close();
  }
});
