//! Trust signals a shopper reads at a glance: the known badge vocabulary (SPEC section 3's
//! `trust.badges`) with its icons and words. Unknown badges are shown as their own text.

/// How a badge is shown: a glyph (decorative) and its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadgeLook<'a> {
    pub icon: &'static str,
    pub label: &'a str,
}

/// The known badges, by id.
pub const KNOWN_BADGES: &[(&str, &str, &str)] = &[
    ("local-maker", "⌂", "Local maker"),
    ("handmade", "✋", "Handmade"),
    ("ships-48h", "➜", "Ships in 48 h"),
    ("free-shipping", "➜", "Free shipping"),
    ("organic", "❀", "Organic"),
    ("eco", "♻", "Eco-friendly"),
    ("verified-seller", "✓", "Verified seller"),
    ("gift-ready", "✦", "Gift-ready"),
    ("women-owned", "♀", "Women-owned"),
    ("money-back", "↺", "Money-back guarantee"),
];

/// A badge as shown: a known id gets its icon and words; anything else is shown as written,
/// with a neutral mark.
pub fn badge_look(id: &str) -> BadgeLook<'_> {
    KNOWN_BADGES
        .iter()
        .find(|(known, _, _)| known.eq_ignore_ascii_case(id.trim()))
        .map_or(
            BadgeLook {
                icon: "•",
                label: id.trim(),
            },
            |(_, icon, label)| BadgeLook { icon, label },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_badges_get_icon_and_words_unknown_ones_their_text() {
        assert_eq!(
            badge_look("ships-48h"),
            BadgeLook {
                icon: "➜",
                label: "Ships in 48 h"
            }
        );
        assert_eq!(badge_look(" Local-Maker ").label, "Local maker");
        assert_eq!(
            badge_look("Family run since 1952"),
            BadgeLook {
                icon: "•",
                label: "Family run since 1952"
            }
        );
        let mut ids: Vec<&str> = KNOWN_BADGES.iter().map(|(id, _, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), KNOWN_BADGES.len(), "ids are unique");
    }
}
