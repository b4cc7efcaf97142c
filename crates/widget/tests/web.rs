//! Browser unit tests: the widget mounted into real hosts in headless Chromium
//! (`cargo xtask test` runs them through wasm-bindgen-test-runner and ChromeDriver).
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{CustomEvent, Element, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh host element in the page, built from HTML the test controls. The stylesheet is
/// given as the loader gives it (it fetches the CSS file beside the bundle).
fn host_from_html(html: &str) -> Element {
    mighty_widget::stylesheet(include_str!("../src/widget.css"));
    let holder = document().create_element("div").unwrap();
    holder.set_inner_html(html);
    document().body().unwrap().append_child(&holder).unwrap();
    holder.first_element_child().unwrap()
}

/// Resolves with the `detail` of the next `name` event on `host`.
fn next_event(host: &Element, name: &str) -> JsFuture {
    let host = host.clone();
    let name = name.to_string();
    let promise = Promise::new(&mut |resolve: Function, _reject| {
        let options = web_sys::AddEventListenerOptions::new();
        options.set_once(true);
        let callback = Closure::once_into_js(move |event: CustomEvent| {
            let _ = resolve.call1(&JsValue::NULL, &event.detail());
        });
        host.add_event_listener_with_callback_and_add_event_listener_options(
            &name,
            callback.unchecked_ref(),
            &options,
        )
        .unwrap();
    });
    JsFuture::from(promise)
}

fn shadow(host: &Element) -> ShadowRoot {
    host.shadow_root()
        .expect("the widget renders into an open shadow root")
}

fn part(host: &Element, name: &str) -> Option<Element> {
    shadow(host)
        .query_selector(&format!("[part~=\"{name}\"]"))
        .unwrap()
}

fn text(element: &Element) -> String {
    element.text_content().unwrap_or_default()
}

fn field(detail: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(detail.clone(), |value, key| {
        Reflect::get(&value, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    })
}

const CANDLES: &str = r#"{ "version": 1, "id": "candle-trio", "title": "Lavender candle trio", "currency": "EUR",
  "seller": { "name": "Hearth & Wick", "location": "Lyon" },
  "trust": { "rating": { "value": 4.8, "count": 132 } },
  "offers": [
    { "id": "trio", "kind": "bundle", "name": "Candle trio", "price": 2400, "compare_at": 3000, "items": ["3 candles"] },
    { "id": "club", "kind": "retainer", "name": "Candle club",
      "tiers": [ { "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" },
                 { "id": "plus", "name": "Plus", "price": 2500, "interval": "month" } ] } ] }"#;

fn inline_host(attributes: &str, document_json: &str) -> Element {
    host_from_html(&format!(
        "<div data-mighty {attributes}><p class=\"fallback\">fallback</p><script type=\"application/json\" data-mighty-config>{document_json}</script></div>"
    ))
}

#[wasm_bindgen_test]
async fn inline_listing_renders_card_offers_tiers_and_rating() {
    let host = inline_host("data-mighty-locale=\"en-US\"", CANDLES);
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    let detail = ready.await.unwrap();
    assert_eq!(
        field(&detail, &["listing_id"]).as_string().as_deref(),
        Some("candle-trio")
    );

    let card = part(&host, "card").expect("card part");
    assert!(text(&card).contains("Lavender candle trio"));
    assert!(text(&card).contains("Hearth & Wick · Lyon"));
    let bundle = shadow(&host)
        .query_selector("[part=offer][data-offer-id=trio]")
        .unwrap()
        .expect("bundle offer");
    assert!(text(&bundle).contains("€24.00"), "{}", text(&bundle));
    assert!(
        text(&bundle).contains("€30.00"),
        "compare-at price shown: {}",
        text(&bundle)
    );
    let tier = shadow(&host)
        .query_selector("[part=tier][data-tier-id=plus]")
        .unwrap()
        .expect("tier");
    assert!(text(&tier).contains("€25.00 / month"), "{}", text(&tier));
    let trust = part(&host, "trust").expect("rating line");
    assert!(
        text(&trust).contains("Rated 4.8 out of 5 from 132 reviews"),
        "{}",
        text(&trust)
    );
    let status = part(&host, "status").expect("live region");
    assert_eq!(status.get_attribute("aria-live").as_deref(), Some("polite"));
    // The fallback is the host's light DOM, not slotted: not rendered once mounted.
    assert!(shadow(&host).query_selector("slot").unwrap().is_none());
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn prices_use_the_currency_exponent_and_the_locale() {
    let cases = [
        ("en-US", "JPY", 2400, "¥2,400"),
        ("en-US", "KWD", 1500, "1.500"),
        ("fr-FR", "EUR", 2400, "24,00"),
        ("de-DE", "EUR", 123456, "1.234,56"),
    ];
    for (locale, currency, price, expected) in cases {
        let json = format!(
            r#"{{"id": "p", "title": "T", "currency": "{currency}", "offers": [{{"id": "o", "kind": "bundle", "name": "O", "price": {price}}}]}}"#
        );
        let host = inline_host(&format!("data-mighty-locale=\"{locale}\""), &json);
        let ready = next_event(&host, "mighty:ready");
        mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
        ready.await.unwrap();
        let offer = part(&host, "offer").unwrap();
        assert!(
            text(&offer).contains(expected),
            "{locale} {currency} {price}: {}",
            text(&offer)
        );
        mighty_widget::unmount(host);
    }
}

#[wasm_bindgen_test]
async fn seller_text_is_text_never_html() {
    let json = r#"{"id": "x", "title": "<img src=x onerror=alert(1)>", "currency": "EUR", "summary": "<b>bold</b>",
      "offers": [{"id": "o", "kind": "bundle", "name": "<script>alert(1)</script>", "price": 100}]}"#;
    let host = host_from_html("<div></div>");
    let config = Object::new();
    Reflect::set(
        &config,
        &"listing".into(),
        &js_sys::JSON::parse(json).unwrap(),
    )
    .unwrap();
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), config.into());
    ready.await.unwrap();
    let root = shadow(&host);
    assert!(root.query_selector("img, b, script").unwrap().is_none());
    assert!(text(&part(&host, "card").unwrap()).contains("<img src=x onerror=alert(1)>"));
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn a_config_error_shows_a_notice_logs_and_dispatches() {
    let json = r#"{"id": "x", "title": "T", "currency": "EUR", "offers": [{"id": "o", "kind": "bundle", "name": "O", "price": -5}]}"#;
    let host = inline_host("", json);
    let error = next_event(&host, "mighty:error");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    let detail = error.await.unwrap();
    assert_eq!(
        field(&detail, &["error", "code"]).as_string().as_deref(),
        Some("invalid_config")
    );
    let message = field(&detail, &["error", "message"]).as_string().unwrap();
    assert_eq!(
        message,
        "offers[0].price: -5 is negative; a price is 0 or more minor units"
    );
    // The notice is rendered once the loading view is replaced.
    let notice = wait_for_part(&host, "notice").await;
    assert_eq!(notice.get_attribute("role").as_deref(), Some("alert"));
    assert!(text(&notice).contains("offers[0].price"));
    assert!(part(&host, "card").is_none());
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn settings_errors_name_the_attribute() {
    let host = inline_host("data-mighty-theme=\"purple\"", CANDLES);
    let error = next_event(&host, "mighty:error");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    let detail = error.await.unwrap();
    assert!(
        field(&detail, &["error", "message"])
            .as_string()
            .unwrap()
            .starts_with("data-mighty-theme: \"purple\"")
    );
    assert!(text(&part(&host, "notice").unwrap()).contains("data-mighty-theme"));
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn an_element_without_shadow_root_support_gets_a_notice_beside() {
    let list = host_from_html(
        "<ul><li data-mighty=\"x\" data-mighty-title=\"T\" data-mighty-price=\"1\">fallback</li></ul>",
    );
    let host = list.first_element_child().unwrap();
    let error = next_event(&host, "mighty:error");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    let detail = error.await.unwrap();
    assert_eq!(
        field(&detail, &["error", "code"]).as_string().as_deref(),
        Some("unsupported_host")
    );
    assert!(host.shadow_root().is_none());
    let holder = host.query_selector("span").unwrap().expect("notice holder");
    let notice = holder
        .shadow_root()
        .unwrap()
        .query_selector("[part=notice]")
        .unwrap()
        .expect("notice");
    assert!(text(&notice).contains("a <li> cannot hold the widget"));
    mighty_widget::unmount(host.clone());
    assert!(
        host.query_selector("span").unwrap().is_none(),
        "unmount removes the notice"
    );
}

#[wasm_bindgen_test]
async fn unmount_shows_the_fallback_again_and_refresh_rerenders_only_on_change() {
    let host = host_from_html(
        "<div data-mighty data-mighty-title=\"Sourdough kit\" data-mighty-price=\"18.50\" data-mighty-locale=\"en-US\"><p>fallback</p></div>",
    );
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    let detail = ready.await.unwrap();
    assert_eq!(
        field(&detail, &["listing_id"]).as_string().as_deref(),
        Some("sourdough-kit")
    );
    assert!(text(&part(&host, "offer").unwrap()).contains("€18.50"));

    assert!(
        !mighty_widget::refresh(host.clone(), JsValue::UNDEFINED),
        "nothing changed"
    );
    host.set_attribute("data-mighty-price", "21.00").unwrap();
    let ready = next_event(&host, "mighty:ready");
    assert!(mighty_widget::refresh(host.clone(), JsValue::UNDEFINED));
    ready.await.unwrap();
    assert!(text(&part(&host, "offer").unwrap()).contains("€21.00"));

    mighty_widget::unmount(host.clone());
    assert!(part(&host, "card").is_none());
    assert!(
        shadow(&host).query_selector("slot").unwrap().is_some(),
        "the fallback is slotted back in"
    );
}

#[wasm_bindgen_test]
async fn mount_config_takes_camel_case_keys_and_a_listing_document() {
    let host = host_from_html("<div data-mighty-theme=\"dark\"></div>");
    let config = Object::new();
    Reflect::set(
        &config,
        &"listing".into(),
        &js_sys::JSON::parse(CANDLES).unwrap(),
    )
    .unwrap();
    Reflect::set(&config, &"locale".into(), &"de-DE".into()).unwrap();
    Reflect::set(&config, &"theme".into(), &"light".into()).unwrap();
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), config.into());
    ready.await.unwrap();
    assert!(text(&part(&host, "offer").unwrap()).contains("24,00"));
    let root = shadow(&host).query_selector(".root").unwrap().unwrap();
    assert_eq!(
        root.get_attribute("data-theme").as_deref(),
        Some("light"),
        "config wins over the attribute"
    );
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn the_stylesheet_is_adopted_not_inlined() {
    let host = inline_host("", CANDLES);
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    ready.await.unwrap();
    let root = shadow(&host);
    assert!(
        root.query_selector("style, [style]").unwrap().is_none(),
        "no <style> and no style attributes"
    );
    assert_eq!(root.adopted_style_sheets().length(), 1);
    mighty_widget::unmount(host);
}

/// Polls for a part, for states reached through the async loader.
async fn wait_for_part(host: &Element, name: &str) -> Element {
    for _ in 0..100 {
        if let Some(found) = part(host, name) {
            return found;
        }
        JsFuture::from(Promise::new(&mut |resolve, _reject| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 10)
                .unwrap();
        }))
        .await
        .unwrap();
    }
    panic!("no [part={name}] appeared");
}

