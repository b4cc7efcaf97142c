//! The widget's one way to talk HTTP: `fetch` through web-sys, with a timeout. Written here
//! rather than taken from gloo-net: the widget needs GET and JSON POST with a few headers, and
//! this is a fraction of gloo-net's wasm.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, Request, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = AbortSignal, js_name = timeout)]
    fn abort_signal_timeout(milliseconds: u32) -> AbortSignal;
}

/// An HTTP answer (any status).
pub struct Answer {
    pub status: u16,
    pub status_text: String,
    pub body: String,
    /// The `Retry-After` header (exposed by the partner's CORS headers), if any.
    pub retry_after: Option<String>,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why no answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFailure {
    /// Network error, DNS, refused connection, or CORS refusal (the browser does not say which).
    Network,
    /// No answer within the timeout.
    Timeout,
}

/// One request: `body` is sent as `application/json` when given.
pub async fn fetch(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout_ms: u32,
) -> Result<Answer, FetchFailure> {
    let body = body.map(|body| ("application/json", body));
    fetch_with(method, url, headers, body, false, timeout_ms).await
}

/// One request with a body of the given `(content type, text)`; `keepalive` lets it finish
/// after the page is gone (the beacons' batches).
pub async fn fetch_with(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
    keepalive: bool,
    timeout_ms: u32,
) -> Result<Answer, FetchFailure> {
    let signal = abort_signal_timeout(timeout_ms);
    let failure = |signal: &AbortSignal| {
        if signal.aborted() {
            FetchFailure::Timeout
        } else {
            FetchFailure::Network
        }
    };
    let init = RequestInit::new();
    init.set_method(method);
    init.set_signal(Some(&signal));
    let request_headers = Headers::new().map_err(|_| FetchFailure::Network)?;
    for (name, value) in headers {
        request_headers
            .set(name, value)
            .map_err(|_| FetchFailure::Network)?;
    }
    if let Some((content_type, body)) = body {
        request_headers
            .set("Content-Type", content_type)
            .map_err(|_| FetchFailure::Network)?;
        init.set_body(&JsValue::from_str(body));
    }
    if keepalive {
        // web-sys has no setter for `keepalive` yet.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    init.set_headers(&request_headers);
    let request = Request::new_with_str_and_init(url, &init).map_err(|_| FetchFailure::Network)?;
    let window = web_sys::window().ok_or(FetchFailure::Network)?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| failure(&signal))?
        .unchecked_into();
    let text_promise = response.text().map_err(|_| FetchFailure::Network)?;
    let text = JsFuture::from(text_promise)
        .await
        .map_err(|_| failure(&signal))?;
    Ok(Answer {
        retry_after: response.headers().get("Retry-After").ok().flatten(),
        status: response.status(),
        status_text: response.status_text(),
        body: text.as_string().unwrap_or_default(),
    })
}

/// Resolves after `milliseconds` (a `setTimeout` promise).
pub async fn sleep(milliseconds: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                milliseconds as i32,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}
