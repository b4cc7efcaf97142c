// Type declarations of @mighty-commerce/widget: the JS API (`mount`, `unmount`, `refresh`,
// `consent`, `version`, and `window.Mighty`), the `mighty:*` DOM events and their `detail`
// (on elements, `document` and `window`: the events bubble and are composed), the listing
// document (SPEC sections 3 and 3.1) and the `data-mighty-*` attributes. Names are public
// API: they match the embed guide (README) and SPEC word for word.

// --- the listing document (version 1) -----------------------------------------------------

/** ISO 4217 currency code in capitals: `"EUR"`, `"JPY"`, `"KWD"`. */
export type CurrencyCode = string;

/** An amount in minor units with its currency: `{"amount": 2400, "currency": "EUR"}`. */
export interface Money {
  /** Whole minor units (2400 for 24.00 EUR; JPY has none, KWD three). Never a float. */
  amount: number;
  currency: CurrencyCode;
}

/**
 * A price: whole minor units in the document's `currency` (`2400` for 24.00), or
 * {@link Money} whose currency must be the document's. Never a float, never a string.
 */
export type Price = number | Money;

/** An RFC 3339 date-time with an offset: `"2026-12-01T18:00:00Z"`. */
export type DateTime = string;

/** Who sells: shown on the card. */
export interface ListingSeller {
  name: string;
  location?: string;
  /** `http(s)` only. */
  url?: string;
}

/** One source of a demo video. */
export interface DemoSource {
  src: string;
  /** A media type with codecs: `'video/webm; codecs="vp9,opus"'`. */
  type?: string;
}

/** A creator's short demo video (about 15 s). WebM (VP9/Opus) plays in every Chromium. */
export interface Demo {
  /** A video URL or a list of sources. */
  src: string | DemoSource[];
  poster?: string;
  /** WebVTT captions. */
  captions?: string;
  duration_s?: number;
}

export interface Creator {
  /** 1 to 64 ASCII letters, digits, `_`, `-`, `.`: what creator links and variants name. */
  handle: string;
  name?: string;
  avatar?: string;
  demo?: Demo;
}

/**
 * Badge ids the card draws with an icon and words; others are shown as written.
 */
export type KnownBadge =
  | "local-maker" | "handmade" | "ships-48h" | "free-shipping" | "organic" | "eco"
  | "verified-seller" | "gift-ready" | "women-owned" | "money-back";

export interface Trust {
  rating?: { value: number; count: number };
  testimonials?: { author?: string; text: string; verified?: boolean }[];
  case_studies?: { title: string; metric?: string; url?: string }[];
  badges?: (KnownBadge | (string & {}))[];
}

/** How a bundle reaches the shopper (SPEC 3.1): `pickup` needs the drop's `popup`. */
export type Fulfilment = "ship" | "pickup";

/**
 * A variant of a bundle (SPEC 3.1): 2 to 4 per offer, ids unique within it. What it sets
 * replaces the offer's own price, `compare_at` and items.
 */
export interface OfferVariant {
  id: string;
  /** Within the offer's `variant_bounds`, when it has them. */
  price?: Price;
  compare_at?: Price;
  items?: string[];
  /** Added by the server that serves the document: the variant's current traffic share. */
  readonly share?: number;
}

/** A one-time purchase. */
export interface BundleOffer {
  id: string;
  kind: "bundle";
  name: string;
  price: Price;
  compare_at?: Price;
  items?: string[];
  ships?: boolean;
  /** Defaults to `["ship"]` when `ships` is true, else none. */
  fulfilment?: Fulfilment[];
  variants?: OfferVariant[];
  /** The prices the seller allows the variants; `floor` ≤ `ceiling`. */
  variant_bounds?: { floor: Price; ceiling: Price };
}

export type Interval = "day" | "week" | "month" | "year";

export interface Tier {
  id: string;
  name: string;
  price: Price;
  interval: Interval;
  perks?: string[];
}