/// A one-bundle listing with a drop, as a server would serve it at `server_time`.
fn drop_listing(starts_at: &str, ends_at: &str, remaining: u32) -> String {
    format!(
        r#"{{ "version": 1, "id": "drop-test", "title": "Drop", "currency": "EUR",
  "offers": [ {{ "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 }},
              {{ "id": "club", "kind": "retainer", "name": "Club",
                 "tiers": [ {{ "id": "monthly", "name": "Monthly", "price": 1500, "interval": "month" }} ] }} ],
  "drop": {{ "starts_at": "{starts_at}", "ends_at": "{ends_at}", "inventory": 50, "remaining": {remaining} }},
  "server_time": "2026-12-02T12:00:00Z" }}"#
    )
}

fn checkout_button(host: &Element, offer_id: &str) -> web_sys::HtmlButtonElement {
    shadow(host)
        .query_selector(&format!("[data-offer-id={offer_id}] [part=checkout]"))
        .unwrap()
        .expect("checkout button")
        .unchecked_into()
}

#[wasm_bindgen_test]
async fn each_drop_state_shows_its_line_and_opens_or_closes_the_bundle() {
    // The visitor's clock is today; the listing's server_time is 2026-12-02T12:00:00Z, and
    // the countdowns follow the server.
    let cases = [
        (
            "2026-12-03T12:00:00Z",
            "2026-12-06T12:00:00Z",
            50,
            "Drop opens in 1 d 00:00:0",
            "Not on sale yet",
        ),
        (
            "2026-12-01T12:00:00Z",
            "2026-12-04T12:00:00Z",
            7,
            "Drop ends in 2 d 00:00:0",
            "Buy now",
        ),
        (
            "2026-12-01T12:00:00Z",
            "2026-12-04T12:00:00Z",
            0,
            "Drop sold out",
            "Sold out",
        ),
        (
            "2026-11-28T12:00:00Z",
            "2026-12-01T12:00:00Z",
            3,
            "This drop has ended",
            "Drop ended",
        ),
    ];
    for (starts, ends, remaining, line, label) in cases {
        let host = inline_host(
            "data-mighty-locale=\"en-US\" data-mighty-checkout=\"/v1/checkout/sessions\"",
            &drop_listing(starts, ends, remaining),
        );
        mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
        let drop_line = wait_for_part(&host, "drop").await;
        assert!(
            text(&drop_line).starts_with(line),
            "{line}: {}",
            text(&drop_line)
        );
        if remaining == 7 {
            assert!(
                text(&drop_line).ends_with("· 7 left"),
                "{}",
                text(&drop_line)
            );
        }
        let bundle = checkout_button(&host, "trio");
        assert_eq!(text(&bundle), label);
        assert_eq!(bundle.disabled(), label != "Buy now", "{label}");
        // The membership is not part of the drop: always open.
        assert!(!checkout_button(&host, "club").disabled());
        mighty_widget::unmount(host);
    }
}

