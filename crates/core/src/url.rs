//! URL decisions core makes: which schemes a seller may use, which endpoints may receive a
//! checkout or be opened, and what an origin is. Core never splits a URL by hand for a
//! security decision: a WHATWG parser reads it (the `url` crate natively, with the `whatwg`
//! feature; the browser's `URL` in the widget, whose size budget has no room for the `url`
//! crate's tables) into a [`WebUrl`], and the decisions here take that. Browsers treat `\`
//! like `/`, strip tabs and newlines and read userinfo; a hand parser disagrees with them
//! exactly where attackers look.

/// The scheme of `text` if it has one (`"https"` of `https://x`), lower-cased. Only for
/// refusing schemes in seller text that [`check_web_reference`] has already found free of
/// spaces and control characters.
pub fn scheme(text: &str) -> Option<String> {
    let (candidate, _) = text.split_once(':')?;
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

/// An absolute `http(s)` URL as a WHATWG URL parser read it: scheme and host lower-cased,
/// the host in its serialized form (IPv4 canonical, `[::1]` bracketed, punycode), the port
/// only when it is not the scheme's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
}

impl WebUrl {
    /// From the parts a WHATWG parser gives (`URL.protocol` without its colon, `hostname`,
    /// `port`); `None` unless the scheme is `http` or `https` and there is a host.
    pub fn from_parts(scheme: &str, host: &str, port: Option<u16>) -> Option<WebUrl> {
        let scheme = scheme.trim_end_matches(':').to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https") || host.is_empty() {
            return None;
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        Some(WebUrl {
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.filter(|port| *port != default_port),
        })
    }

    /// From an origin a WHATWG parser serialized (`URL.origin` in the browser:
    /// `https://host[:port]`, the host already canonical). Reading that output back is
    /// unambiguous, unlike reading a URL as written; `null` (an opaque origin) is `None`.
    pub fn from_serialized_origin(origin: &str) -> Option<WebUrl> {
        // Split on a character, not on "://": a string pattern brings the two-way searcher
        // into the widget's wasm for this one call (bytes).
        let (scheme, rest) = origin.split_once(':')?;
        let authority = rest.strip_prefix("//")?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, Some(port.parse().ok()?)),
            _ => (authority, None),
        };
        WebUrl::from_parts(scheme, host, port)
    }

    /// Parses `text` with the `url` crate, the WHATWG URL standard as browsers read it.
    #[cfg(feature = "whatwg")]
    pub fn parse(text: &str) -> Option<WebUrl> {
        let parsed = url::Url::parse(text).ok()?;
        WebUrl::from_parts(parsed.scheme(), parsed.host_str()?, parsed.port())
    }

    /// The origin (`https://pay.example:8443`), serialized as browsers do
    /// (`MessageEvent.origin`): lower case, without the scheme's default port.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme, self.host),
            None => format!("{}://{}", self.scheme, self.host),
        }
    }

    /// Where money may be sent or a shopper taken: `https:`, or `http:` on this machine
    /// (SPEC section 4: "only https: URLs, or http: on localhost, are ever opened").
    pub fn is_secure_endpoint(&self) -> bool {
        self.scheme == "https" || is_loopback_host(&self.host)
    }
}

/// Whether a host, as a WHATWG parser serialized it (an IPv4 address in four decimal parts,
/// IPv6 bracketed and compressed: `[::1]`), is this machine: `localhost` or a loopback
/// address (`127.0.0.0/8`, `[::1]`). Not `127.evil.example` nor `localhost.evil.example`.
/// Reading the canonical form needs no address parser (whose tables the widget's size
/// budget has no room for).
pub fn is_loopback_host(host: &str) -> bool {
    let ipv4 = host.split('.').count() == 4
        && host
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
    host.eq_ignore_ascii_case("localhost") || host == "[::1]" || (ipv4 && host.starts_with("127."))
}

/// The origin of an absolute `http(s)` URL (parsed as browsers do), if it is one.
#[cfg(feature = "whatwg")]
pub fn origin(text: &str) -> Option<String> {
    WebUrl::parse(text).map(|url| url.origin())
}

