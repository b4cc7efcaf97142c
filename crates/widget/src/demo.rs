//! The creator demo (SPEC section 1): a short muted video that plays while the card is at least
//! half visible and pauses when it scrolls away (never on its own when the page asks for
//! reduced motion), with captions, a progress bar, play and sound buttons, and the listing's
//! other creators one tap away. `preload="none"` and a source set only once the card is on
//! the page: no video bytes before the widget is visible. If the video fails, the poster and a
//! plain message stay.

use std::rc::Rc;

use leptos::prelude::*;
use mighty_core::listing::Creator;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlMediaElement};

use crate::handles;
use crate::i18n::{t, tf};
use crate::region::Region;
use crate::shop::Shop;
use mighty_core::card::{Demo, DemoEvent};

/// The demo's region (in the card's `.hero`), drawn from the demo's state alone: the shown
/// creator's video, name and avatar, the controls as they stand, how far it has played,
/// whether it failed, and the other creators' chips. [`wire`] brings it to life once the
/// card is in the page.
pub fn region(shop: &Shop, slot: Element) -> Region<Demo> {
    let creators: Vec<(usize, Creator)> = with_demo(&shop.listing.creators)
        .map(|(index, creator)| (index, creator.clone()))
        .collect();
    let lang = shop.lang;
    Region::new(slot, move |state: &Demo| {
        // The creator the state names (attribution may have picked one), else the first
        // with a demo.
        let (_, shown) = creators
            .iter()
            .find(|(index, _)| *index == state.creator)
            .unwrap_or(&creators[0]);
        let demo = shown.demo.clone().unwrap_or_else(|| unreachable!());
        let on = |flag: bool| if flag { "true" } else { "false" };
        let percent = state.progress;
        // The frame takes the video's shape (`data-aspect`) before any byte of it loads;
        // nothing is drawn over the video but its progress bar: the creator, the captions (a
        // box of their own, filled by the captions region) and the controls sit beside or
        // under it. The track and the avatar are always there, empty for a creator without
        // them. The bar is scaled, not resized (CSSOM `transform`: no layout shift, and
        // allowed under the strict CSP).
        view! {
            <figure part="demo" class="demo" class:broken=state.failed data-aspect=demo.aspect.as_str()>
                <div class="frame">
                    <video class="video" muted=true playsinline=true preload="none" poster=demo.poster
                        aria-label=tf(lang, "Demo by {name}", &[("name", &shown.name)])>
                        <track kind="captions" src=demo.captions.filter(|_| !state.without_captions)/>
                    </video>
                    <div class="progress" role="progressbar" aria-label=t(lang, "Demo progress") aria-valuemin="0" aria-valuemax="100" aria-valuenow=percent.to_string()>
                        <span class="progress-fill" style:transform=format!("scaleX({}.{:02})", percent / 100, percent % 100)></span>
                    </div>
                    <p class="failed" role="status">{if state.failed { t(lang, "This demo cannot play here.") } else { String::new() }}</p>
                </div>
                <figcaption class="by">
                    <img class="avatar" src=shown.avatar.clone() alt=""/>
                    <span class="by-name">{shown.name.clone()}</span>
                </figcaption>
                <p class="captions" aria-hidden="true"></p>
                // Each button holds both its words, one hidden: it is as wide as the longer
                // of them, so "Play" becoming "Pause" (or "Reproducir", "Pausa") moves nothing.
                <div class="controls">
                    <button type="button" class="control play" data-on=on(state.playing)>
                        <span class="off">{t(lang, "Play")}</span><span class="on">{t(lang, "Pause")}</span>
                    </button>
                    <button type="button" class="control sound" data-on=on(state.sounding) aria-pressed=on(state.sounding)>
                        <span class="off">{t(lang, "Unmute")}</span><span class="on">{t(lang, "Mute")}</span>
                    </button>
                </div>
            </figure>
            // The other creators' chips (`chip_regions`), when there are others.
            <div class="creators" role="group" aria-label=t(lang, "Creators")></div>
        }
    })
}

