//! The widget's words in the shopper's language (SPEC section 2: `data-mighty-locale`, else
//! the page's `lang`, else the browser's). English is written in the widget's code; French,
//! Spanish and German come from a catalog file shipped beside the bundle. Here: which catalog
//! a locale reads, and filling a message's `{placeholders}`.

/// The languages with a catalog besides English.
pub const TRANSLATED: &[&str] = &["fr", "es", "de"];

/// The catalog language for a BCP 47 tag: its primary subtag, lower case, when translated;
/// else English. `fr-CA` reads French, `pt-BR` English.
pub fn catalog_language(locale: &str) -> &'static str {
    let primary = locale.split(['-', '_']).next().unwrap_or_default();
    TRANSLATED
        .iter()
        .find(|language| language.eq_ignore_ascii_case(primary))
        .copied()
        .unwrap_or("en")
}

/// The writing direction of a catalog language (`lang` of [`catalog_language`]): the card
/// sets it on itself, so a right-to-left page never reorders an English card's words.
pub fn direction(language: &str) -> &'static str {
    const RIGHT_TO_LEFT: &[&str] = &["ar", "he", "fa", "ur", "ps", "yi", "dv", "ckb"];
    if RIGHT_TO_LEFT.contains(&language) {
        "rtl"
    } else {
        "ltr"
    }
}

/// `template` with each `{name}` replaced by its value; unknown placeholders stay as written.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    // `split_once`, not indexing: a string index can panic, and the panic's message
    // (`char` Debug, Unicode tables) costs some 2 KB of wasm in the widget.
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        match after.split_once('}') {
            Some((name, next)) => {
                match values.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = next;
            }
            None => {
                out.push('{');
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholders}` of a message, in order: a translation must have the same ones.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        names.push(&after[..close]);
        rest = &after[close + 1..];
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_read_their_language_or_english() {
        for (locale, language) in [
            ("fr", "fr"),
            ("fr-FR", "fr"),
            ("FR-ca", "fr"),
            ("es-MX", "es"),
            ("de_AT", "de"),
            ("en-GB", "en"),
            ("pt-BR", "en"),
            ("", "en"),
        ] {
            assert_eq!(catalog_language(locale), language, "{locale}");
        }
    }

    #[test]
    fn each_card_language_has_its_direction() {
        for (language, direction) in [
            ("en", "ltr"),
            ("fr", "ltr"),
            ("es", "ltr"),
            ("de", "ltr"),
            ("ar", "rtl"),
            ("he", "rtl"),
            ("", "ltr"),
        ] {
            assert_eq!(super::direction(language), direction, "{language}");
        }
        // The card speaks a catalog language: an Arabic page gets an English, ltr card.
        assert_eq!(super::direction(catalog_language("ar-EG")), "ltr");
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        assert_eq!(
            fill(
                "Paid {amount} for {name}.",
                &[("amount", "€24.00"), ("name", "Trio")]
            ),
            "Paid €24.00 for Trio."
        );
        assert_eq!(fill("{missing} and {", &[]), "{missing} and {");
        assert_eq!(fill("{a}{a}", &[("a", "x")]), "xx");
        assert_eq!(
            placeholders("Paid {amount} for {name}."),
            ["amount", "name"]
        );
    }
}
