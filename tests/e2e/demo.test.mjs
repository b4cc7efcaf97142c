// The creator demo in Chromium: no video bytes before the card is visible, muted play while
// visible and pause when scrolled away, captions, sound and play buttons, reduced motion,
// the other creators one tap away, and the poster with a message when the video fails.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { launchBrowser, BASE_URL, WidgetPage, sellerApi as api } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const CANDLES = "/www/listings/candle-trio.json";

/** The blank page with an eager host for the candle trio (two creators with demos), placed
 * `offset` pixels down the page. */
async function demoPage({ offset = 0, listing = CANDLES, reducedMotion = "no-preference" } = {}) {
  const page = await browser.context.newPage();
  await page.emulateMedia({ reducedMotion });
  await page.addInitScript(() => {
    window.__demo = [];
    for (const type of ["demo-play", "demo-complete"]) {
      document.addEventListener(`mighty:${type}`, (event) => window.__demo.push({ type, detail: event.detail }));
    }
  });
  const shop = new WidgetPage(page);
  await page.goto(new URL("/www/examples/blank.html", BASE_URL).href);
  await page.evaluate(([top, url]) => {
    // Spacers sized through the CSSOM: the page's CSP refuses style attributes.
    const spacer = (height) => {
      const element = document.createElement("div");
      element.style.height = `${height}px`;
      return element;
    };
    const host = document.createElement("div");
    for (const [name, value] of [["data-mighty", ""], ["data-mighty-listing", url], ["data-mighty-eager", ""], ["data-mighty-locale", "en-US"]]) {
      host.setAttribute(name, value);
    }
    document.getElementById("app").append(spacer(top), host, spacer(2000));
  }, [offset, listing]);
  await page.locator("[part=card]").waitFor({ state: "attached" });
  return shop;
}

const NAMES = { ana: "Ana Ruiz", theo: "Théo Marchand" };

/** The handle of the creator shown first (the variant: assigned per visitor, or the link's). */
function shownCreator(page) {
  return page.locator(".creators [aria-pressed=true]").getAttribute("data-creator");
}

function video(page) {
  return page.locator("[part=demo] video");
}

const videoState = (page) => video(page).evaluate((element) => ({
  paused: element.paused, muted: element.muted, time: element.currentTime,
  src: element.currentSrc || element.src, poster: element.poster,
  captions: [...element.textTracks].map((track) => `${track.kind}:${track.mode}`),
}));

test("no video bytes before the card is visible; it plays muted with captions once visible, and pauses when scrolled away", async () => {
  const shop = await demoPage({ offset: 3000 });
  await shop.page.waitForTimeout(500);
  assert.deepEqual(shop.requests.filter((url) => url.endsWith(".webm")), [], "nothing fetched off screen");
  assert.equal((await videoState(shop.page)).paused, true);

  await video(shop.page).scrollIntoViewIfNeeded();
  await shop.page.waitForFunction(() => window.__demo.some((event) => event.type === "demo-play"));
  const playing = await videoState(shop.page);
  const shown = await shownCreator(shop.page);
  assert.equal(playing.paused, false);
  assert.equal(playing.muted, true);
  assert.match(playing.src, new RegExp(`${shown}\\.webm$`));
  assert.deepEqual(playing.captions, ["captions:hidden"], "the card draws the captions itself");
  await shop.page.locator("[part=demo] .captions").filter({ hasText: /\S/ }).waitFor({ timeout: 5_000 });
  const [play] = await shop.page.evaluate(() => window.__demo);
  assert.deepEqual(play.detail, { listing_id: "candle-trio", variant: shown });
  assert.equal(await shop.page.locator("[part=demo] .by-name").innerText(), NAMES[shown]);

  await shop.page.evaluate(() => window.scrollTo(0, 0));
  await shop.page.waitForFunction(() => {
    const host = document.querySelector("[data-mighty]");
    return host.shadowRoot.querySelector("video").paused;
  });
  await shop.page.close();
});

