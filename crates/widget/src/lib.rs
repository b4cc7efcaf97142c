//! The Mighty widget: browser glue and leptos components, compiled to WebAssembly.
//!
//! The loader (`js/loader.js`) finds hosts, watches the page and calls the functions
//! exported here: [`mount`], [`unmount`], [`refresh`], [`consent`], [`version`]. Each host gets
//! an independent leptos root in its open shadow root. Every decision about configuration is
//! core's; this crate reads the DOM, fetches, renders and reports.

mod attribution;
mod beacons;
mod checkout;
mod demo;
mod dom;
pub mod events;
mod format;
mod handles;
mod http;
mod i18n;
mod json;
mod listeners;
mod loading;
mod page_url;
mod redirect;
mod region;
mod share;
mod shop;
mod style;
mod turns;
mod upgrade;

pub use i18n::messages;
pub use style::stylesheet;
mod view;

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

use std::any::Any;
use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use mighty_core::{ConfigErrors, HostConfig, Theme};
use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRoot, ShadowRootInit, ShadowRootMode};

use crate::events::{ErrorDetail, EventDetail, dispatch};
use crate::format::Formatter;
use crate::shop::Shop;
use crate::view::{ConfigNotice, ListingCard, LoadingCard};

/// One mounted host.
struct MountedWidget {
    host: Element,
    /// What the host said when it was mounted: `refresh` re-renders only when this changes.
    /// Shared with the mount's task (a `HostConfig` may hold a whole listing document:
    /// cloning one costs a `BTreeMap` clone in the wasm).
    config: std::rc::Rc<HostConfig>,
    /// Tells a finished fetch whether its host was re-mounted meanwhile.
    generation: u32,
    /// The leptos root (`UnmountHandle`): dropping it removes the view.
    view: Option<Box<dyn Any>>,
    /// For a host that cannot take a shadow root: the `<span>` holding its notice.
    notice_holder: Option<Element>,
    /// The card's checkout, demo and listeners; dropped (listeners removed) on unmount.
    shop: Option<std::rc::Rc<Shop>>,
    /// The listing could not be fetched for a passing reason: the host's fallback shows and
    /// the widget waits to try again (`refresh` tries at once).
    waiting: bool,
}