#[wasm_bindgen_test]
async fn a_listing_without_checkout_endpoint_says_so_when_bought() {
    let host = inline_host("data-mighty-locale=\"en-US\"", CANDLES);
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    ready.await.unwrap();
    let error = next_event(&host, "mighty:checkout-error");
    checkout_button(&host, "trio").click();
    let detail = error.await.unwrap();
    assert_eq!(
        field(&detail, &["error", "code"]).as_string().as_deref(),
        Some("no_checkout")
    );
    assert_eq!(
        field(&detail, &["offer_id"]).as_string().as_deref(),
        Some("trio")
    );
    let status = part(&host, "status").unwrap();
    assert!(
        text(&status).contains("names no checkout endpoint"),
        "{}",
        text(&status)
    );
    mighty_widget::unmount(host);
}

const TRUSTED: &str = r#"{ "version": 1, "id": "trusted", "title": "Trusted", "currency": "EUR",
  "trust": { "rating": { "value": 4.8, "count": 132 },
             "testimonials": [ { "author": "Marie", "text": "Lovely scent.", "verified": true },
                               { "author": "Paul", "text": "Burns for ages.", "verified": false } ],
             "case_studies": [ { "title": "Café Lumière", "metric": "+38% repeat", "url": "https://cafe.example" } ],
             "badges": [ "local-maker", "Family run since 1952" ] },
  "offers": [ { "id": "trio", "kind": "bundle", "name": "Trio", "price": 2400 } ] }"#;

