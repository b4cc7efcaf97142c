//! The widget's one way to talk HTTP: gloo-net's `fetch` (the product's specified client),
//! with an `AbortSignal.timeout` for the time limit, and what the widget needs of an answer
//! (status, body text, `Retry-After`).

use gloo_net::http::{Method, Request, RequestBuilder};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

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
    // The widget only GETs and POSTs; `Method::from_bytes` would bring the http crate's
    // method parser in.
    let method = if method == "POST" {
        Method::POST
    } else {
        Method::GET
    };
    let mut builder = RequestBuilder::new(url)
        .method(method)
        .abort_signal(Some(&signal));
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let request = match body {
        Some((content_type, text)) => builder.header("Content-Type", content_type).body(text),
        None => builder.build(),
    }
    .map_err(|_| FetchFailure::Network)?;
    // gloo-net's builder has no `keepalive`: the request is copied with it set.
    let request = if keepalive {
        let init = web_sys::RequestInit::new();
        // web-sys has no setter for `keepalive` yet.
        let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
        let raw = web_sys::Request::from(request);
        Request::from(
            web_sys::Request::new_with_request_and_init(&raw, &init)
                .map_err(|_| FetchFailure::Network)?,
        )
    } else {
        request
    };
    let response = web_sys::Response::from(request.send().await.map_err(|_| failure(&signal))?);
    // The body through the browser's `Response.text()` itself: gloo-net's `text()` unwraps a
    // JavaScript result, which brings `JsValue`'s Debug and its glue in (measured).
    let text = response.text().map_err(|_| failure(&signal))?;
    let body = JsFuture::from(text)
        .await
        .map_err(|_| failure(&signal))?
        .as_string()
        .unwrap_or_default();
    Ok(Answer {
        retry_after: response.headers().get("Retry-After").ok().flatten(),
        status: response.status(),
        status_text: response.status_text(),
        body,
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
