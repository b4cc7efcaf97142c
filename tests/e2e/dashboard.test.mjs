// The demo seller's dashboard after `cargo xtask seed` (the history `cargo xtask demo` seeds):
// its own server and database (the seeding moves the seller's clock eight weeks on, which the
// other files' shared server must not see), the seeder run against it through the public API,
// then the dashboard in Chromium under the strict CSP: every chart drawn from the seeded data,
// named, and matching the table behind it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchBrowser, until } from "./support.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "msk_dashboard_e2e_seller_token";
const SCREENSHOT = process.env.MIGHTY_DASHBOARD_SCREENSHOT;
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js"); // a path: also saves a screenshot

let server;
let work;
let base;
let browser;

async function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

before(async () => {
  const binary = join(ROOT, "target/debug/mighty-server");
  assert.ok(existsSync(binary), `${binary} is built by cargo xtask test before the end-to-end tests`);
  work = mkdtempSync(join(tmpdir(), "mighty-dashboard-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, [], {
    cwd: ROOT,
    stdio: "ignore",
    env: {
      ...process.env,
      MIGHTY_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite:${join(work, "mighty.db")}`,
      MIGHTY_SELLER_TOKEN: TOKEN,
      MIGHTY_SEED_LISTINGS: "www/listings",
      RUST_LOG: "warn",
    },
  });
  await until(async () => (await fetch(`${base}/healthz`).catch(() => null))?.ok, "the dashboard's own server", 30_000);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The numbers of a chart's table (`details table`), by row: the cells after the row header. */
async function tableRows(figure) {
  return figure.locator("details table tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent.trim())),
  );
}

/** Maps an SVG coordinate back to a value with the chart's own axis: two ticks' positions. */
async function axisInverse(svg, coordinate) {
  const ticks = await svg.locator("g.value-axis g.tick").evaluateAll((groups, coordinate) =>
    groups.map((group) => ({ value: Number(group.dataset.value), at: Number(group.querySelector("line").getAttribute(coordinate)) })),
    coordinate,
  );
  assert.ok(ticks.length >= 2, "an axis with labelled ticks");
  const [a, b] = [ticks[0], ticks.at(-1)];
  return (position) => a.value + ((position - a.at) * (b.value - a.value)) / (b.at - a.at);
}

test("cargo xtask seed brings the dashboard to life: every chart drawn from the history, with its table", async () => {
  const started = Date.now();
  const output = execFileSync("cargo", ["run", "--quiet", "--package", "xtask", "--", "seed", base], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, MIGHTY_SELLER_TOKEN: TOKEN },
  });
  assert.match(output, /seeded eight weeks of history/, output);
  console.log(output.trim());
  const seconds = (Date.now() - started) / 1000;
  // A second run leaves the history as it is (the clock must not move twice).
  const again = execFileSync("cargo", ["run", "--quiet", "--package", "xtask", "--", "seed", base], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, MIGHTY_SELLER_TOKEN: TOKEN },
  });
  assert.match(again, /already there/, again);

  // The directory's drop moved with the clock: it still opens about as far ahead as before.
  const trio = await (await fetch(`${base}/v1/listings/candle-trio`)).json();
  assert.ok(Date.parse(trio.drop.starts_at) > Date.parse(trio.server_time), `${trio.drop.starts_at} after ${trio.server_time}`);
  if (trio.drop.popup) assert.ok(Date.parse(trio.drop.popup.opens_at) > Date.parse(trio.drop.ends_at), `the pop-up still after the drop: ${JSON.stringify(trio.drop)}`);

  const metrics = await (await fetch(`${base}/v1/metrics?listing=candle-studio`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
  assert.ok(metrics.funnel.views > 1000 && metrics.funnel.paid_commits > 50, JSON.stringify(metrics.funnel));

  const page = await browser.context.newPage();
  const violations = [];
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => window.__violations?.push(event.violatedDirective) ?? (window.__violations = [event.violatedDirective]));
  });
  // Every request the page makes succeeds (the browser's own favicon probe aside).
  page.on("response", (response) => {
    if (response.status() >= 400 && !response.url().endsWith("/favicon.ico")) violations.push(`${response.status()} ${response.url()}`);
  });
  await page.goto(`${base}/dashboard`);
  await page.getByLabel("Seller token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: /eight weeks of demo history/ }).click();
  await page.locator("svg#revenue").waitFor();

  // Every chart is an image with a title and a description, and no style attribute anywhere.
  const charts = await page.locator("svg[role=img]").evaluateAll((svgs) => svgs.map((svg) => ({
    id: svg.id, title: svg.querySelector("title")?.textContent, desc: svg.querySelector("desc")?.textContent,
  })));
  for (const id of ["revenue", "funnel", "conversion", "by-creator", "by-source", "cohorts"]) {
    const chart = charts.find((chart) => chart.id === id);
    assert.ok(chart?.title && chart?.desc, `chart ${id} named: ${JSON.stringify(charts)}`);
  }
  assert.equal(await page.locator("[style]").count(), 0, "no style attributes under the strict CSP");
  assert.deepEqual(await page.evaluate(() => window.__violations ?? []), [], "no CSP violation");
  assert.deepEqual(violations, [], "no failed request");

  // Revenue per week: eight points, placed on the axis where the table's amounts are.
  const revenue = page.locator("figure", { has: page.locator("svg#revenue") });
  const weeks = await tableRows(revenue);
  assert.equal(weeks.length, 8);
  const toValue = await axisInverse(revenue.locator("svg"), "y1");
  const points = await revenue.locator("circle.point").evaluateAll((circles) => circles.map((circle) => Number(circle.getAttribute("cy"))));
  assert.equal(points.length, 8);
  weeks.forEach(([, amount], index) => {
    const minor = Math.round(Number(amount.split(" ")[0]) * 100);
    assert.ok(Math.abs(toValue(points[index]) - minor) <= 50, `week ${index}: ${amount} drawn at ${toValue(points[index])}`);
  });
  assert.ok(weeks.filter(([, amount]) => !amount.startsWith("0.00")).length >= 7, `revenue in the weeks: ${JSON.stringify(weeks)}`);

  // The funnel: four bars, narrowing, the counts those of /v1/metrics.
  const bars = await page.locator("svg#funnel rect.bar").evaluateAll((rects) => rects.map((rect) => Number(rect.dataset.value)));
  assert.deepEqual(bars, [metrics.funnel.views, metrics.funnel.demo_plays, metrics.funnel.checkout_starts, metrics.funnel.paid_commits]);
  assert.ok(bars.every((count, index) => index === 0 || count < bars[index - 1]), `${bars}`);

  // Conversion per variant: a dot and a whisker per segment, the dot inside its interval.
  const intervals = await page.locator("svg#conversion g.interval").evaluateAll((groups) => groups.map((group) => ({
    value: Number(group.querySelector("circle").dataset.value),
    low: Number(group.querySelector("line.whisker").dataset.low),
    high: Number(group.querySelector("line.whisker").dataset.high),
  })));
  assert.ok(intervals.length >= 2, JSON.stringify(intervals));
  for (const { value, low, high } of intervals) assert.ok(low <= value && value <= high && high > 0);

  // Cohorts: a heat map with coloured cells, and its table.
  assert.ok(await page.locator("svg#cohorts rect.cell").count() >= 20);
  const cohorts = await tableRows(page.locator("figure", { has: page.locator("svg#cohorts") }));
  assert.ok(cohorts.length >= 7, JSON.stringify(cohorts));

  // The bundle variants: revenue per view with its interval per variant, and the shares the
  // bandit served over time (a band per variant, a table row per recompute).
  const [offer] = metrics.offer_variants;
  assert.equal(await page.locator(`svg#offer-${offer.offer_id} g.interval`).count(), offer.variants.length);
  assert.equal(await page.locator(`svg#offer-${offer.offer_id}-shares path.band`).count(), offer.variants.length);
  const shares = await tableRows(page.locator("figure", { has: page.locator(`svg#offer-${offer.offer_id}-shares`) }));
  assert.equal(shares.length, offer.history.length);
  assert.ok(offer.history.length >= 20, `a share point a day: ${offer.history.length}`);

  // Saves: the seeded pause and move to a lower tier, each instead of a cancel.
  assert.equal(metrics.saves.total, 2, JSON.stringify(metrics.saves));
  const saves = await page.locator(".tile", { hasText: "Saves" }).innerText();
  assert.match(saves, /^Saves from a cancel\s+2\s+1 pause, 1 lower tier · 30\.00 EUR a month kept$/, saves);

  // Where the revenue comes from: the split of /v1/metrics, and its warning.
  const sources = await page.locator("svg#by-source rect.bar").count();
  assert.equal(sources, metrics.concentration.by_source.parts.length);
  const dominant = metrics.concentration.by_source.dominant;
  assert.ok(dominant, "the seeded history relies on Instagram on purpose");
  assert.match(await page.locator(".warning").first().innerText(), new RegExp(`One source brings ${Math.round(dominant.share * 100)} %`));

  // axe-core finds no WCAG 2.1 A/AA violation (contrast included) with every table open.
  // Evaluated through the DevTools protocol, not a script tag: the page keeps its strict CSP.
  await page.evaluate(() => document.querySelectorAll("details").forEach((details) => { details.open = true; }));
  await page.evaluate(readFileSync(AXE, "utf8"));
  const axe = await page.evaluate(async () => (await window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  })).violations.map((violation) => `${violation.id}: ${violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join(", ")}`));
  assert.deepEqual(axe, [], "no accessibility violation");
  await page.evaluate(() => document.querySelectorAll("details").forEach((details) => { details.open = false; }));

  if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.close();
  console.log(`seeded in ${seconds.toFixed(1)} s (cargo run included)`);
});