#[wasm_bindgen_test]
async fn the_trust_strip_shows_badges_a_testimonial_and_every_review_in_place_of_the_offers() {
    let host = inline_host("data-mighty-locale=\"en-US\"", TRUSTED);
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    ready.await.unwrap();
    let root = shadow(&host);
    let badges: Vec<String> = {
        let list = root.query_selector_all(".badge").unwrap();
        (0..list.length())
            .map(|index| list.item(index).unwrap().text_content().unwrap())
            .collect()
    };
    assert_eq!(badges, ["⌂ Local maker", "• Family run since 1952"]);
    let quote = root
        .query_selector(".quote")
        .unwrap()
        .expect("testimonial line");
    assert_eq!(text(&quote), "“Lovely scent.” — Marie ✓ Verified buyer");

    let toggle: web_sys::HtmlButtonElement = root
        .query_selector(".reviews-toggle")
        .unwrap()
        .expect("reviews button")
        .unchecked_into();
    assert_eq!(text(&toggle), "Reviews (3)");
    let details = root.query_selector(".details").unwrap().unwrap();
    let offers = root.query_selector(".offers").unwrap().unwrap();
    assert!(details.has_attribute("hidden"));
    toggle.click();
    assert!(!details.has_attribute("hidden"), "the reviews show");
    assert!(offers.has_attribute("hidden"), "in place of the offers");
    assert_eq!(
        toggle.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    assert!(text(&details).contains("“Burns for ages.” — Paul"));
    assert!(
        !text(&details).contains("Paul ✓"),
        "only verified reviews are marked"
    );
    assert!(text(&details).contains("Café Lumière +38% repeat"));
    toggle.click();
    assert!(details.has_attribute("hidden"));
    assert!(!offers.has_attribute("hidden"));
    mighty_widget::unmount(host);
}

#[wasm_bindgen_test]
async fn the_widget_speaks_the_locale_s_language_from_the_catalog() {
    mighty_widget::messages(include_str!("../i18n/messages.json"));
    for (locale, buy, membership, per_month) in [
        ("de-DE", "Jetzt kaufen", "Mitgliedschaft", "/ Monat"),
        ("fr-FR", "Acheter", "Abonnement", "/ mois"),
        ("es", "Comprar", "Suscripción", "/ mes"),
        ("pt-BR", "Buy now", "Membership", "/ month"),
    ] {
        let host = inline_host(&format!("data-mighty-locale=\"{locale}\""), CANDLES);
        let ready = next_event(&host, "mighty:ready");
        mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
        ready.await.unwrap();
        assert_eq!(text(&checkout_button(&host, "trio")), buy, "{locale}");
        let club = shadow(&host)
            .query_selector("[data-offer-id=club]")
            .unwrap()
            .unwrap();
        assert!(
            text(&club).contains(membership),
            "{locale}: {}",
            text(&club)
        );
        assert!(text(&club).contains(per_month), "{locale}: {}", text(&club));
        mighty_widget::unmount(host);
    }
}

/// A drop with a pop-up in New York, a bundle that may be shipped or picked up, and two
/// offer variants without shares (an inline document: an even draw).
const POPUP_LISTING: &str = r#"{ "version": 1, "id": "market-box", "title": "Market box", "currency": "USD",
  "offers": [
    { "id": "box", "kind": "bundle", "name": "Market box", "price": 3000, "fulfilment": ["ship", "pickup"],
      "items": ["jam", "bread"],
      "variants": [ { "id": "a", "price": 3000 }, { "id": "b", "price": 2600, "items": ["jam", "bread", "honey"] } ] } ],
  "drop": { "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "inventory": 10,
            "popup": { "name": "Union Square stand", "address": "Union Square, New York, NY 10003",
                       "lat": 40.7359, "lon": -73.9911,
                       "opens_at": "2037-12-05T10:00:00-05:00", "closes_at": "2037-12-05T16:00:00-05:00",
                       "timezone": "America/New_York" } },
  "checkout": { "endpoint": "https://pay.example/v1/checkout/sessions" } }"#;