/// The creators' chips, one region each (drawn pressed for the creator shown) in the demo's
/// `.creators` group; none when only one creator has a demo.
pub fn chip_regions(shop: &Shop, group: Element) -> Vec<(usize, Region<bool>)> {
    let creators: Vec<(usize, &Creator)> = with_demo(&shop.listing.creators).collect();
    if creators.len() < 2 {
        return Vec::new();
    }
    creators
        .into_iter()
        .map(|(index, creator)| {
            let (handle, name) = (creator.handle.clone(), creator.name.clone());
            let chip = Region::new(group.clone(), move |pressed: &bool| {
                view! {
                    <button type="button" class="chip" data-creator=handle.clone() aria-pressed=if *pressed { "true" } else { "false" }>
                        {name.clone()}
                    </button>
                }
            });
            (index, chip)
        })
        .collect()
}

/// The listing's creators that have a demo, with their index in `creators`.
pub fn with_demo(creators: &[Creator]) -> impl Iterator<Item = (usize, &Creator)> {
    creators
        .iter()
        .enumerate()
        .filter(|(_, creator)| creator.demo.is_some())
}

fn video_of(shop: &Shop) -> Option<HtmlMediaElement> {
    handles::video(&shop.root)
}

/// Whether the page asks for reduced motion: then nothing plays on its own.
pub fn reduced_motion() -> bool {
    web_sys::window()
        .and_then(|window| {
            window
                .match_media("(prefers-reduced-motion: reduce)")
                .ok()
                .flatten()
        })
        .is_some_and(|query| query.matches())
}

/// Starts the player: picks a source the browser can play, listens to the video and its
/// buttons, and plays or pauses it with the card's visibility.
pub fn wire(shop: &Rc<Shop>) {
    let Some(video) = video_of(shop) else { return };
    let shown = shop.demo().creator;
    let Some((index, _)) = with_demo(&shop.listing.creators)
        .find(|(index, _)| *index == shown)
        .or_else(|| with_demo(&shop.listing.creators).next())
    else {
        return;
    };
    shop.demo_step(DemoEvent::Switch(index));
    // The `muted` attribute only sets the default; the property is what autoplay checks.
    video.set_muted(true);
    set_source(shop, &video, index);

    {
        let mut listeners = shop.listeners.borrow_mut();
        let target: &web_sys::EventTarget = &video;
        listeners.add(shop, target, "playing", |shop, _| on_playing(shop));
        listeners.add(shop, target, "pause", |shop, _| {
            shop.demo_step(DemoEvent::Paused);
        });
        listeners.add(shop, target, "ended", |shop, _| on_ended(shop));
        listeners.add(shop, target, "timeupdate", |shop, _| on_progress(shop));
        listeners.add(shop, target, "error", |shop, _| on_failed(shop));
        // Captions are drawn by the card, not the browser: its own cue box is a few pixels
        // tall in a 120 px video (unreadable) and moves when the first cue shows (a layout
        // shift). The track stays `hidden`: its cues load and `cuechange` fires.
        if let Some(track) = video.text_tracks().and_then(|tracks| tracks.get(0)) {
            track.set_mode(web_sys::TextTrackMode::Hidden);
            listeners.add(shop, &track, "cuechange", on_cue_change);
        }
    }
}

/// The card became at least half visible (`visible`) or stopped being so: the demo plays
/// (unless the shopper paused it, or the page asks for reduced motion) or pauses.
pub fn on_visibility(shop: &Rc<Shop>, visible: bool) {
    let Some(video) = video_of(shop) else { return };
    if !visible {
        let _ = video.pause();
    } else if shop.demo().plays_when_visible(reduced_motion()) {
        play(shop);
    }
}

/// Sets the first source of creator `index` the browser says it can play.
fn set_source(shop: &Shop, video: &HtmlMediaElement, index: usize) {
    let Some(demo) = shop
        .listing
        .creators
        .get(index)
        .and_then(|creator| creator.demo.as_ref())
    else {
        return;
    };
    let playable = demo.sources.iter().find(|source| {
        source
            .media_type
            .as_deref()
            .is_none_or(|media_type| !video.can_play_type(media_type).is_empty())
    });
    // A caption file on another origin than the page loads only in CORS mode, which the
    // video's `crossorigin` sets (for the video too: `on_failed` retries without it).
    let page_origin = web_sys::window().and_then(|window| window.location().origin().ok());
    let cross_origin_captions = demo
        .captions
        .as_deref()
        .is_some_and(|captions| crate::dom::origin_of(captions) != page_origin);
    match playable {
        Some(source) => {
            video.set_cross_origin(cross_origin_captions.then_some("anonymous"));
            video.set_src(&source.src);
        }
        None => {
            video.set_cross_origin(None);
            on_failed(shop);
        }
    }
}