/** A membership with tiers and an upgrade path. */
export interface RetainerOffer {
  id: string;
  kind: "retainer";
  name: string;
  /** At least one. */
  tiers: Tier[];
}

export type Offer = BundleOffer | RetainerOffer;

/** A drop's pop-up stand (SPEC 3.1). */
export interface Popup {
  name: string;
  address: string;
  /** Decimal degrees, -90 to 90. */
  lat: number;
  /** Decimal degrees, -180 to 180. */
  lon: number;
  /** RFC 3339 with an offset; before `closes_at`. */
  opens_at: DateTime;
  closes_at: DateTime;
  /** A name in the IANA time zone database: `"Europe/Paris"` (the server refuses one it lacks). */
  timezone: string;
}

/** A drop gates the listing's bundles: a window and a stock. */
export interface Drop {
  starts_at: DateTime;
  ends_at: DateTime;
  inventory?: number;
  /** Added by the server that serves the document. */
  readonly remaining?: number;
  popup?: Popup;
}

/**
 * A listing document, version 1 (SPEC sections 3 and 3.1): `data-mighty-listing`'s URL
 * answers one, the inline `<script type="application/json" data-mighty-config>` holds one,
 * and `mount(element, { listing })` takes one. Unknown fields are ignored.
 */
export interface ListingDocument {
  version: 1;
  /** `[A-Za-z0-9_-]{1,64}`; a non-empty `data-mighty` must equal it. */
  id?: string;
  title: string;
  summary?: string;
  /** The currency of every price of the document. */
  currency: CurrencyCode;
  seller?: ListingSeller;
  creators?: Creator[];
  trust?: Trust;
  offers: Offer[];
  drop?: Drop;
  checkout?: { endpoint: string };
  /** Added by the server that serves the document: countdowns follow it. */
  readonly server_time?: DateTime;
  /** Added by the server: the card says it is a test. */
  readonly test_mode?: boolean;
}

// --- the data-mighty-* attributes ---------------------------------------------------------

/**
 * The attributes of a widget host, as the embed guide lists them. Every one is optional but
 * a data source; attribute values are strings. A changed attribute re-renders the host; a
 * removed host is unmounted.
 */
export interface MightyHostAttributes {
  /** Marks a host; its value is the listing id (empty: the document's `id`). */
  "data-mighty": string;
  /** URL of a listing document (relative URLs resolve against the page). */
  "data-mighty-listing"?: string;
  /** The listing from the page's JSON-LD (`Product`, `Offer` or `LocalBusiness`). */
  "data-mighty-source"?: "schema.org";
  /** A minimal listing from attributes: its title (with `-price`). */
  "data-mighty-title"?: string;
  /** The minimal listing's seller name. */
  "data-mighty-seller"?: string;
  /** The minimal listing's one `bundle` offer (id `default`), in major units: `"24.00"`. */
  "data-mighty-price"?: string;
  /** The minimal listing's currency; default `EUR`. */
  "data-mighty-currency"?: CurrencyCode;
  /** The minimal listing's demo video URL. */
  "data-mighty-demo"?: string;
  /** The minimal listing's demo poster URL. */
  "data-mighty-demo-poster"?: string;
  /** The minimal listing's creator handle. */
  "data-mighty-creator"?: string;
  /** The minimal listing's rating, 0 to 5: `"4.8"`. */
  "data-mighty-rating"?: string;
  /** The minimal listing's review count: `"132"`. */
  "data-mighty-reviews"?: string;
  /** The partner's checkout endpoint (overrides the document's). */
  "data-mighty-checkout"?: string;
  /** `popup` (default) or `redirect`. */
  "data-mighty-checkout-mode"?: "popup" | "redirect";
  /** URL that receives analytics beacons; none: no beacons. */
  "data-mighty-events"?: string;
  /** BCP 47 tag; default the page's `lang`, then the browser's. */
  "data-mighty-locale"?: string;
  /** `light`, `dark` or `auto` (default). */
  "data-mighty-theme"?: "light" | "dark" | "auto";
  /** `required`: no storage, no visitor id and no beacons until `consent(true)`. */
  "data-mighty-consent"?: "required";
  /** The attribution window in days, 1 to 365; default 30. */
  "data-mighty-attribution-days"?: `${number}`;
  /** Load at once instead of near the viewport (`"false"` turns it off). */
  "data-mighty-eager"?: "" | "true" | "false";
}

