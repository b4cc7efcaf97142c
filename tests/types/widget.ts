// Uses every declaration of @mighty-commerce/widget under `tsc --noEmit --strict` (see
// tsconfig.json), and makes the wrong uses an integrator could make: each is marked
// `@ts-expect-error`, so the check fails if the declarations stop refusing it (or the line
// stops being an error for another reason).
import {
  consent,
  mount,
  refresh,
  unmount,
  version,
  type CheckoutErrorCode,
  type ListingDocument,
  type MightyApi,
  type MightyErrorCode,
  type MightyEventName,
  type MightyHostAttributes,
  type MountConfig,
  type Offer,
} from "@mighty-commerce/widget";

const host = document.createElement("div");

// --- the API, imported and on window ------------------------------------------------------

const mounting: Promise<void> = mount(host, { listing: "/www/listings/candle-trio.json", checkout: "/v1/checkout/sessions", checkoutMode: "popup", eager: true });
void mounting.then(() => unmount(host));
refresh();
consent(true);
const widgetVersion: string = version;
const api: MightyApi = window.Mighty;
void api.mount(host);
api.unmount(host);
api.refresh();
api.consent(false);
const sameVersion: string = window.Mighty.version;

// @ts-expect-error: mount takes an element, not a selector
void mount("#candle-trio");
// @ts-expect-error: unmount needs the element
unmount();
// @ts-expect-error: consent is a boolean
consent("yes");
// @ts-expect-error: the version cannot be set
window.Mighty.version = "2.0.0";
// @ts-expect-error: mount's promise resolves with nothing to read
void mount(host).then((result) => result.listing_id);

// --- the mount config: the attributes in camelCase ------------------------------------------

const config: MountConfig = {
  id: "candle-trio",
  listing: "https://seller.example/listings/candle-trio.json",
  source: "schema.org",
  title: "Lavender candle trio",
  seller: "Hearth & Wick",
  price: "24.00",
  currency: "EUR",
  demo: "https://seller.example/ana.webm",
  demoPoster: "https://seller.example/ana.jpg",
  creator: "ana",
  rating: 4.8,
  reviews: 132,
  checkout: "https://pay.partner.example/v1/checkout/sessions",
  checkoutMode: "redirect",
  events: "https://collector.example/v1/events",
  locale: "fr-FR",
  theme: "dark",
  consent: "required",
  attributionDays: 30,
  eager: false,
};
const removing: MountConfig = { theme: null, listing: null };
// @ts-expect-error: the mode is popup or redirect
const wrongMode: MountConfig = { checkoutMode: "modal" };
// @ts-expect-error: the theme is light, dark or auto
const wrongTheme: MountConfig = { theme: "blue" };
// @ts-expect-error: attribute names are camelCase in a config
const kebab: MountConfig = { "checkout-mode": "popup" };

// --- the listing document (SPEC 3 and 3.1) ----------------------------------------------------

const listing: ListingDocument = {
  version: 1,
  id: "candle-trio",
  title: "Lavender candle trio",
  summary: "Three hand-poured soy candles.",
  currency: "EUR",
  seller: { name: "Hearth & Wick", location: "Lyon", url: "https://hearth.example" },
  creators: [{ handle: "ana", name: "Ana Ruiz", avatar: "https://hearth.example/ana.jpg", demo: { src: [{ src: "https://hearth.example/ana.webm", type: 'video/webm; codecs="vp9,opus"' }], poster: "https://hearth.example/ana.jpg", captions: "https://hearth.example/ana.vtt", duration_s: 15 } }],
  trust: {
    rating: { value: 4.8, count: 132 },
    testimonials: [{ author: "Marie", text: "Lovely.", verified: true }],
    case_studies: [{ title: "Repeat buyers", metric: "+38% repeat", url: "https://hearth.example/case" }],
    badges: ["local-maker", "ships-48h", "a-badge-of-our-own"],
  },
  offers: [
    { id: "trio", kind: "bundle", name: "Candle trio", price: 2400, compare_at: { amount: 3000, currency: "EUR" }, items: ["3 candles"], ships: true, fulfilment: ["ship", "pickup"],
      variants: [{ id: "a", price: 2400 }, { id: "b", price: 2200, items: ["3 candles", "matches"] }], variant_bounds: { floor: 1800, ceiling: 3000 } },
    { id: "club", kind: "retainer", name: "Candle club", tiers: [{ id: "monthly", name: "Monthly", price: 1500, interval: "month" }, { id: "plus", name: "Plus", price: 2500, interval: "month", perks: ["early drops"] }] },
  ],
  drop: { starts_at: "2026-12-01T18:00:00Z", ends_at: "2026-12-04T18:00:00Z", inventory: 50,
    popup: { name: "Croix-Rousse night market", address: "Place de la Croix-Rousse", lat: 45.7745, lon: 4.832, opens_at: "2026-12-05T10:00:00+01:00", closes_at: "2026-12-05T16:00:00+01:00", timezone: "Europe/Paris" } },
  checkout: { endpoint: "https://pay.partner.example/v1/checkout/sessions" },
};
void mount(host, { listing });
const served: ListingDocument = { ...listing, server_time: "2026-12-01T17:00:00Z", test_mode: true };
const remaining: number | undefined = served.drop?.remaining;
// Offers narrow by kind.
const firstOffer: Offer | undefined = listing.offers[0];
if (firstOffer?.kind === "retainer") {
  const tiers: number = firstOffer.tiers.length;
  void tiers;
} else if (firstOffer) {
  const price = firstOffer.price;
  void price;
}
// @ts-expect-error: money is never a float string: whole minor units or {amount, currency}
const stringPrice: Offer = { id: "x", kind: "bundle", name: "X", price: "24.00" };
// @ts-expect-error: a retainer needs its tiers
const noTiers: Offer = { id: "club", kind: "retainer", name: "Club" };
// @ts-expect-error: the interval is day, week, month or year
const fortnight: Offer = { id: "club", kind: "retainer", name: "Club", tiers: [{ id: "t", name: "T", price: 100, interval: "fortnight" }] };
// @ts-expect-error: the document's version is 1
const version2: ListingDocument = { ...listing, version: 2 };
// @ts-expect-error: fulfilment is ship or pickup
const drone: Offer = { id: "trio", kind: "bundle", name: "Trio", price: 2400, fulfilment: ["drone"] };
// @ts-expect-error: offers are required
const noOffers: ListingDocument = { version: 1, title: "T", currency: "EUR" };
// @ts-expect-error: a bundle has no tiers
const bundleWithTiers: Offer = { id: "trio", kind: "bundle", name: "Trio", price: 2400, tiers: [] };

