// The snippet builder in Chromium: the live preview is the real widget, core's errors show
// next to their field, and the copied snippet renders the same widget on a blank page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, BASE_URL } from "./support.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function snippetRendersTheSameWidget(snippet, expectedTitle, expectedPrice) {
  const page = await browser.context.newPage();
  await page.goto(new URL("/www/examples/blank.html", BASE_URL).href);
  // The blank page already loads the script; paste the host element as a site owner would.
  const host = snippet.split("\n").filter((line) => !line.includes("mighty.js")).join("\n");
  await page.evaluate((html) => { document.getElementById("app").innerHTML = html; }, host);
  const card = page.locator("#app [part=card]");
  await card.waitFor();
  assert.equal(await card.locator(".title").innerText(), expectedTitle);
  assert.match(await card.locator("[part=offer]").innerText(), expectedPrice);
  await page.close();
}

test("the builder previews the real widget, shows core's errors, and its snippet works", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(new URL("/builder", BASE_URL).href);
  const previewTitle = page.locator("#preview [part=card] .title");
  await previewTitle.waitFor();
  assert.equal(await previewTitle.innerText(), "Lavender candle trio");

  await page.getByLabel("Title").fill("Beeswax candle set");
  await page.waitForFunction(() => document.querySelector("#preview").shadowRoot.querySelector(".title")?.textContent === "Beeswax candle set");

  await page.getByLabel("Price").fill("24,00");
  await page.locator("#price-error").filter({ hasText: "is not a plain number" }).waitFor();
  assert.equal(await page.getByLabel("Price").getAttribute("aria-invalid"), "true");
  assert.equal(await page.locator("#preview [part=notice]").count(), 1);

  await page.getByLabel("Price").fill("18.50");
  await page.waitForFunction(() => document.querySelector("#price-error").textContent === "");
  await page.locator("#preview [part=card]").waitFor();
  await page.waitForFunction(() => document.querySelector("#snippet").value.includes('data-mighty-price="18.50"'));
  const attributesSnippet = await page.locator("#snippet").inputValue();
  assert.match(attributesSnippet, /data-mighty-price="18\.50"/);
  await snippetRendersTheSameWidget(attributesSnippet, "Beeswax candle set", /€18\.50/);

  await page.getByLabel("Listing JSON inline").check();
  await page.waitForFunction(() => document.querySelector("#snippet").value.includes("data-mighty-config"));
  const jsonSnippet = await page.locator("#snippet").inputValue();
  assert.match(jsonSnippet, /"price":1850/);
  await snippetRendersTheSameWidget(jsonSnippet, "Beeswax candle set", /€18\.50/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the builder starts from a stored listing and gives its Listing URL snippet", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(new URL("/builder", BASE_URL).href);
  await page.locator("#preview [part=card]").waitFor();

  await page.getByLabel("Start from a listing on this server").fill("no-such-listing");
  await page.getByRole("button", { name: "Load the listing" }).click();
  await page.locator("#pick-error").filter({ hasText: 'There is no listing "no-such-listing"' }).waitFor();

  await page.getByLabel("Start from a listing on this server").fill("atelier-cuir");
  await page.getByRole("button", { name: "Load the listing" }).click();
  await page.waitForFunction(() => document.querySelector("#snippet").value.includes("data-mighty-listing"));
  assert.equal(await page.getByLabel("Title").inputValue(), "Hand-stitched leather wallet");
  assert.equal(await page.getByLabel("Price").inputValue(), "68.00");
  assert.ok(await page.getByLabel(/Listing URL/).isChecked());
  const snippet = await page.locator("#snippet").inputValue();
  assert.match(snippet, new RegExp(`data-mighty-listing="${new URL("/v1/listings/atelier-cuir", BASE_URL).href}"`));
  await page.waitForFunction(() => document.querySelector("#preview").shadowRoot.querySelector(".title")?.textContent === "Hand-stitched leather wallet");
  await snippetRendersTheSameWidget(snippet, "Hand-stitched leather wallet", /68/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the inline JSON snippet keeps a hostile title inside its script element", async () => {
  const page = await browser.context.newPage();
  const errors = [];
  const dialogs = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    await dialog.dismiss();
  });
  await page.goto(new URL("/builder", BASE_URL).href);
  await page.locator("#preview [part=card]").waitFor();

  const title = "Wax </script><script>alert(1)</script> <!-- & co";
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Listing JSON inline").check();
  await page.waitForFunction(() => document.querySelector("#snippet").value.includes("data-mighty-config"));
  await page.waitForFunction((expected) => {
    const json = document.querySelector("#snippet").value.match(/data-mighty-config>(.*)<\/script>/)?.[1];
    try { return JSON.parse(json).title === expected; } catch (_) { return false; }
  }, title);
  const snippet = await page.locator("#snippet").inputValue();
  const opening = "<script type=\"application/json\" data-mighty-config>";
  const start = snippet.indexOf(opening) + opening.length;
  const end = snippet.indexOf("</script>", start);
  const json = snippet.slice(start, end);
  assert.doesNotMatch(json, /<\/script/i, "no </script inside the JSON");
  assert.ok(!json.includes("<!--"), "no <!-- inside the JSON");
  assert.doesNotMatch(json, /[<>&\u2028\u2029]/, "<, >, & and the line separators are \\u escapes");
  assert.equal(snippet.slice(end), "</script>\n</div>", "the element ends where the builder ends it");
  assert.equal(JSON.parse(json).title, title, "JSON.parse gives the title back");
  assert.equal(JSON.parse(json).offers[0].name, title);
  await snippetRendersTheSameWidget(snippet, title, /€24\.00/);
  assert.deepEqual(dialogs, [], "no script of the title ran");
  assert.deepEqual(errors, []);
  await page.close();
});
