//! What every handler shares at the HTTP edge: reading JSON bodies with the error conventions
//! of SPEC section 7, seller and bearer authentication, CORS against a listing's allowlist,
//! and the `Idempotency-Key` header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::AppError;
use crate::store::Seller;

/// A JSON body: malformed JSON is a 400, a body over the limit a 413, a wrong or missing
/// field a 422 naming the field. Keeps the raw bytes (idempotency hashes them).
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

/// Query parameters; ones that cannot be read (a repeated or mistyped parameter) are a 400
/// with the usual error body, naming the problem.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| QueryParams(value))
            .map_err(|rejection| AppError::Malformed(rejection.body_text()))
    }
}

/// A request body as bytes, with the 413 and 400 of SPEC section 7.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::TooLarge(format!(
                        "the body is larger than {} bytes",
                        crate::BODY_LIMIT_BYTES
                    ))
                } else {
                    AppError::Malformed(rejection.body_text())
                }
            })?;
        Ok(RawBody(raw))
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let RawBody(raw) = RawBody::from_request(request, state).await?;
        let document: serde_json::Value = serde_json::from_slice(&raw)
            .map_err(|error| AppError::Malformed(format!("the body is not valid JSON: {error}")))?;
        if !document.is_object() {
            return Err(AppError::Malformed(
                "the body must be a JSON object ({...})".into(),
            ));
        }
        let value = serde_path_to_error::deserialize(&document).map_err(|error| {
            let path = error.path().to_string();
            let message = error.inner().to_string();
            // An enum-valued field: its variants, in place of serde's "expected string or map".
            if let Some((field, words)) = enum_refusal::<T>(&document, &error) {
                return AppError::invalid(field, words);
            }
            // "missing field `x`" is reported at the parent: name the field itself.
            let field = match message.split('`').nth(1) {
                Some(missing) if message.starts_with("missing field") => {
                    if path == "." {
                        missing.to_string()
                    } else {
                        format!("{path}.{missing}")
                    }
                }
                _ => path,
            };
            let field = field.trim_start_matches('.');
            AppError::invalid(field, plain_message(field, &message))
        })?;
        Ok(JsonBody { value, raw })
    }
}

/// The refusal of a value of an enum-valued field (`fulfilment: 7`, `"deliver"`, `["ship"]`),
/// naming the field and its values: `fulfilment must be "ship" or "pickup", not the number 7`.
/// serde says `expected string or map` for a value that is not a string, without the variants;
/// they come from reading the body again with a string no variant has at that place, which
/// serde answers with `unknown variant ..., expected ...`. The field and the words; `None` for
/// a field that is no enum.
fn enum_refusal<T: DeserializeOwned>(
    document: &serde_json::Value,
    error: &serde_path_to_error::Error<serde_json::Error>,
) -> Option<(String, String)> {
    let (pointer, field) = enum_place(error.path())?;
    let written = document.pointer(&pointer)?;
    let mut probe = document.clone();
    *probe.pointer_mut(&pointer)? = serde_json::Value::String("\u{0}".into());
    let probed = serde_path_to_error::deserialize::<_, T>(&probe).err()?;
    if enum_place(probed.path())?.0 != pointer {
        return None;
    }
    let variants = variants_expected(&probed.inner().to_string())?;
    let words = format!("{field} must be {variants}, not {}", describe_json(written));
    Some((field, words))
}

/// Where an error is, as a JSON pointer and as a field name (`items[0].kind`); a path into an
/// enum's variant (`{"pickup": true}` read as the variant `pickup` with a value) stops at
/// the enum's field.
fn enum_place(path: &serde_path_to_error::Path) -> Option<(String, String)> {
    use serde_path_to_error::Segment;
    let (mut pointer, mut field) = (String::new(), String::new());
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push_str(&format!("/{index}"));
                field.push_str(&format!("[{index}]"));
            }
            Segment::Map { key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
            }
            Segment::Enum { .. } => break,
            Segment::Unknown => return None,
        }
    }
    (!pointer.is_empty()).then_some((pointer, field))
}

