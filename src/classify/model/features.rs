//! Character n-grams, hashed: the model's features.
//!
//! A text is read as a sequence of characters after [`normalize`]: ASCII
//! letters are lower-cased, every ASCII digit becomes `0` (a caller's flat
//! number or amount says nothing about the topic), and runs of whitespace
//! and punctuation become one boundary mark. Every character then yields
//! its unigram (boundaries excepted) and the bigram and trigram ending at it,
//! up to the model's `max_n`.
//!
//! An n-gram of up to three characters packs losslessly into a 63-bit key
//! (21 bits a character), so the key also serves to print the n-gram back in
//! an explanation. The key is scrambled by a fixed 64-bit mixer — fixed so a
//! saved model means the same thing on every platform and in every version
//! of the crate — and its top `bits` bits are the feature's bucket: memory is
//! bounded by `2^bits` whatever the size of the training set (the hashing
//! trick; colliding n-grams share a weight).
//!
//! [`normalize`]: crate::classify::normalize::normalize

/// The boundary mark: whitespace and punctuation, collapsed.
const BOUNDARY: u32 = ' ' as u32;

/// The longest n-gram a model can use.
pub(crate) const MAX_N: u8 = 3;

/// Folds one (already normalised) character to the model's alphabet.
#[inline]
fn fold(c: char) -> u32 {
    if c.is_ascii() {
        let b = c as u8;
        return match b {
            b'A'..=b'Z' => u32::from(b + 32),
            b'0'..=b'9' => u32::from(b'0'),
            b'a'..=b'z' => u32::from(b),
            _ => BOUNDARY,
        };
    }
    if c.is_whitespace() || is_cjk_punctuation(c) {
        BOUNDARY
    } else {
        c as u32
    }
}

/// CJK and general punctuation that NFKC leaves alone (、。「」《》… —).
#[inline]
fn is_cjk_punctuation(c: char) -> bool {
    matches!(c as u32, 0x2010..=0x206F | 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF01..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65)
}

/// The bucket of an n-gram key under `bits` bits of hash.
#[inline]
pub(crate) fn bucket(key: u64, bits: u8) -> u32 {
    (crate::hash::mix(key) >> (64 - u32::from(bits))) as u32
}

/// Calls `f(key)` for every n-gram of `text`, in order of their last
/// character, `max_n` in `1..=3`.
#[inline]
pub(crate) fn for_each_gram(text: &str, max_n: u8, mut f: impl FnMut(u64)) {
    // The previous two folded characters; 0 = none (start of text).
    let (mut p2, mut p1) = (0u32, 0u32);
    for c in text.chars() {
        let c = fold(c);
        if c == BOUNDARY {
            if p1 == BOUNDARY || p1 == 0 {
                continue; // collapse runs; nothing before the first character
            }
        } else {
            f(u64::from(c));
        }
        if max_n >= 2 && p1 != 0 {
            f(u64::from(p1) << 21 | u64::from(c));
            if max_n >= 3 && p2 != 0 {
                f(u64::from(p2) << 42 | u64::from(p1) << 21 | u64::from(c));
            }
        }
        p2 = p1;
        p1 = c;
    }
}

/// The n-gram a key stands for, boundaries shown as `␣`.
pub(crate) fn gram_text(key: u64) -> String {
    let mut out = String::new();
    for shift in [42u32, 21, 0] {
        let c = ((key >> shift) & 0x1F_FFFF) as u32;
        if c == 0 {
            continue;
        }
        out.push(if c == BOUNDARY {
            '␣'
        } else {
            char::from_u32(c).unwrap_or('\u{FFFD}')
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grams(text: &str, n: u8) -> Vec<String> {
        let mut out = Vec::new();
        for_each_gram(text, n, |k| out.push(gram_text(k)));
        out
    }

    #[test]
    fn unigrams_bigrams_trigrams_in_order() {
        assert_eq!(
            grams("暖气片", 3),
            ["暖", "气", "暖气", "片", "气片", "暖气片"]
        );
        assert_eq!(grams("暖气片", 1), ["暖", "气", "片"]);
    }

    #[test]
    fn punctuation_and_space_collapse_to_one_boundary() {
        assert_eq!(
            grams("  停水，。 了", 2),
            ["停", "水", "停水", "水␣", "了", "␣了"]
        );
    }

    #[test]
    fn case_and_digits_fold() {
        assert_eq!(grams("AB12", 2), grams("ab97", 2));
    }

    #[test]
    fn keys_round_trip_and_buckets_stay_in_range() {
        for_each_gram("电梯Lift坏了３天", 3, |k| {
            assert!(bucket(k, 18) < 1 << 18);
            assert!(!gram_text(k).is_empty());
        });
    }

    #[test]
    fn buckets_are_fixed_across_versions() {
        // A saved model depends on these exact values: never change them.
        assert_eq!(bucket(u64::from('暖'), 20), bucket(u64::from('暖'), 20));
        assert_eq!(crate::hash::mix(1), 0xb456_bcfc_34c2_cb2c);
    }
}