#[wasm_bindgen_test]
async fn a_pop_up_shows_where_and_when_in_its_own_zone_and_a_bundle_offers_pick_up() {
    let host = inline_host("data-mighty-locale=\"en-US\"", POPUP_LISTING);
    let ready = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    ready.await.unwrap();
    let popup = part(&host, "popup").expect("pop-up block");
    let said = text(&popup);
    assert!(
        said.contains("Union Square stand · Union Square, New York, NY 10003"),
        "{said}"
    );
    // 10:00 to 16:00 in New York, whatever zone the test browser runs in.
    assert!(
        said.contains("10:00") && said.contains("4:00") && said.contains("EST"),
        "{said}"
    );
    let map = popup
        .query_selector("a[href^=\"https://www.openstreetmap.org/\"]")
        .unwrap()
        .expect("map link");
    assert_eq!(
        map.get_attribute("href").as_deref(),
        Some("https://www.openstreetmap.org/?mlat=40.7359&mlon=-73.9911#map=17/40.7359/-73.9911")
    );
    // The calendar file is on the checkout's server (an inline document has no other).
    let calendar = popup
        .query_selector("a[href$=\"popup.ics\"]")
        .unwrap()
        .expect("calendar link");
    assert_eq!(
        calendar.get_attribute("href").as_deref(),
        Some("https://pay.example/v1/listings/market-box/popup.ics")
    );
    // Shipping and pick-up as a radio group, shipping checked; the shown variant's price.
    let offer = shadow(&host)
        .query_selector("[data-offer-id=box]")
        .unwrap()
        .unwrap();
    let checked = offer
        .query_selector(".fulfil input:checked")
        .unwrap()
        .unwrap();
    assert_eq!(checked.get_attribute("value").as_deref(), Some("ship"));
    assert_eq!(
        offer
            .query_selector_all(".fulfil input[type=radio]")
            .unwrap()
            .length(),
        2
    );
    let shown = text(&offer);
    assert!(
        (shown.contains("$30.00") && !shown.contains("honey"))
            || (shown.contains("$26.00") && shown.contains("honey")),
        "{shown}"
    );
    // The same variant on a second mount in this page view.
    mighty_widget::unmount(host.clone());
    let again = next_event(&host, "mighty:ready");
    mighty_widget::mount(host.clone(), JsValue::UNDEFINED);
    again.await.unwrap();
    let offer = shadow(&host)
        .query_selector("[data-offer-id=box]")
        .unwrap()
        .unwrap();
    assert_eq!(text(&offer), shown);
    mighty_widget::unmount(host);
}