thread_local! {
    static WIDGETS: RefCell<Vec<MountedWidget>> = const { RefCell::new(Vec::new()) };
    static NEXT_GENERATION: Cell<u32> = const { Cell::new(1) };
    static CONSENT: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Mounts (or re-mounts) the widget on `host`; `config` is `Mighty.mount`'s optional config.
#[wasm_bindgen]
pub fn mount(host: Element, config: JsValue) {
    remove_widget(&host);
    let host_config = dom::read_host_config(&host, &config);
    start(host, host_config);
}

/// Unmounts the widget of `host`; its own children (the no-JS fallback) show again.
#[wasm_bindgen]
pub fn unmount(host: Element) {
    remove_widget(&host);
}

/// Re-reads `host`'s attributes (and `config`) and re-renders when anything changed.
/// Returns whether it re-rendered.
#[wasm_bindgen]
pub fn refresh(host: Element, config: JsValue) -> bool {
    let host_config = dom::read_host_config(&host, &config);
    let unchanged = WIDGETS.with_borrow(|widgets| {
        widgets
            .iter()
            .any(|widget| widget.host == host && *widget.config == host_config && !widget.waiting)
    });
    if unchanged {
        return false;
    }
    remove_widget(&host);
    start(host, host_config);
    true
}

/// `Mighty.consent(bool)`: the shopper's answer for hosts with `data-mighty-consent="required"`.
#[wasm_bindgen]
pub fn consent(given: bool) {
    CONSENT.set(Some(given));
    if !given {
        attribution::forget();
        return;
    }
    // Given after the cards mounted: what they hold for this page view is stored now.
    WIDGETS.with_borrow(|widgets| {
        for widget in widgets {
            let Some(shop) = &widget.shop else { continue };
            let window_days = widget
                .config
                .settings()
                .map_or(mighty_core::host::DEFAULT_ATTRIBUTION_DAYS, |settings| {
                    settings.attribution_days
                });
            attribution::remember(
                &shop.listing.id,
                shop.touch.borrow().as_ref(),
                window_days,
                &shop.offer_variants.borrow(),
            );
        }
    });
}

/// Whether consent was given with `Mighty.consent(true)`.
pub fn consent_given() -> bool {
    CONSENT.get() == Some(true)
}

#[wasm_bindgen]
pub fn version() -> String {
    mighty_core::VERSION.to_string()
}

fn start(host: Element, host_config: HostConfig) {
    let host_config = std::rc::Rc::new(host_config);
    let generation = NEXT_GENERATION.get();
    NEXT_GENERATION.set(generation.wrapping_add(1));
    let declared_id = host_config.declared_id().map(String::from);

    let root = host_config.check_host_element().and_then(|()| {
        shadow_root_of(&host).ok_or_else(|| {
            mighty_core::ConfigError::invalid("data-mighty", "this element already has a shadow root of its own; put data-mighty on a plain div inside it")
                .with_code(mighty_core::ConfigErrorCode::UnsupportedHost)
        })
    });
    let root = match root {
        Ok(root) => root,
        Err(error) => {
            let errors = ConfigErrors::from(error);
            report_errors(&host, declared_id, &errors);
            // The holder's view lives in the registry entry, like any widget's, until unmount.
            let (notice_holder, view) = show_notice_beside(&host, errors).unzip();
            register(MountedWidget {
                host,
                config: host_config,
                generation,
                view,
                notice_holder,
                shop: None,
                waiting: false,
            });
            return;
        }
    };
    style::adopt_into(&root);
    root.set_text_content(None);

    let settings = match host_config.settings() {
        Ok(settings) => settings,
        Err(error) => {
            let errors = ConfigErrors::from(error);
            report_errors(&host, declared_id, &errors);
            let view = mount_notice(&root, errors, Theme::Auto, false);
            register(MountedWidget {
                host,
                config: host_config,
                generation,
                view: Some(view),
                notice_holder: None,
                shop: None,
                waiting: false,
            });
            return;
        }
    };
    let theme = settings.theme;
    let loading = mount_view(&root, move || view! { <LoadingCard theme=theme/> });
    register(MountedWidget {
        host: host.clone(),
        config: std::rc::Rc::clone(&host_config),
        generation,
        view: Some(loading),
        notice_holder: None,
        shop: None,
        waiting: false,
    });

    crate::spawn(async move {
        let mut failures = 0;
        loop {
            let loaded = loading::load_listing(&host, &host_config).await;
            turns::take_turn().await;
            if !is_current(&host, generation) {
                return;
            }
            // The loading view goes first, then the result is built in the same task: no
            // frame is painted in between, so nothing shifts.
            take_view(&host);
            let locale = dom::effective_locale(settings.locale.as_deref());
            match loaded.and_then(|loaded| Ok((loaded, locale?))) {
                Ok(((listing, served_from), locale)) => {
                    root.set_text_content(None);
                    set_waiting(&host, false);
                    show_card(&host, &root, listing, served_from, &locale, &settings);
                    return;
                }
                // A passing failure: shoppers keep the page's own fallback, the site owner is
                // told once, and the widget tries again (at once on `Mighty.refresh()`).
                Err(errors) if errors.first().code.is_passing() => {
                    if failures == 0 {
                        report_errors(&host, declared_id.clone(), &errors);
                    }
                    failures += 1;
                    show_host_children(&root);
                    set_waiting(&host, true);
                    http::sleep(mighty_core::loading::retry_delay_ms(failures)).await;
                    if !is_current(&host, generation) {
                        return;
                    }
                }
                Err(errors) => {
                    report_errors(&host, declared_id, &errors);
                    root.set_text_content(None);
                    set_waiting(&host, false);
                    let view = mount_notice(&root, errors, theme, false);
                    put_view(&host, view);
                    return;
                }
            }
        }
    });
}

/// Whether `host`'s widget is still the mount of `generation` (not re-mounted or removed).
fn is_current(host: &Element, generation: u32) -> bool {
    WIDGETS.with_borrow(|widgets| {
        widgets
            .iter()
            .any(|widget| &widget.host == host && widget.generation == generation)
    })
}

fn set_waiting(host: &Element, waiting: bool) {
    WIDGETS.with_borrow_mut(|widgets| {
        if let Some(widget) = widgets.iter_mut().find(|widget| &widget.host == host) {
            widget.waiting = waiting;
        }
    });
}

/// Draws the card and starts what runs beside it. The page's JavaScript runs inside (a
/// polyfill, an `Intl` or a media method the page replaced): whatever it throws is caught
/// here, and the host shows a notice and dispatches `mighty:error` (`render_failed`)
/// instead of staying blank.
fn show_card(
    host: &Element,
    root: &ShadowRoot,
    listing: mighty_core::Listing,
    served_from: Option<String>,
    locale: &str,
    settings: &mighty_core::HostSettings,
) {
    let listing_id = listing.id.clone();
    let theme = settings.theme;
    let formatter = Formatter::new(locale);
    // The host's data-mighty-checkout wins over the document's endpoint.
    let endpoint = settings
        .checkout
        .as_deref()
        .and_then(|checkout| dom::resolve_url(checkout, &dom::page_base()))
        .or_else(|| listing.checkout_endpoint.clone());
    let shop = Shop::new(
        host.clone(),
        root.clone(),
        listing,
        endpoint,
        settings.checkout_mode,
        formatter,
    );
    let (touch, variant) = attribution::resolve(&shop.listing, settings);
    shop.set_attribution(touch, variant);
    *shop.offer_variants.borrow_mut() =
        attribution::offer_variants(&shop.listing, settings.consent_required);
    // The pop-up's calendar file: on the server that served the listing, else the checkout's.
    if shop
        .listing
        .drop
        .as_ref()
        .is_some_and(|drop| drop.popup.is_some())
    {
        *shop.calendar_url.borrow_mut() =
            served_from
                .or_else(|| shop.endpoint.clone())
                .and_then(|base| {
                    dom::resolve_url(
                        &mighty_core::popup_links::calendar_path(&shop.listing.id),
                        &base,
                    )
                });
    }
    let beacons_to = settings
        .events
        .as_deref()
        .and_then(|events| dom::resolve_url(events, &dom::page_base()));
    shop.measure(beacons_to, settings.consent_required);
    let (drawn_host, drawn_root) = (host.clone(), root.clone());
    let drawn = guarded(move || {
        // What changes is drawn by the regions: first into the card before it is in the page.
        let view = region::draw_then_mount(
            drawn_root.unchecked_ref(),
            view! { <ListingCard shop=shop.clone() theme=theme/> },
            |card| {
                let _ = shop.regions.set(region::Regions::draw_first(&shop, card));
            },
        );
        put_view(&drawn_host, view);
        keep_shop(&drawn_host, shop.clone());
        redirect::resume_after_redirect(&shop);
        checkout::run_drop_clock(&shop);
        // Listeners and the player start once the card is in the page.
        listeners::wire_card(&shop);
        demo::wire(&shop);
        listeners::rotate_testimonials(&shop);
    });
    match drawn {
        Ok(()) => dispatch(
            host,
            "ready",
            &EventDetail {
                listing_id: Some(listing_id),
                ..EventDetail::default()
            },
        ),
        Err(thrown) => {
            let view = WIDGETS.with_borrow_mut(|widgets| {
                let widget = widgets.iter_mut().find(|widget| &widget.host == host)?;
                widget.shop = None;
                widget.view.take()
            });
            drop(view);
            root.set_text_content(None);
            let errors = ConfigErrors::from(
                mighty_core::ConfigError::invalid(
                    "",
                    format!(
                        "the card could not be drawn: {} (thrown by the page's JavaScript or the browser; the other widgets are not affected)",
                        thrown_message(&thrown)
                    ),
                )
                .with_code(mighty_core::ConfigErrorCode::RenderFailed),
            );
            report_errors(host, Some(listing_id), &errors);
            let view = mount_notice(root, errors, theme, false);
            put_view(host, view);
        }
    }
}

/// Runs `work` behind a JavaScript `try`: `Reflect.apply` is a `catch` binding, so an
/// exception thrown by a JS function the work calls (or a trap) comes back as `Err` instead
/// of going on to the page's error monitoring.
pub(crate) fn guarded(work: impl FnOnce() + 'static) -> Result<(), JsValue> {
    guarded_box(Box::new(work))
}

/// One closure type for every guarded call (bytes: each closure type costs its own glue).
#[inline(never)]
fn guarded_box(work: Box<dyn FnOnce()>) -> Result<(), JsValue> {
    let mut work = Some(work);
    let closure = Closure::<dyn FnMut()>::new(move || {
        if let Some(work) = work.take() {
            work();
        }
    });
    js_sys::Reflect::apply::<fn() -> JsValue>(
        closure.as_ref().unchecked_ref(),
        &JsValue::UNDEFINED,
        &js_sys::Array::new(),
    )
    .map(drop)
}

/// What a caught exception says: an `Error`'s message, else the value as text.
pub(crate) fn thrown_message(thrown: &JsValue) -> String {
    thrown
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| thrown.as_string())
        .unwrap_or_else(|| "an exception".to_string())
}