// --- the JS API -----------------------------------------------------------------------------

/**
 * What `mount` takes: the attribute names without `data-mighty-`, in camelCase; they win over
 * the host's attributes. `null` or `false` removes what an attribute said.
 */
export interface MountConfig {
  /** The `data-mighty` value (the listing id). */
  id?: string | null;
  /** A listing document's URL, or the document itself (read as it is). */
  listing?: string | ListingDocument | null;
  /** `data-mighty-source`. */
  source?: "schema.org" | null;
  /** `data-mighty-title`. */
  title?: string | null;
  /** `data-mighty-seller`. */
  seller?: string | null;
  /** `data-mighty-price`, in major units: `"24.00"` or `24`. */
  price?: string | number | null;
  /** `data-mighty-currency`. */
  currency?: CurrencyCode | null;
  /** `data-mighty-demo`. */
  demo?: string | null;
  /** `data-mighty-demo-poster`. */
  demoPoster?: string | null;
  /** `data-mighty-creator`. */
  creator?: string | null;
  /** `data-mighty-rating`. */
  rating?: string | number | null;
  /** `data-mighty-reviews`. */
  reviews?: string | number | null;
  /** `data-mighty-checkout`. */
  checkout?: string | null;
  /** `data-mighty-checkout-mode`. */
  checkoutMode?: "popup" | "redirect" | null;
  /** `data-mighty-events`. */
  events?: string | null;
  /** `data-mighty-locale`. */
  locale?: string | null;
  /** `data-mighty-theme`. */
  theme?: "light" | "dark" | "auto" | null;
  /** `data-mighty-consent`: `true` or `"required"` means required. */
  consent?: "required" | boolean | null;
  /** `data-mighty-attribution-days`, 1 to 365. */
  attributionDays?: number | `${number}` | null;
  /** `data-mighty-eager`. */
  eager?: boolean | null;
}

/** `window.Mighty`, defined as soon as the loader runs. */
export interface MightyApi {
  /**
   * Mounts (or re-mounts) a widget on any element, at once (no viewport wait). Resolves once
   * the widget is mounting; rejects only when `element` is not an element.
   */
  mount(element: Element, config?: MountConfig): Promise<void>;
  /** Unmounts it; the fallback children show again; the loader leaves it alone until `mount`. */
  unmount(element: Element): void;
  /**
   * Finds new hosts, forgets removed ones, re-renders hosts whose attributes changed, and
   * tries again at once the hosts waiting for their listing or for the bundle.
   */
  refresh(): void;
  /** Records the shopper's consent for `data-mighty-consent="required"`. */
  consent(given: boolean): void;
  /** The widget's version. */
  readonly version: string;
}

export declare function mount(element: Element, config?: MountConfig): Promise<void>;
export declare function unmount(element: Element): void;
export declare function refresh(): void;
export declare function consent(given: boolean): void;
export declare const version: string;

// --- the mighty:* events ----------------------------------------------------------------------

/** `error.code` of `mighty:error`. */
export type MightyErrorCode =
  | "invalid_config" | "malformed_document" | "listing_unreachable" | "listing_unavailable"
  | "render_failed" | "unsupported_host" | "id_mismatch" | "bundle_unavailable"
  | "stylesheet_unavailable";

/**
 * `error.code` of `mighty:checkout-error`: the partner's own codes pass through as it sent
 * them, so other strings are possible.
 */
