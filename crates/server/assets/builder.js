// The snippet builder (served by mighty-server): the seller fills in a listing, the real
// widget previews it live (Mighty.mount), core's validation messages appear next to their
// field (the widget's mighty:error names the attribute), and the snippet is ready to copy.
const form = document.getElementById("builder");
const preview = document.getElementById("preview");
const snippet = document.getElementById("snippet");
const copyButton = document.getElementById("copy");
const copyStatus = document.getElementById("copy-status");
const exponents = JSON.parse(document.getElementById("currencies").textContent);
const scriptUrl = new URL("/dist/mighty.js", location.href).href;

const FIELDS = ["id", "title", "seller", "price", "currency", "rating", "reviews", "checkout"];
const attributeOf = (field) => (field === "id" ? "data-mighty" : `data-mighty-${field}`);

function values() {
  const data = {};
  for (const field of FIELDS) data[field] = form.elements[field].value.trim();
  return data;
}

function clearErrors() {
  for (const field of FIELDS) {
    const input = form.elements[field];
    input.removeAttribute("aria-invalid");
    document.getElementById(`${field}-error`).textContent = "";
  }
}

function showError(message) {
  // Core's message starts with the attribute it is about: "data-mighty-price: ...".
  const [where, ...rest] = message.split(": ");
  const field = FIELDS.find((name) => attributeOf(name) === where) ?? "title";
  form.elements[field].setAttribute("aria-invalid", "true");
  document.getElementById(`${field}-error`).textContent = rest.join(": ") || message;
}

/** Major units ("24.50") to minor units (2450), exactly, as text arithmetic. */
function minorUnits(price, currency) {
  const exponent = exponents[currency] ?? 2;
  const [whole, fraction = ""] = price.split(".");
  return Number(whole + fraction.padEnd(exponent, "0"));
}

const escapeAttribute = (text) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/**
 * JSON to place inside HTML (the inline `<script type="application/json">`): JSON.stringify
 * leaves `</script>` and `<!--` as they are, which would end the element or open a comment.
 * `<`, `>`, `&`, U+2028 and U+2029 become `\uXXXX` escapes: JSON.parse of the text still gives
 * the same value back.
 */
const jsonForHtml = (value) => JSON.stringify(value).replace(/[<>&\u2028\u2029]/g,
  (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** The listing's URL on this server (the "Listing URL" snippet): its feed endpoint. */
const listingUrl = (id) => new URL(`/v1/listings/${encodeURIComponent(id)}`, location.href).href;

function render(data, valid) {
  const mode = form.elements.mode.value;
  const lines = [`<script type="module" src="${scriptUrl}"></script>`];
  if (mode === "url" && valid) {
    const checkout = data.checkout ? `\n     data-mighty-checkout="${escapeAttribute(data.checkout)}"` : "";
    lines.push(`<div data-mighty="${escapeAttribute(data.id)}"\n     data-mighty-listing="${escapeAttribute(listingUrl(data.id))}"${checkout}></div>`);
  } else if (mode === "json" && valid) {
    const currency = data.currency || "EUR";
    const document = {
      version: 1, id: data.id || undefined, title: data.title, currency,
      seller: data.seller ? { name: data.seller } : undefined,
      trust: data.rating ? { rating: { value: Number(data.rating), count: Number(data.reviews || 0) } } : undefined,
      offers: [{ id: "default", kind: "bundle", name: data.title, price: minorUnits(data.price, currency) }],
      checkout: data.checkout ? { endpoint: data.checkout } : undefined,
    };
    lines.push(`<div data-mighty="${escapeAttribute(data.id)}">`);
    lines.push(`  <script type="application/json" data-mighty-config>${jsonForHtml(document)}</script>`);
    lines.push("</div>");
  } else {
    const attributes = FIELDS.filter((field) => data[field]).map((field) => `${attributeOf(field)}="${escapeAttribute(data[field])}"`);
    lines.push(`<div ${attributes.join("\n     ")}></div>`);
  }
  snippet.value = lines.join("\n");
}

let pending = 0;
async function update() {
  const data = values();
  let config = {};
  if (form.elements.mode.value === "url") {
    // The stored listing itself, exactly as a directory page would get it.
    config = { id: data.id, listing: listingUrl(data.id), checkout: data.checkout || undefined };
  } else {
    for (const field of FIELDS) if (data[field]) config[field] = data[field];
  }
  config.locale = "en-US";
  clearErrors();
  const ticket = ++pending;
  let valid = true;
  const onError = (event) => {
    valid = false;
    if (ticket === pending) showError(event.detail.error.message);
  };
  preview.addEventListener("mighty:error", onError);
  await window.Mighty.mount(preview, config);
  // Errors are reported within the mount; give the async ones a tick.
  await new Promise((resolve) => setTimeout(resolve, 50));
  preview.removeEventListener("mighty:error", onError);
  if (ticket === pending) render(data, valid);
}

/** Minor units (6800) to the major-unit text the price field takes ("68.00"). */
function majorUnits(minor, currency) {
  const exponent = exponents[currency] ?? 2;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  return exponent === 0 ? whole : `${whole}.${digits.slice(digits.length - exponent)}`;
}

// "Start from a listing": the server's copy of a listing fills the form (its first offer's
// price, or its first tier's), and the Listing URL snippet points at it.
const pick = document.getElementById("pick");
pick.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = pick.elements.pick;
  const error = document.getElementById("pick-error");
  const id = input.value.trim();
  input.removeAttribute("aria-invalid");
  error.textContent = "";
  let listing = null;
  try {
    const response = await fetch(listingUrl(id), { headers: { Accept: "application/json" } });
    if (response.ok) listing = await response.json();
    else error.textContent = response.status === 404 ? `There is no listing "${id}" on this server.` : `The server answered ${response.status}.`;
  } catch (_) {
    error.textContent = "The server could not be reached.";
  }
  if (!listing) {
    input.setAttribute("aria-invalid", "true");
    return;
  }
  const offer = listing.offers?.[0] ?? {};
  const minor = offer.price ?? offer.tiers?.[0]?.price ?? 0;
  const set = (field, value) => { form.elements[field].value = value ?? ""; };
  set("id", listing.id);
  set("title", listing.title);
  set("seller", listing.seller?.name);
  set("currency", listing.currency);
  set("price", majorUnits(typeof minor === "object" ? minor.amount : minor, listing.currency));
  set("rating", listing.trust?.rating?.value);
  set("reviews", listing.trust?.rating?.count);
  if (listing.checkout?.endpoint) set("checkout", new URL(listing.checkout.endpoint, location.href).href);
  form.elements.mode.value = "url";
  await update();
});

let timer = null;
form.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(update, 150);
});
form.addEventListener("change", () => update());
form.addEventListener("submit", (event) => event.preventDefault());
copyButton.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(snippet.value);
    copyStatus.textContent = "Copied: paste it where the listing goes.";
  } catch (_) {
    snippet.select();
    copyStatus.textContent = "Select the snippet and copy it (Ctrl+C).";
  }
});
update();