/// Runs a task on the page's event loop. Every task goes through one boxed future type, so
/// wasm-bindgen's task machinery exists once in the wasm rather than once per call site
/// (measured: 0.5 KB gzip for ten call sites).
pub(crate) fn spawn(task: impl std::future::Future<Output = ()> + 'static) {
    let task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> = Box::pin(task);
    wasm_bindgen_futures::spawn_local(task);
}

/// Draws `view` into `root`; dropping what it returns takes the view out again.
fn mount_view<V: IntoView + 'static>(
    root: &ShadowRoot,
    view: impl FnOnce() -> V + 'static,
) -> Box<dyn Any> {
    region::draw_into(root.unchecked_ref(), view())
}

/// The config-error notice, mounted from one place (one copy of leptos's mount code).
#[inline(never)]
fn mount_notice(
    root: &ShadowRoot,
    errors: ConfigErrors,
    theme: Theme,
    inline: bool,
) -> Box<dyn Any> {
    mount_view(
        root,
        move || view! { <ConfigNotice errors=errors theme=theme inline=inline/> },
    )
}

fn register(widget: MountedWidget) {
    WIDGETS.with_borrow_mut(|widgets| widgets.push(widget));
}

fn take_view(host: &Element) {
    let view = WIDGETS.with_borrow_mut(|widgets| {
        widgets
            .iter_mut()
            .find(|widget| &widget.host == host)
            .and_then(|widget| widget.view.take())
    });
    // Dropped outside the borrow: unmounting runs leptos cleanups.
    drop(view);
}