export type CheckoutErrorCode =
  | "sold_out" | "drop_closed" | "idempotency_conflict" | "invalid_request"
  | "rate_limited" | "partner_error" | "timeout" | "network_error" | "payment_failed"
  | "session_expired" | "insecure_redirect" | "popup_failed" | "no_checkout" | "upgrade_failed"
  | (string & {});

/** What every card event says: the listing, and who is shown and who brought the shopper. */
export interface MightyCardDetail {
  listing_id: string;
  /** The attributed creator (from a creator link), when there is one. */
  creator?: string;
  /** The shown creator's handle (the A/B variant), when the listing has creators. */
  variant?: string;
}

/** `mighty:ready`: the widget is rendered and interactive. */
export interface MightyReadyDetail {
  listing_id: string;
}

/** `mighty:error`: a config error (the host shows a notice, or keeps its fallback). */
export interface MightyErrorDetail {
  /** The `data-mighty` value when the listing is not known yet (`null` when empty). */
  listing_id: string | null;
  error: { code: MightyErrorCode; message: string };
}

/** `mighty:offer-select`: a tier's radio, or an offer's checkout button. */
export interface MightyOfferSelectDetail extends MightyCardDetail {
  offer_id?: string;
  tier_id?: string;
}

/** `mighty:checkout-start`: a `checkout` button was pressed. */
export interface MightyCheckoutStartDetail extends MightyCardDetail {
  offer_id: string;
  /** The membership's tier. */
  tier_id?: string;
}

/** `mighty:checkout-complete`: the partner says the session is paid. */
export interface MightyCheckoutCompleteDetail extends MightyCardDetail {
  offer_id: string;
  tier_id?: string;
  session_id: string;
}

/** `mighty:checkout-error`: the checkout could not go on. */
export interface MightyCheckoutErrorDetail extends MightyCardDetail {
  offer_id?: string;
  tier_id?: string;
  /** When a session was declined or expired. */
  session_id?: string;
  error: { code: CheckoutErrorCode; message: string };
}

/**
 * Every `mighty:*` event with its `detail`. Dispatched on the host element, bubbling and
 * composed, so listeners on `document` and `window` receive them too.
 */
export interface MightyEventMap {
  /** The widget is rendered and interactive. */
  "mighty:ready": CustomEvent<MightyReadyDetail>;
  /** The card has been at least half visible for one second in a row (once per mount). */
  "mighty:view": CustomEvent<MightyCardDetail>;
  /** The shopper chose a tier or pressed an offer's checkout button. */
  "mighty:offer-select": CustomEvent<MightyOfferSelectDetail>;
  /** A config error. */
  "mighty:error": CustomEvent<MightyErrorDetail>;
  /** A `checkout` button was pressed. */
  "mighty:checkout-start": CustomEvent<MightyCheckoutStartDetail>;
  /** The partner says the session is paid. */
  "mighty:checkout-complete": CustomEvent<MightyCheckoutCompleteDetail>;
  /** The checkout could not go on. */
  "mighty:checkout-error": CustomEvent<MightyCheckoutErrorDetail>;
  /** The shopper pressed Share. */
  "mighty:share": CustomEvent<MightyCardDetail>;
  /** The shown creator's demo starts playing (once per creator shown). */
  "mighty:demo-play": CustomEvent<MightyCardDetail>;
  /** The demo played to its end. */
  "mighty:demo-complete": CustomEvent<MightyCardDetail>;
}

/** A `mighty:*` event name. */
export type MightyEventName = keyof MightyEventMap;

declare global {
  interface Window {
    /** Mighty's JS API, defined as soon as the loader runs. */
    Mighty: MightyApi;
  }
  interface HTMLElementEventMap extends MightyEventMap {}
  interface DocumentEventMap extends MightyEventMap {}
  interface WindowEventMap extends MightyEventMap {}
}
