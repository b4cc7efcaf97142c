//! Pick-up codes: what a shopper shows at the pop-up stand and the seller types or reads
//! back (SPEC section 7, `GET /v1/orders?pickup_code=`). Six characters from an alphabet
//! without the look-alikes `0`/`O` and `1`/`I`, drawn at random by the server (which retries
//! on the rare collision within one seller); here only the format: making one from random
//! bytes, reading one back from what a person typed, and showing it.

/// The 32 characters a code is made of: digits and capitals without `0`, `O`, `1` and `I`.
pub const PICKUP_CODE_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters in a code: 32⁶ ≈ 1.07 billion codes, so a seller's few thousand pick-up
/// orders rarely collide, and a guess at the stand is hopeless.
pub const PICKUP_CODE_LENGTH: usize = 6;

/// A code from random bytes: each byte picks a character by its low five bits (32 divides
/// 256, so every character is equally likely).
pub fn pickup_code_from_random(random: [u8; PICKUP_CODE_LENGTH]) -> String {
    random
        .iter()
        .map(|byte| char::from(PICKUP_CODE_ALPHABET[usize::from(byte & 31)]))
        .collect()
}

/// The code a person typed, as stored (`7KQ4XP`), or `None` when it cannot be one: case
/// does not matter, and spaces, dashes, dots and underscores between characters are left
/// out (`7kq-4xp`, `7KQ 4XP`). A character outside the alphabet is refused rather than
/// guessed at.
pub fn normalize_pickup_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|character| !matches!(character, ' ' | '-' | '.' | '_' | '\t'))
        .map(|character| character.to_ascii_uppercase())
        .collect();
    let valid = code.len() == PICKUP_CODE_LENGTH
        && code
            .bytes()
            .all(|byte| PICKUP_CODE_ALPHABET.contains(&byte));
    valid.then_some(code)
}

/// The code as a person reads it aloud: two groups of three (`7KQ-4XP`).
pub fn display_pickup_code(code: &str) -> String {
    if code.len() == PICKUP_CODE_LENGTH && code.is_ascii() {
        format!("{}-{}", &code[..3], &code[3..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_alphabet_has_no_look_alikes() {
        assert_eq!(PICKUP_CODE_ALPHABET.len(), 32);
        for confusing in [b'0', b'O', b'1', b'I'] {
            assert!(!PICKUP_CODE_ALPHABET.contains(&confusing));
        }
        let mut sorted = PICKUP_CODE_ALPHABET.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 32, "no character twice");
    }

    #[test]
    fn typed_codes_by_hand() {
        for (typed, read) in [
            ("7KQ4XP", Some("7KQ4XP")),
            ("7kq4xp", Some("7KQ4XP")),
            ("7KQ-4XP", Some("7KQ4XP")),
            (" 7kq 4xp ", Some("7KQ4XP")),
            ("7.K.Q_4-X P", Some("7KQ4XP")),
            ("7KQ4X", None),
            ("7KQ4XPP", None),
            ("7KQ4X0", None),
            ("7KQ4XO", None),
            ("7KQ4X1", None),
            ("7KQ4XI", None),
            ("7KQ4X%", None),
            ("7KQ4XÉ", None),
            ("", None),
            ("------", None),
        ] {
            assert_eq!(normalize_pickup_code(typed).as_deref(), read, "{typed:?}");
        }
        assert_eq!(display_pickup_code("7KQ4XP"), "7KQ-4XP");
    }

    #[test]
    fn random_bytes_pick_by_their_low_bits() {
        assert_eq!(pickup_code_from_random([0, 1, 2, 29, 30, 31]), "234XYZ");
        assert_eq!(
            pickup_code_from_random([32, 33, 255, 224, 64, 96]),
            "23Z222"
        );
    }

    proptest! {
        #[test]
        fn any_code_reads_back_however_it_is_written(random: [u8; 6], lower: bool, dashed: bool) {
            let code = pickup_code_from_random(random);
            prop_assert_eq!(normalize_pickup_code(&code), Some(code.clone()));
            let mut typed = if dashed { display_pickup_code(&code) } else { code.clone() };
            if lower {
                typed = typed.to_lowercase();
            }
            prop_assert_eq!(normalize_pickup_code(&typed), Some(code));
        }

        #[test]
        fn anything_read_is_a_code(typed in ".{0,12}") {
            if let Some(code) = normalize_pickup_code(&typed) {
                prop_assert_eq!(code.len(), PICKUP_CODE_LENGTH);
                prop_assert!(code.bytes().all(|byte| PICKUP_CODE_ALPHABET.contains(&byte)));
            }
        }
    }
}