fn put_view(host: &Element, view: Box<dyn Any>) {
    let leftover = WIDGETS.with_borrow_mut(|widgets| {
        widgets
            .iter_mut()
            .find(|widget| &widget.host == host)
            .map(|widget| widget.view.replace(view))
    });
    drop(leftover);
}

fn keep_shop(host: &Element, shop: std::rc::Rc<Shop>) {
    WIDGETS.with_borrow_mut(|widgets| {
        if let Some(widget) = widgets.iter_mut().find(|widget| &widget.host == host) {
            widget.shop = Some(shop);
        }
    });
}

/// Removes `host`'s widget, if any; returns the host to its fallback content.
fn remove_widget(host: &Element) {
    let removed = WIDGETS.with_borrow_mut(|widgets| {
        let index = widgets.iter().position(|widget| &widget.host == host)?;
        Some(widgets.swap_remove(index))
    });
    let Some(widget) = removed else { return };
    drop(widget.view);
    drop(widget.shop);
    if let Some(holder) = widget.notice_holder {
        holder.remove();
    } else if let Some(root) = host.shadow_root() {
        show_host_children(&root);
    }
}

/// The host's own children (the page's fallback) show again: a default slot renders them.
fn show_host_children(root: &ShadowRoot) {
    root.set_text_content(None);
    if let Ok(slot) = dom::document().create_element("slot") {
        let _ = root.append_child(&slot);
    }
}

/// The host's open shadow root: ours from an earlier mount (marked when made), or a new one.
/// A custom element's own open root is not taken over: `None`, as for a closed one.
fn shadow_root_of(host: &Element) -> Option<ShadowRoot> {
    const MARK: &str = "mightyRoot";
    if let Some(root) = host.shadow_root() {
        return js_sys::Reflect::get(&root, &MARK.into())
            .is_ok_and(|mark| mark.is_truthy())
            .then_some(root);
    }
    let root = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .ok()?;
    let _ = js_sys::Reflect::set(&root, &MARK.into(), &JsValue::TRUE);
    Some(root)
}

/// For a host that cannot take a shadow root: a `<span>` child of its own (right after it, for
/// an element whose children never show: `<img>`, or an element with a shadow root of its
/// own), with a shadow root holding the notice, so the site owner still sees what is
/// wrong where it is wrong.
fn show_notice_beside(host: &Element, errors: ConfigErrors) -> Option<(Element, Box<dyn Any>)> {
    const CHILDREN_HIDDEN: &[&str] = &[
        "img", "input", "textarea", "select", "video", "audio", "iframe", "canvas", "object",
        "embed", "br", "hr",
    ];
    let holder = dom::document().create_element("span").ok()?;
    let _ = holder.set_attribute("data-mighty-notice", "");
    let root = holder
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .ok()?;
    style::adopt_into(&root);
    let tag = host.tag_name().to_ascii_lowercase();
    if tag.contains('-') || host.shadow_root().is_some() || CHILDREN_HIDDEN.contains(&tag.as_str())
    {
        host.after_with_node_1(&holder).ok()?;
    } else {
        host.append_child(&holder).ok()?;
    }
    let view = mount_notice(&root, errors, Theme::Auto, true);
    Some((holder, view))
}

/// One `console.error` per broken host and a `mighty:error` event; never throws.
fn report_errors(host: &Element, listing_id: Option<String>, errors: &ConfigErrors) {
    let first = errors.first();
    web_sys::console::error_2(&JsValue::from_str(&format!("Mighty: {errors}")), host);
    let detail = EventDetail {
        listing_id,
        error: Some(ErrorDetail {
            code: first.code.as_str().to_string(),
            message: first.to_string(),
        }),
        ..EventDetail::default()
    };
    dispatch(host, "error", &detail);
}
