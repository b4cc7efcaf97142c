//! The small amount of URL checking core needs: which schemes a seller may use, and which
//! endpoints may receive a checkout. Resolution of relative references is the caller's job
//! (the browser's `URL`, or the server), so core never needs a full URL parser.

/// The scheme of `text` if it has one (`"https"` of `https://x`), lower-cased.
pub fn scheme(text: &str) -> Option<String> {
    let colon = text.find(':')?;
    let candidate = &text[..colon];
    let starts_with_letter = candidate
        .bytes()
        .next()
        .is_some_and(|byte| byte.is_ascii_alphabetic());
    let scheme_chars = candidate
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
    (starts_with_letter && scheme_chars).then(|| candidate.to_ascii_lowercase())
}

/// A link or media reference a seller may give: an absolute `http(s)` URL or a relative
/// reference (resolved against the document it came from). Refuses `javascript:`, `data:`
/// and every other scheme, so nothing a seller writes can run script in the widget.
pub fn check_web_reference(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("is empty; give an https:// URL".to_string());
    }
    if text
        .chars()
        .any(|character| character.is_control() || character == ' ')
    {
        return Err(format!(
            "\"{text}\" contains spaces or control characters; percent-encode them"
        ));
    }
    match scheme(text).as_deref() {
        None | Some("http") | Some("https") => Ok(()),
        Some(other) => Err(format!(
            "\"{other}:\" URLs are not allowed; use an https:// URL"
        )),
    }
}

/// The host of an absolute `http(s)` URL, lower-cased, without port or brackets.
pub fn host(absolute: &str) -> Option<String> {
    let (_, rest) = absolute.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether `host` is this machine: plain `http` is allowed there (development, the demo).
pub fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || (host.starts_with("127.") && host.split('.').count() == 4)
}

/// Where money may be sent or a shopper taken: an absolute `https:` URL, or `http:` on
/// localhost (SPEC section 4: "only https: URLs, or http: on localhost, are ever opened").
pub fn is_secure_endpoint(absolute: &str) -> bool {
    match (scheme(absolute).as_deref(), host(absolute)) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(host)) => is_loopback_host(&host),
        _ => false,
    }
}

/// The origin (`https://pay.example:8443`) of an absolute `http(s)` URL, serialized as
/// browsers do (`MessageEvent.origin`): lower case, without the scheme's default port.
pub fn origin(absolute: &str) -> Option<String> {
    let scheme = scheme(absolute)?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let (_, rest) = absolute.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = if scheme == "https" { ":443" } else { ":80" };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    (!authority.is_empty()).then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_references() {
        for ok in [
            "https://a.example/x.webm",
            "http://a.example",
            "/www/media/a.webm",
            "a.webm",
            "../b.jpg",
            "HTTPS://A.EXAMPLE",
        ] {
            assert_eq!(check_web_reference(ok), Ok(()), "{ok}");
        }
        let refused = [
            (
                "javascript:alert(1)",
                "\"javascript:\" URLs are not allowed; use an https:// URL",
            ),
            (
                "JavaScript:alert(1)",
                "\"javascript:\" URLs are not allowed; use an https:// URL",
            ),
            (
                "data:text/html,x",
                "\"data:\" URLs are not allowed; use an https:// URL",
            ),
            ("", "is empty; give an https:// URL"),
            (
                "https://a b",
                "\"https://a b\" contains spaces or control characters; percent-encode them",
            ),
        ];
        for (text, message) in refused {
            assert_eq!(
                check_web_reference(text),
                Err(message.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn secure_endpoints() {
        let cases = [
            ("https://pay.partner.example/v1/checkout/sessions", true),
            ("http://localhost:8080/v1/checkout/sessions", true),
            ("http://127.0.0.1:8080/x", true),
            ("http://[::1]:8080/x", true),
            ("http://pay.partner.example/x", false),
            ("http://localhost.evil.example/x", false),
            ("ftp://localhost/x", false),
            ("/v1/checkout/sessions", false),
            ("javascript:alert(1)", false),
        ];
        for (url, secure) in cases {
            assert_eq!(is_secure_endpoint(url), secure, "{url}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://Pay.Example:8443/v1/x?y#z").as_deref(),
            Some("https://pay.example:8443")
        );
        assert_eq!(
            origin("http://localhost:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            origin("https://pay.example:443/pay/x").as_deref(),
            Some("https://pay.example"),
            "the default port is not part of the origin"
        );
        assert_eq!(
            origin("http://pay.example:80").as_deref(),
            Some("http://pay.example")
        );
        assert_eq!(
            origin("http://pay.example:443").as_deref(),
            Some("http://pay.example:443")
        );
        assert_eq!(origin("/relative"), None);
        assert_eq!(origin("mailto:a@b"), None);
    }
}