fn play(shop: &Rc<Shop>) {
    let Some(video) = video_of(shop) else { return };
    if shop.demo().failed {
        return;
    }
    if let Ok(promise) = video.play() {
        // Awaited so that a refused or interrupted play is not an unhandled rejection.
        crate::spawn(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

pub fn toggle_play(shop: &Rc<Shop>) {
    let Some(video) = video_of(shop) else { return };
    if video.paused() {
        shop.demo_step(DemoEvent::ShopperPlay);
        play(shop);
    } else {
        shop.demo_step(DemoEvent::ShopperPause);
        let _ = video.pause();
    }
}

pub fn toggle_sound(shop: &Rc<Shop>) {
    let Some(video) = video_of(shop) else { return };
    let muted = !video.muted();
    video.set_muted(muted);
    shop.demo_step(DemoEvent::Sound(!muted));
    if !muted && video.paused() {
        toggle_play(shop);
    }
}

fn on_playing(shop: &Rc<Shop>) {
    // Once per creator shown (core decides): a replay is the same view of the demo.
    if shop.demo_step(DemoEvent::Playing) {
        shop.report("demo-play", &shop.event_detail());
    }
}

fn on_ended(shop: &Rc<Shop>) {
    shop.demo_step(DemoEvent::Ended);
    shop.report("demo-complete", &shop.event_detail());
}

/// How far the video has played, in whole percent.
fn on_progress(shop: &Shop) {
    let Some(video) = video_of(shop) else { return };
    let duration = video.duration();
    if !(duration.is_finite() && duration > 0.0) {
        return;
    }
    let fraction = (video.current_time() / duration).clamp(0.0, 1.0);
    shop.demo_step(DemoEvent::Progress((fraction * 100.0).round() as u8));
}

/// Shows the active cue's text in the captions line.
fn on_cue_change(shop: &Rc<Shop>, event: &web_sys::Event) {
    let Some(track) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::TextTrack>().ok())
    else {
        return;
    };
    let text = track
        .active_cues()
        .and_then(|cues| cues.get(0))
        .and_then(|cue| cue.dyn_into::<web_sys::VttCue>().ok())
        .map(|cue| cue.text());
    show_caption(shop, text.unwrap_or_default());
}

fn show_caption(shop: &Shop, text: String) {
    if let Some(line) = shop.regions().and_then(|regions| regions.captions.as_ref()) {
        line.draw(&text);
    }
}

fn on_failed(shop: &Shop) {
    // Loaded in CORS mode for its captions, from a video host that does not allow it: the
    // demo matters more than its captions, so once more without them.
    if let Some(video) = video_of(shop)
        && video.cross_origin().is_some()
    {
        video.set_cross_origin(None);
        // This creator's captions go (the track stays for the next creator's).
        shop.demo_step(DemoEvent::CaptionsRefused);
        video.load();
        // With `preload="none"` it only loaded because it was asked to play: so it plays.
        let _ = video.play();
        return;
    }
    shop.demo_step(DemoEvent::Failed);
}

/// Shows creator `handle`'s demo instead (a chip was pressed); it plays at once, since the
/// shopper asked for it.
pub fn switch_to(shop: &Rc<Shop>, handle: &str) {
    let Some(index) = shop
        .listing
        .creators
        .iter()
        .position(|creator| creator.handle == handle)
    else {
        return;
    };
    if shop.listing.creators[index].demo.is_none() {
        return;
    }
    let Some(video) = video_of(shop) else { return };
    // A new demo: not paused, not failed, its play reported again; drawn with its own
    // poster, captions, avatar, name and shape, and its chip pressed.
    shop.demo_step(DemoEvent::Switch(index));
    show_caption(shop, String::new());
    set_source(shop, &video, index);
    play(shop);
}