/// `"ship" or "pickup"` from serde's `unknown variant `x`, expected `ship` or `pickup``
/// (or `expected one of `a`, `b`, `c``: `"a", "b" or "c"`).
fn variants_expected(serde_message: &str) -> Option<String> {
    let expected = serde_message
        .strip_prefix("unknown variant ")?
        .split_once(", expected ")?
        .1;
    let names: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|name| format!("\"{name}\""))
        .collect();
    match names.as_slice() {
        [] => None,
        [only] => Some(only.clone()),
        [first @ .., last] => Some(format!("{} or {last}", first.join(", "))),
    }
}

/// A JSON value as a 422 names what was sent: `the number 7`, `the string "x"`, `a list`.
fn describe_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".into(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) => format!("the string {}", Value::String(text.clone())),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// serde's wording (`invalid type: string "1", expected u32`) in words a person reads in a
/// 422 (which a widget may show as it is), naming the field.
pub fn plain_message(field: &str, serde_message: &str) -> String {
    if serde_message.starts_with("missing field") {
        return format!("{field} is required");
    }
    let Some((found, expected)) = serde_message
        .strip_prefix("invalid type: ")
        .and_then(|rest| rest.split_once(", expected "))
    else {
        return format!("{field}: {serde_message}");
    };
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "i32" | "i64" | "usize" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" => "true or false",
        "a sequence" => "a list",
        other if other.starts_with("struct ") || other.starts_with("a map") => "an object",
        other => other,
    };
    let found = if let Some(text) = found.strip_prefix("string ") {
        format!("the string {text}")
    } else if let Some(number) = found
        .strip_prefix("integer `")
        .or_else(|| found.strip_prefix("floating point `"))
    {
        format!("the number {}", number.trim_end_matches('`'))
    } else {
        match found {
            "sequence" => "a list".to_string(),
            "map" => "an object".to_string(),
            other => other.to_string(),
        }
    };
    format!("{field} must be {expected}, not {found}")
}

/// The bearer token of a request, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim()).filter(|token| !token.is_empty())
}

/// A request authenticated with a seller's bearer token; wrong tokens count towards the
/// client's failed attempts (`429 rate_limited` past ten a minute).
pub struct SellerAuth(pub Seller);

impl FromRequestParts<AppState> for SellerAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| {
                AppError::Unauthorized(
                    "send the seller token as Authorization: Bearer <token>".into(),
                )
            })?
            .to_string();
        // Token guesses are throttled per client address (`throttle`): past the limit, even
        // the right token is refused until the window frees.
        let client = crate::throttle::ClientAddress::of(parts);
        state.failed_attempts().check(client)?;
        let seller = state
            .store(move |store| store.seller_by_token(&token))
            .await?;
        seller.map(SellerAuth).ok_or_else(|| {
            state.failed_attempts().record_failure(client);
            AppError::Unauthorized("the seller token is not valid".into())
        })
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, AppError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| AppError::invalid("Idempotency-Key", "the Idempotency-Key header is required: one key per shopper intent, reused on retries"))?
        .to_str()
        .unwrap_or_default()
        .trim()
        .to_string();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        ));
    }
    Ok(key)
}

/// The request headers a widget may send (SPEC section 4).
pub const ALLOWED_REQUEST_HEADERS: &str =
    "Content-Type, Idempotency-Key, Mighty-Session-Secret, Authorization";

/// CORS response headers for a request from `headers`' Origin against `allowed` (a listing's
/// `allowed_origins`; `*` allows any). A refused origin gets a CORS-readable 403.
#[expect(
    clippy::result_large_err,
    reason = "the error is axum's (headers, error) response pair, returned once per refused request"
)]
pub fn cors_for_listing(
    headers: &HeaderMap,
    allowed: &[String],
) -> Result<HeaderMap, (HeaderMap, AppError)> {
    let mut response = HeaderMap::new();
    response.insert(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(response);
    };
    response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    response.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    let origin_text = origin
        .to_str()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let allowed_here = allowed.iter().any(|entry| {
        entry == "*"
            || entry
                .trim_end_matches('/')
                .eq_ignore_ascii_case(&origin_text)
    });
    if allowed_here {
        Ok(response)
    } else {
        Err((
            response,
            AppError::OriginNotAllowed(format!(
                "{origin_text} is not on this listing's allowed_origins"
            )),
        ))
    }
}