/** A server of the test's own on a free loopback port (another origin than the server's). */
async function otherOrigin(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

test("on a directory of another origin the captions load (CORS), and a video host without CORS still plays, without them", async () => {
  const video = readFileSync(new URL("../../www/media/ana.webm", import.meta.url));
  // A video host that sends no Access-Control-Allow-Origin.
  const media = await otherOrigin((request, response) => response.writeHead(200, { "Content-Type": "video/webm" }).end(video));
  const captions = new URL("/www/media/ana.vtt", BASE_URL).href;
  const withCors = "candle-trio"; // the demo listing: media and captions on the server
  const withoutCors = `e2e-captions-nocors-${Date.now()}`;
  await api("PUT", `/v1/listings/${withoutCors}`, {
    version: 1, id: withoutCors, title: "Candle studio", currency: "EUR",
    creators: [{ handle: "ana", name: "Ana Ruiz", demo: { src: `${media.url}/ana.webm`, captions } }],
    offers: [{ id: "candle", kind: "bundle", name: "Candle", price: 1200 }],
    checkout: { endpoint: "/v1/checkout/sessions" }, allowed_origins: ["*"],
  });
  const site = await otherOrigin((request, response) => {
    const id = new URL(request.url, "http://x").searchParams.get("listing");
    response.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><html lang="en">
      <script type="module" src="${new URL("/dist/mighty.js", BASE_URL)}"></script>
      <div data-mighty="${id}" data-mighty-eager data-mighty-checkout="${new URL("/v1/checkout/sessions", BASE_URL)}"></div>`);
  });
  try {
    for (const [id, expectCues] of [[withCors, true], [withoutCors, false]]) {
      const page = await browser.context.newPage();
      await page.goto(`${site.url}/?listing=${id}`);
      const player = page.locator("[part=demo] video");
      await player.waitFor({ state: "attached" });
      // Playing, whatever became of the captions.
      await page.waitForFunction(() => document.querySelector("[data-mighty]").shadowRoot.querySelector("video").currentTime > 0.2, null, { timeout: 15_000 });
      const state = await player.evaluate((element) => ({ cues: element.textTracks[0]?.cues?.length ?? 0, broken: element.closest(".demo").classList.contains("broken") }));
      assert.equal(state.broken, false, `${id}: the demo plays`);
      if (expectCues) {
        assert.ok(state.cues > 0, `${id}: the caption file loaded`);
        await page.locator("[part=demo] .captions").filter({ hasText: /\S/ }).waitFor({ timeout: 5_000 });
      } else {
        assert.equal(state.cues, 0, `${id}: without CORS on the video, no captions`);
      }
      await page.close();
    }
  } finally {
    site.close();
    media.close();
  }
});

test("the sound button unmutes, progress follows the video, and completion is reported", async () => {
  const shop = await demoPage();
  await shop.page.waitForFunction(() => window.__demo.some((event) => event.type === "demo-play"));
  const sound = shop.page.locator("[part=demo] .sound");
  await sound.click();
  assert.equal((await videoState(shop.page)).muted, false);
  assert.equal(await sound.getAttribute("aria-pressed"), "true");
  assert.equal(await sound.innerText(), "Mute");
  await video(shop.page).evaluate((element) => { element.currentTime = element.duration - 0.5; });
  await shop.page.waitForFunction(() => window.__demo.some((event) => event.type === "demo-complete"), null, { timeout: 10_000 });
  const progress = Number(await shop.page.locator("[part=demo] [role=progressbar]").getAttribute("aria-valuenow"));
  assert.ok(progress > 90, `progress ${progress}`);
  await shop.page.close();
});

test("with reduced motion nothing plays on its own; the play button plays", async () => {
  const shop = await demoPage({ reducedMotion: "reduce" });
  await shop.page.waitForTimeout(800);
  assert.equal((await videoState(shop.page)).paused, true);
  assert.deepEqual(shop.requests.filter((url) => url.endsWith(".webm")), []);
  await shop.page.locator("[part=demo] .play").click();
  await shop.page.waitForFunction(() => window.__demo.some((event) => event.type === "demo-play"));
  assert.equal(await shop.page.locator("[part=demo] .play").innerText(), "Pause");
  await shop.page.close();
});

test("the other creator is one tap away", async () => {
  const shop = await demoPage();
  const other = (await shownCreator(shop.page)) === "ana" ? "theo" : "ana";
  const chip = shop.page.locator(`.creators [data-creator=${other}]`);
  assert.equal(await chip.getAttribute("aria-pressed"), "false");
  await chip.click();
  await shop.page.waitForFunction((handle) => window.__demo.some((event) => event.detail.variant === handle), other);
  const state = await videoState(shop.page);
  assert.match(state.src, new RegExp(`${other}\\.webm$`));
  assert.match(state.poster, new RegExp(`${other}\\.jpg$`));
  assert.equal(await chip.getAttribute("aria-pressed"), "true");
  assert.equal(await shop.page.locator("[part=demo] .by-name").innerText(), NAMES[other]);
  await shop.page.close();
});

test("a video that fails keeps its poster and says so", async () => {
  const response = await fetch(new URL(CANDLES, BASE_URL));
  const listing = await response.json();
  listing.creators = [{ ...listing.creators[0], demo: { ...listing.creators[0].demo, src: "/www/media/missing.webm" } }];
  const shop = await WidgetPage.open(browser.context, "/www/examples/blank.html");
  await shop.page.evaluate((document) => {
    window.Mighty.mount(window.document.getElementById("app").appendChild(window.document.createElement("div")), { listing: document, locale: "en-US" });
  }, listing);
  await shop.page.locator("[part=demo] .failed").filter({ hasText: /cannot play/ }).waitFor({ timeout: 10_000 });
  assert.match((await videoState(shop.page)).poster, /ana\.jpg$/);
  assert.equal(await shop.page.locator("[part=demo] .controls").isVisible(), false);
  assert.deepEqual(shop.consoleErrors.filter((text) => !/missing\.webm|404/.test(text)), []);
  await shop.page.close();
});

test("testimonials rotate, pause while hovered, and stay put with reduced motion", async () => {
  const listing = {
    version: 1, id: "rotating", title: "Rotating", currency: "EUR",
    trust: { testimonials: [
      { author: "Marie", text: "Lovely scent.", verified: true },
      { author: "Paul", text: "Burns for ages.", verified: false },
    ] },
    offers: [{ id: "trio", kind: "bundle", name: "Trio", price: 2400 }],
  };
  for (const reducedMotion of ["no-preference", "reduce"]) {
    const page = await browser.context.newPage();
    await page.emulateMedia({ reducedMotion });
    await page.goto(new URL("/www/examples/blank.html", BASE_URL).href);
    await page.evaluate((document) => {
      window.Mighty.mount(window.document.getElementById("app").appendChild(window.document.createElement("div")), { listing: document });
    }, listing);
    const quote = page.locator(".quote");
    await quote.waitFor();
    assert.match(await quote.innerText(), /Marie/);
    if (reducedMotion === "reduce") {
      await page.waitForTimeout(6_500);
      assert.match(await quote.innerText(), /Marie/, "no rotation with reduced motion");
    } else {
      await quote.filter({ hasText: /Paul/ }).waitFor({ timeout: 8_000 });
      await quote.hover();
      await page.waitForTimeout(6_500);
      assert.match(await quote.innerText(), /Paul/, "paused while hovered");
    }
    await page.close();
  }
});

test("mighty:view once the card has been half visible for a second; mighty:offer-select on a tier", async () => {
  const shop = await demoPage({ offset: 3000 });
  await shop.page.waitForTimeout(1_500);
  await shop.page.evaluate(() => {
    window.__views = [];
    window.__selects = [];
    document.addEventListener("mighty:view", (event) => window.__views.push(event.detail));
    document.addEventListener("mighty:offer-select", (event) => window.__selects.push(event.detail));
  });
  await shop.page.waitForTimeout(300);
  assert.deepEqual(await shop.page.evaluate(() => window.__views), [], "not seen yet: no view");
  // Seen 0.6 s, away a moment, back: a second has passed since it first showed, but not
  // one second in a row, so no view yet; it comes a second after the card came back.
  await shop.page.locator("[part=card]").scrollIntoViewIfNeeded();
  await shop.page.waitForTimeout(600);
  await shop.page.evaluate(() => window.scrollTo(0, 0));
  await shop.page.waitForTimeout(250);
  await shop.page.locator("[part=card]").scrollIntoViewIfNeeded();
  await shop.page.waitForTimeout(400);
  assert.deepEqual(await shop.page.evaluate(() => window.__views), [], "not a second in a row yet: no view");
  await shop.page.waitForFunction(() => window.__views.length === 1, null, { timeout: 5_000 });
  const shown = await shownCreator(shop.page);
  assert.deepEqual(await shop.page.evaluate(() => window.__views[0]), { listing_id: "candle-trio", variant: shown });
  await shop.page.locator("[part=tier][data-tier-id=plus]").click();
  await shop.page.waitForFunction(() => window.__selects.length === 1);
  assert.deepEqual(await shop.page.evaluate(() => window.__selects[0]),
    { listing_id: "candle-trio", offer_id: "club", tier_id: "plus", variant: shown });
  await shop.page.evaluate(() => window.scrollTo(0, 0));
  await shop.page.waitForTimeout(300);
  await shop.page.locator("[part=card]").scrollIntoViewIfNeeded();
  await shop.page.waitForTimeout(1_300);
  assert.equal(await shop.page.evaluate(() => window.__views.length), 1, "once per mount");
  await shop.page.close();
});

test("share copies the creator link (the attribution the shopper came with, else the shown creator) and says so", async () => {
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: BASE_URL });
  // No link: the shown creator's handle; a link: the one the shopper came with.
  for (const [query, linked, token] of [["", null, null], ["?mighty_creator=theo&mighty_token=tok123&q=1", "theo", "tok123"]]) {
    const page = await browser.context.newPage();
    await page.goto(new URL(`/www/examples/blank.html${query}`, BASE_URL).href);
    await page.evaluate(() => {
      window.__shares = [];
      document.addEventListener("mighty:share", (event) => window.__shares.push(event.detail));
      const host = document.createElement("div");
      host.setAttribute("data-mighty", "candle-trio");
      host.setAttribute("data-mighty-listing", "/www/listings/candle-trio.json");
      host.setAttribute("data-mighty-locale", "en-US");
      document.getElementById("app").append(host);
      window.Mighty.mount(host);
    });
    await page.locator("[part=card]").waitFor();
    const creator = linked ?? (await shownCreator(page));
    await page.locator("[part=share]").click();
    await page.locator("[part=status]").filter({ hasText: /Link copied/ }).waitFor({ timeout: 5_000 });
    const copied = new URL(await page.evaluate(() => navigator.clipboard.readText()));
    assert.equal(copied.searchParams.get("mighty_listing"), "candle-trio");
    assert.equal(copied.searchParams.get("mighty_creator"), creator);
    assert.equal(copied.searchParams.get("mighty_token"), token);
    assert.match(await page.locator("[part=status]").innerText(), new RegExp(`Link copied: ${copied.href.replace(/[.?+]/g, "\\$&")}`));
    assert.equal((await page.evaluate(() => window.__shares)).length, 1);
    await page.close();
  }
});