/// Whether an absolute URL may receive a checkout or a shopper (see
/// [`WebUrl::is_secure_endpoint`]).
#[cfg(feature = "whatwg")]
pub fn is_secure_endpoint(text: &str) -> bool {
    WebUrl::parse(text).is_some_and(|url| url.is_secure_endpoint())
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
    fn loopback_hosts_are_real_loopback_addresses() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "[::1]"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "127.evil.example.com",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "app.localhost",
            "128.0.0.1",
            "[::2]",
            "0.0.0.0",
            "127.0.0",
            "127.0.0.1.2",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn parts_from_a_browser_url() {
        let url = WebUrl::from_parts("HTTPS:", "Pay.Example", Some(443)).unwrap();
        assert_eq!(url.origin(), "https://pay.example");
        assert!(url.is_secure_endpoint());
        let local = WebUrl::from_parts("http:", "127.0.0.1", Some(8080)).unwrap();
        assert_eq!(local.origin(), "http://127.0.0.1:8080");
        assert!(local.is_secure_endpoint());
        assert!(
            !WebUrl::from_parts("http", "127.evil.example.com", None)
                .unwrap()
                .is_secure_endpoint()
        );
        assert_eq!(WebUrl::from_parts("javascript:", "x", None), None);
        for origin in [
            "https://pay.example",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
            "https://[::1]",
        ] {
            assert_eq!(
                WebUrl::from_serialized_origin(origin).map(|url| url.origin()),
                Some(origin.to_string())
            );
        }
        assert_eq!(WebUrl::from_serialized_origin("null"), None);
        assert_eq!(WebUrl::from_serialized_origin("http://a:b"), None);
        assert_eq!(WebUrl::from_parts("https:", "", None), None);
    }

    #[cfg(feature = "whatwg")]
    #[test]
    fn secure_endpoints() {
        let cases = [
            ("https://pay.partner.example/v1/checkout/sessions", true),
            ("http://localhost:8080/v1/checkout/sessions", true),
            ("http://127.0.0.1:8080/x", true),
            ("http://127.1:8080/x", true),
            ("http://[::1]:8080/x", true),
            ("http://pay.partner.example/x", false),
            ("http://localhost.evil.example/x", false),
            ("http://127.evil.example.com/x", false),
            ("http://127.0.0.1.evil.example/x", false),
            ("http://evil.example\\@127.0.0.1/x", false),
            ("ftp://localhost/x", false),
            ("/v1/checkout/sessions", false),
            ("javascript:alert(1)", false),
        ];
        for (url, secure) in cases {
            assert_eq!(is_secure_endpoint(url), secure, "{url}");
        }
    }

    #[cfg(feature = "whatwg")]
    #[test]
    fn origins_as_browsers_read_them() {
        let cases = [
            (
                "https://Pay.Example:8443/v1/x?y#z",
                Some("https://pay.example:8443"),
            ),
            ("http://localhost:8080", Some("http://localhost:8080")),
            ("https://pay.example:443/pay/x", Some("https://pay.example")),
            ("http://pay.example:80", Some("http://pay.example")),
            ("http://pay.example:443", Some("http://pay.example:443")),
            // Browsers read `\` as `/`: the host is evil.example, not shop.example.
            (
                "https://evil.example\\@shop.example/",
                Some("https://evil.example"),
            ),
            (
                "https://evil.example\\.shop.example/",
                Some("https://evil.example"),
            ),
            (
                "https://user:pw@shop.example/",
                Some("https://shop.example"),
            ),
            (
                "https://shop.example@evil.example/",
                Some("https://evil.example"),
            ),
            ("https://shop.ex\tample/", Some("https://shop.example")),
            ("  https://shop.example/  ", Some("https://shop.example")),
            ("https://0x7f.1/", Some("https://127.0.0.1")),
            ("https://EXAMPLE.com./", Some("https://example.com.")),
            ("/relative", None),
            ("mailto:a@b", None),
            ("javascript://shop.example/%0aalert(1)", None),
        ];
        for (text, expected) in cases {
            assert_eq!(origin(text).as_deref(), expected, "{text:?}");
        }
    }
}