/// Headers answering a CORS preflight from any origin (the real request is checked against
/// the listing's allowlist).
pub fn preflight_headers(headers: &HeaderMap, methods: &'static str) -> HeaderMap {
    let mut response = HeaderMap::new();
    response.insert(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = headers.get(header::ORIGIN) {
        response.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    response.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    response.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOWED_REQUEST_HEADERS),
    );
    response.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    response
}

/// CORS preflight handlers: any origin may ask; the real request is checked against the
/// listing's allowlist.
pub async fn preflight_get(headers: HeaderMap) -> axum::response::Response {
    preflight(&headers, "GET, OPTIONS")
}

pub async fn preflight_post(headers: HeaderMap) -> axum::response::Response {
    preflight(&headers, "POST, OPTIONS")
}

pub async fn preflight_get_post(headers: HeaderMap) -> axum::response::Response {
    preflight(&headers, "GET, POST, OPTIONS")
}

fn preflight(headers: &HeaderMap, methods: &'static str) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::NO_CONTENT,
        preflight_headers(headers, methods),
    )
        .into_response()
}

/// A listing of `seller_id`: 404 when there is none, 403 when it is another seller's.
pub async fn owned_listing(
    state: &AppState,
    seller_id: &str,
    id: &str,
) -> Result<crate::store::StoredListing, AppError> {
    let lookup = id.to_string();
    let stored = state
        .store(move |store| store.listing(&lookup))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no listing \"{id}\"")))?;
    if stored.seller_id != seller_id {
        return Err(AppError::Forbidden(format!(
            "listing \"{id}\" is not yours"
        )));
    }
    Ok(stored)
}

/// The origin the server is reached at, for URLs it hands out (`redirect_url`, creator
/// links): `MIGHTY_PUBLIC_URL` when set, else the request's Host.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.config().public_url {
        return base.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    // Behind a TLS-terminating proxy the request arrives as http; the widget opens only https
    // pay pages off localhost, so the proxy's word on the scheme is taken.
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|proto| proto.to_str().ok())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// A hash of a request body, stored with its idempotency key.
pub fn request_hash(raw: &[u8]) -> String {
    use sha2::Digest;
    mighty_core::signing::hex(&sha2::Sha256::digest(raw))
}

#[cfg(test)]
mod tests {
    use super::plain_message;

    #[test]
    fn serde_errors_in_plain_words() {
        let cases = [
            (
                "return_url",
                "missing field `return_url`",
                "return_url is required",
            ),
            (
                "quantity",
                "invalid type: string \"1\", expected u32",
                "quantity must be a whole number, not the string \"1\"",
            ),
            (
                "attribution",
                "invalid type: sequence, expected struct Attribution",
                "attribution must be an object, not a list",
            ),
            (
                "tier_id",
                "invalid type: integer `3`, expected a string",
                "tier_id must be a string, not the number 3",
            ),
            (
                "quantity",
                "invalid value: integer `-1`, expected u32",
                "quantity: invalid value: integer `-1`, expected u32",
            ),
        ];
        for (field, serde_message, plain) in cases {
            assert_eq!(plain_message(field, serde_message), plain);
        }
    }

    #[test]
    fn enum_variants_from_serde() {
        for (serde_message, variants) in [
            (
                "unknown variant `deliver`, expected `ship` or `pickup`",
                Some("\"ship\" or \"pickup\""),
            ),
            (
                "unknown variant `x`, expected one of `a`, `b`, `c`",
                Some("\"a\", \"b\" or \"c\""),
            ),
            ("unknown variant `x`, expected `a`", Some("\"a\"")),
            ("unknown variant `x`, there are no variants", None),
            ("invalid type: integer `7`, expected string or map", None),
        ] {
            assert_eq!(
                super::variants_expected(serde_message).as_deref(),
                variants,
                "{serde_message}"
            );
        }
    }
}
