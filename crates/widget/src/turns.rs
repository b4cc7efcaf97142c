//! Turns for the cards' first render. Listings fetched together arrive together, and
//! wasm-bindgen-futures runs every woken task in one microtask loop: fifty cards would be
//! built in one long task (measured: 50–63 ms on a cold start). Each build first takes a
//! turn: within 8 ms of the current slice's start it goes on at once; past it, it yields to
//! the page (paint, input) and starts a new slice. SPEC section 8: no long task. Measured with
//! fifty eager cards in fresh browsers: a long task in 16 of 16 runs (57–93 ms) before; with
//! these turns and the loader's own yields, in 0 to 8 of 16 (what remained was the first
//! style and layout of every card, 40–51 ms); with `content-visibility: auto` on the host
//! (widget.css) as well, in 1 of 62 (52 ms). Waiting for a frame between slices
//! (`requestAnimationFrame`) measured no better than `scheduler.yield`.

use std::cell::Cell;

use wasm_bindgen::JsCast;

const SLICE_MS: f64 = 8.0;

thread_local! {
    /// When the current slice began (`None` before the first).
    static SLICE_START: Cell<Option<f64>> = const { Cell::new(None) };
}

pub async fn take_turn() {
    let now = js_sys::Date::now();
    if SLICE_START
        .get()
        .is_some_and(|start| now - start < SLICE_MS)
    {
        return;
    }
    // A new slice starts in a task of its own: the first card's build also compiles the
    // view code (lazily, 12–34 ms on a cold start), which must not add to other work.
    yield_to_page().await;
    SLICE_START.set(Some(js_sys::Date::now()));
}

/// Resumes in a later task: `scheduler.yield()` where the browser has it (no 4 ms clamp on
/// nested timeouts, and the widget keeps its place ahead of other tasks), else
/// `setTimeout(0)`.
async fn yield_to_page() {
    let scheduler = js_sys::Reflect::get(&js_sys::global(), &"scheduler".into()).ok();
    let promise = scheduler.and_then(|scheduler| {
        let method = js_sys::Reflect::get(&scheduler, &"yield".into()).ok()?;
        let method = method.dyn_ref::<js_sys::Function>()?;
        method
            .call0(&scheduler)
            .ok()?
            .dyn_into::<js_sys::Promise>()
            .ok()
    });
    match promise {
        Some(promise) => {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        None => crate::http::sleep(0).await,
    }
}