// --- the data-mighty-* attributes ------------------------------------------------------------

const attributes: MightyHostAttributes = {
  "data-mighty": "candle-trio",
  "data-mighty-listing": "/www/listings/candle-trio.json",
  "data-mighty-checkout": "/v1/checkout/sessions",
  "data-mighty-checkout-mode": "redirect",
  "data-mighty-theme": "auto",
  "data-mighty-consent": "required",
  "data-mighty-attribution-days": "30",
  "data-mighty-eager": "",
  "data-mighty-locale": "de-DE",
};
for (const [name, value] of Object.entries(attributes)) host.setAttribute(name, value);
// @ts-expect-error: the theme is light, dark or auto
const blue: MightyHostAttributes = { "data-mighty": "x", "data-mighty-theme": "blue" };
// @ts-expect-error: every host has data-mighty
const unmarked: MightyHostAttributes = { "data-mighty-listing": "/x.json" };
// @ts-expect-error: the attribution window is a number of days
const forever: MightyHostAttributes = { "data-mighty": "x", "data-mighty-attribution-days": "forever" };

// --- the mighty:* events, on elements, document and window -----------------------------------

host.addEventListener("mighty:ready", (event) => {
  const id: string = event.detail.listing_id;
  void id;
});
host.addEventListener("mighty:error", (event) => {
  const id: string | null = event.detail.listing_id;
  const code: MightyErrorCode = event.detail.error.code;
  const message: string = event.detail.error.message;
  void [id, code, message];
});
host.addEventListener("mighty:view", (event) => void [event.detail.listing_id, event.detail.variant, event.detail.creator]);
host.addEventListener("mighty:offer-select", (event) => void [event.detail.offer_id, event.detail.tier_id]);
host.addEventListener("mighty:checkout-start", (event) => {
  const offer: string = event.detail.offer_id;
  const tier: string | undefined = event.detail.tier_id;
  void [offer, tier];
});
document.addEventListener("mighty:checkout-complete", (event) => {
  const session: string = event.detail.session_id;
  void session;
});
window.addEventListener("mighty:checkout-error", (event) => {
  const code: CheckoutErrorCode = event.detail.error.code;
  const session: string | undefined = event.detail.session_id;
  void [code, session];
});
document.addEventListener("mighty:share", (event) => void event.detail.listing_id);
window.addEventListener("mighty:demo-play", (event) => void event.detail.variant);
host.addEventListener("mighty:demo-complete", (event) => void event.detail.variant);
const names: MightyEventName[] = ["mighty:ready", "mighty:view", "mighty:offer-select", "mighty:error", "mighty:checkout-start", "mighty:checkout-complete", "mighty:checkout-error", "mighty:share", "mighty:demo-play", "mighty:demo-complete"];

host.addEventListener("mighty:ready", (event) => {
  // @ts-expect-error: the ready event carries no error
  void event.detail.error.code;
});
host.addEventListener("mighty:checkout-complete", (event) => {
  // @ts-expect-error: the session id is a string
  const session: number = event.detail.session_id;
  void session;
});
document.addEventListener("mighty:error", (event) => {
  // @ts-expect-error: the listing id may be null on an error (the host had no data-mighty value)
  const id: string = event.detail.listing_id;
  // @ts-expect-error: not an error code of mighty:error
  const code: MightyErrorCode = "sold_out";
  void [id, code];
});
window.addEventListener("mighty:checkout-start", (event) => {
  // @ts-expect-error: the detail's field names are snake_case
  void event.detail.offerId;
});
// @ts-expect-error: there is no such event
const notAnEvent: MightyEventName = "mighty:purchase";

void [widgetVersion, sameVersion, config, removing, wrongMode, wrongTheme, kebab, served, remaining, stringPrice, noTiers, fortnight, version2, drone, noOffers, bundleWithTiers, blue, unmarked, forever, names, notAnEvent];
