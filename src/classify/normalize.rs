//! Text normalisation before classification: the same words whatever the
//! code points that spell them.
//!
//! Keywords match as substrings, so anything that changes the code points
//! of a word without changing what a reader sees hides the word from the
//! classifier: a zero-width space inside 暖气, full-width ｅｌｅｖａｔｏｒ, a
//! soft hyphen in "pass\u{AD}port". [`normalize`] undoes that:
//!
//! * **Unicode NFKC**: compatibility forms become their ordinary letters —
//!   full-width Latin letters and digits (ｅｌｅｖａｔｏｒ → elevator,
//!   １２３ → 123), half-width katakana, ligatures (ﬁ → fi), circled and
//!   other styled letters and digits (① → 1), CJK compatibility and radical
//!   ideographs (⾦ → 金), Arabic presentation forms; and decomposed accents
//!   compose (e + ◌́ → é).
//! * **Invisible characters are dropped**: zero-width space, non-joiner and
//!   joiner (U+200B–U+200D), word joiner and invisible operators
//!   (U+2060–U+2064), the byte-order mark / zero-width no-break space
//!   (U+FEFF), the soft hyphen (U+00AD), bidirectional controls (U+061C,
//!   U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), the deprecated format
//!   characters U+206A–U+206F, the Mongolian vowel separator (U+180E),
//!   interlinear annotation controls (U+FFF9–U+FFFB), variation selectors
//!   (U+FE00–U+FE0F, U+E0100–U+E01EF), the combining grapheme joiner
//!   (U+034F), shorthand and musical format controls (U+1BCA0–U+1BCA3,
//!   U+1D173–U+1D17A) and tag characters (U+E0001, U+E0020–U+E007F, which
//!   can spell invisible ASCII). These are all of General_Category Cf but
//!   the visible ones — the Arabic number signs U+0600–U+0605, U+06DD,
//!   U+0890–U+0891, U+08E2, the Syriac and Kaithi marks — which stay.
//! * **Control characters** other than `\n`, `\r` and `\t`, which stay as
//!   they are, become a space: C0 (U+0000–U+001F), DEL and C1
//!   (U+007F–U+009F). Most are line or field separators (vertical tab, form
//!   feed, next line, the information separators), and a space keeps the
//!   words on either side apart.
//!
//! # Punctuation is not folded
//!
//! NFKC also maps the full-width punctuation of Chinese text (，！？：；（）)
//! to ASCII. [`normalize`] keeps full-width punctuation and symbols
//! (U+FF01–U+FF0F, U+FF1A–U+FF20, U+FF3B–U+FF40, U+FF5B–U+FF60,
//! U+FFE0–U+FFE6), the ideographic space U+3000 and the ellipsis … as they
//! are: no keyword contains punctuation, so folding it would change no
//! match, and keeping it lets ordinary Chinese text — ideographs, CJK
//! punctuation 、。「」《》【】, full-width ，！？ and curly quotes “” — come
//! back borrowed, without a copy: one scan, about 0.5 µs for a
//! 400-character Chinese message and 50 ns for 400 bytes of ASCII (the
//! `fast_path_timing` test, release build). With NFKC's folding, nearly
//! every Chinese ticket would be copied. Full-width letters and digits are
//! folded.
//!
//! The result is idempotent: normalising it again changes nothing.
//!
//! # Examples
//!
//! ```
//! use std::borrow::Cow;
//! use hotline_router::classify::normalize::normalize;
//!
//! assert_eq!(normalize("暖\u{200B}气不热"), "暖气不热");
//! assert_eq!(normalize("ｅｌｅｖａｔｏｒ ｉｓ ｂｒｏｋｅｎ"), "elevator is broken");
//! assert_eq!(normalize("电梯\u{200D}困人，３楼！"), "电梯困人，3楼！");
//! assert!(matches!(normalize("小区暖气不热，屋里才十五度！"), Cow::Borrowed(_)));
//! assert!(matches!(normalize("My visa expires next week."), Cow::Borrowed(_)));
//! ```

use std::borrow::Cow;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Returns `text` ready for classification: NFKC, without invisible
/// characters, control characters as spaces, punctuation as written (see the
/// [module documentation](self)).
///
/// Text that needs no change — ASCII without control characters, ordinary
/// Chinese, most text in any script — comes back borrowed, without
/// allocating.
///
/// # Examples
///
/// ```
/// use std::borrow::Cow;
/// use hotline_router::classify::normalize::normalize;
///
/// assert_eq!(normalize("pass\u{AD}port lost"), "passport lost");
/// assert_eq!(normalize("line\u{0B}break"), "line break");
/// assert!(matches!(normalize("没有热水\n已经三天了"), Cow::Borrowed(_)));
/// ```
pub fn normalize(text: &str) -> Cow<'_, str> {
    match scan(text) {
        Scan::Unchanged => Cow::Borrowed(text),
        Scan::CheckNfkc
            if is_nfkc_quick(text.chars().filter(|&c| !is_kept_punctuation(c)))
                == IsNormalized::Yes =>
        {
            Cow::Borrowed(text)
        }
        Scan::CheckNfkc | Scan::Changes => {
            let normalized = normalize_owned(text);
            if normalized == text {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(normalized)
            }
        }
    }
}

/// What a cheap scan found out about a text.
enum Scan {
    /// Nothing to change.
    Unchanged,
    /// No invisible or control characters, but characters whose NFKC
    /// status the scan does not know.
    CheckNfkc,
    /// An invisible or control character: the text changes.
    Changes,
}

/// One pass over the bytes: runs of ASCII eight bytes at a time, CJK
/// ideographs by their lead byte, other characters decoded and looked up.
fn scan(text: &str) -> Scan {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = text.as_bytes();
    let mut check = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            // Eight ASCII bytes, none below 0x20 and none DEL, at once.
            if let Some(chunk) = bytes.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
                let del = w ^ (ONES * 0x7F);
                let below_space = w.wrapping_sub(ONES * 0x20) & !w;
                let is_del = del.wrapping_sub(ONES) & !del;
                if (w | below_space | is_del) & HIGH == 0 {
                    i += 8;
                    continue;
                }
            }
            if b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t') || b == 0x7F {
                return Scan::Changes;
            }
            i += 1;
            continue;
        }
        // Lead bytes E4–E9 start U+4000–U+9FFF: CJK ideographs (and the
        // Yijing hexagram symbols), none changed by NFKC.
        if (0xE4..=0xE9).contains(&b) {
            i += 3;
            continue;
        }
        let c = match bytes.get(i..i + 3) {
            // Other three-byte characters (CJK and full-width punctuation),
            // decoded in place: the text is valid UTF-8.
            Some(&[lead, b1, b2]) if lead & 0xF0 == 0xE0 => {
                i += 3;
                let cp =
                    u32::from(lead & 0x0F) << 12 | u32::from(b1 & 0x3F) << 6 | u32::from(b2 & 0x3F);
                char::from_u32(cp).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => {
                let Some(c) = text[i..].chars().next() else {
                    break;
                };
                i += c.len_utf8();
                c
            }
        };
        if is_stable(c) || is_kept_punctuation(c) {
            continue;
        }
        match class(c) {
            Class::Drop | Class::Space => return Scan::Changes,
            Class::Keep | Class::Normalize => check = true,
        }
    }
    if check {
        Scan::CheckNfkc
    } else {
        Scan::Unchanged
    }
}

/// Characters known to be unchanged by NFKC (quick check "yes", canonical
/// combining class 0): the usual non-ASCII characters of Chinese text.
fn is_stable(c: char) -> bool {
    matches!(c as u32,
        0x3001..=0x3029 // CJK punctuation 、。〃〈〉《》「」『』【】〔〕〖〗 …
        | 0x3030..=0x3035 // (not the tone marks U+302A–U+302F: they combine)
        | 0x303B..=0x303F
        | 0x3400..=0x3FFF // CJK extension A (the rest is E4–E9)
        | 0xA000..=0xA4CF // Yi
        | 0xAC00..=0xD7A3 // Hangul syllables
        | 0x2010 // ‐ – — ‖ ‘ ’ ‚ “ ” „ † ‡ • (not U+2011 and U+2017)
        | 0x2012..=0x2016
        | 0x2018..=0x2023
        | 0x2027
        | 0x2030 // ‰
        | 0x00A2..=0x00A7 // ¢ £ ¤ ¥ ¦ §
        | 0x00B0..=0x00B1 // ° ±
        | 0x00B7 // ·
        | 0x00D7 // ×
        | 0x00F7 // ÷
        | 0x20000..=0x2A6DF // CJK extension B
    )
}

/// What [`normalize`] does with a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Invisible: dropped.
    Drop,
    /// A control character: becomes a space.
    Space,
    /// Full-width punctuation, the ideographic space, the ellipsis: kept as
    /// written, not folded by NFKC.
    Keep,
    /// Everything else: NFKC.
    Normalize,
}

fn class(c: char) -> Class {
    match c as u32 {
        0x09 | 0x0A | 0x0D => Class::Normalize,
        0x00..=0x1F | 0x7F..=0x9F => Class::Space,
        0x00AD
        | 0x034F
        | 0x061C
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0001
        | 0xE0020..=0xE007F
        | 0xE0100..=0xE01EF => Class::Drop,
        _ if is_kept_punctuation(c) => Class::Keep,
        _ => Class::Normalize,
    }
}

/// Full-width punctuation and symbols, the ideographic space and the
/// ellipsis: characters NFKC would fold that [`normalize`] keeps.
fn is_kept_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3000
        | 0x2026
        | 0xFF01..=0xFF0F
        | 0xFF1A..=0xFF20
        | 0xFF3B..=0xFF40
        | 0xFF5B..=0xFF60
        | 0xFFE0..=0xFFE6
    )
}

/// The slow path: drop, space, and NFKC between the kept punctuation.
///
/// Kept punctuation is a starter that NFKC would only replace, never
/// combine, so normalising the runs between them separately is the same as
/// normalising the whole with those characters left out of NFKC.
fn normalize_owned(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for segment in text.split_inclusive(is_kept_punctuation) {
        let (run, kept) = match segment.chars().next_back() {
            Some(last) if is_kept_punctuation(last) => {
                (&segment[..segment.len() - last.len_utf8()], Some(last))
            }
            _ => (segment, None),
        };
        out.extend(
            run.chars()
                .filter_map(|c| match class(c) {
                    Class::Drop => None,
                    Class::Space => Some(' '),
                    Class::Keep | Class::Normalize => Some(c),
                })
                .nfkc(),
        );
        out.extend(kept);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn borrowed(text: &str) -> bool {
        matches!(normalize(text), Cow::Borrowed(_))
    }

    #[test]
    fn ascii_without_controls_is_borrowed() {
        assert!(borrowed(""));
        assert!(borrowed(
            "My visa expires next week, where do I go? (urgent!) 100%"
        ));
        assert!(borrowed("tabs\tand\nnew lines\r\nstay"));
    }

    #[test]
    fn ordinary_chinese_is_borrowed() {
        assert!(borrowed("小区暖气片一直不热，屋里才十五度！怎么办？"));
        assert!(borrowed(
            "楼上装修噪音太大：从早上7点到晚上10点；已经（三天）了。"
        ));
        assert!(borrowed("“物业”说不归他们管、让我找街道……《通知》【紧急】"));
        assert!(borrowed(
            "地址：朝阳区呼家楼街道　东大桥社区～￥50·3号楼——2单元"
        ));
        assert!(borrowed("家里WiFi坏了，电话12345打不通"));
        assert!(borrowed("𠮷野家门口"));
    }

    #[test]
    fn other_scripts_in_nfkc_are_borrowed() {
        assert!(borrowed(
            "Je voudrais prolonger mon visa, à qui dois-je m'adresser ?"
        ));
        assert!(borrowed(
            "Я потерял паспорт в аэропорту, куда мне обратиться?"
        ));
        assert!(borrowed("أريد تمديد تأشيرتي في بكين"));
        assert!(borrowed("空港で財布をなくしました。ビザの延長について"));
        assert!(borrowed("비자 연장은 어디에서 신청하나요?"));
        assert!(borrowed("ฉันหนังสือเดินทางหายที่สนามบิน"));
        // Except where NFKC itself disagrees: Thai sara am is nikhahit + sara aa.
        assert_eq!(normalize("ทำ"), "ท\u{E4D}\u{E32}");
    }

    #[test]
    fn zero_width_characters_are_dropped() {
        assert_eq!(normalize("暖\u{200B}气不热"), "暖气不热");
        assert_eq!(normalize("暖\u{200C}气\u{200D}不\u{2060}热"), "暖气不热");
        assert_eq!(normalize("\u{FEFF}暖气\u{FEFF}不热"), "暖气不热");
        assert_eq!(normalize("ele\u{200B}vator"), "elevator");
        assert_eq!(normalize("煤\u{2063}气\u{2064}泄漏"), "煤气泄漏");
    }

    #[test]
    fn soft_hyphen_is_dropped() {
        assert_eq!(normalize("pass\u{AD}port"), "passport");
        assert_eq!(normalize("燃\u{AD}气"), "燃气");
    }

    #[test]
    fn bidi_controls_are_dropped() {
        for c in [
            '\u{061C}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
            '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(normalize(&format!("停{c}电")), "停电", "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn variation_selectors_are_dropped() {
        assert_eq!(normalize("漏\u{FE0F}水\u{FE00}"), "漏水");
        assert_eq!(normalize("葛\u{E0100}城"), "葛城");
        assert_eq!(normalize("火\u{034F}灾"), "火灾");
    }

    #[test]
    fn other_format_characters_are_dropped() {
        assert_eq!(
            normalize("a\u{180E}b\u{206A}c\u{FFF9}d\u{1BCA0}e\u{1D173}f"),
            "abcdef"
        );
        // Tag characters spell ASCII invisibly.
        assert_eq!(
            normalize("ok\u{E0001}\u{E0066}\u{E0069}\u{E0072}\u{E0065}\u{E007F}"),
            "ok"
        );
    }

    #[test]
    fn visible_format_characters_stay() {
        assert!(borrowed("\u{0600}١٢٣"));
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(normalize("lost\u{0}passport"), "lost passport");
        assert_eq!(
            normalize("lost\u{0B}passport\u{0C}now"),
            "lost passport now"
        );
        assert_eq!(normalize("停电\u{1B}[0m了"), "停电 [0m了");
        assert_eq!(normalize("a\u{7F}b\u{85}c\u{9F}d"), "a b c d");
        assert_eq!(normalize("\u{1C}\u{1D}\u{1E}\u{1F}"), "    ");
    }

    #[test]
    fn tab_and_line_breaks_stay() {
        assert_eq!(normalize("暖气\n不热\r\n\t三天"), "暖气\n不热\r\n\t三天");
    }

    #[test]
    fn full_width_letters_and_digits_are_folded() {
        assert_eq!(normalize("Ｆｉｒｅ"), "Fire");
        assert_eq!(normalize("１２３"), "123");
        assert_eq!(normalize("ｅｌｅｖａｔｏｒ"), "elevator");
        assert_eq!(normalize("３号楼ＷｉＦｉ坏了"), "3号楼WiFi坏了");
    }

    #[test]
    fn full_width_punctuation_is_kept() {
        let text =
            "暖气不热！（三天了）？：；，＂＃％＆＇＊＋－．／＜＝＞＠［＼］＾＿｀｛｜｝～｟｠￥";
        assert!(borrowed(text));
        assert_eq!(normalize("Ｆｉｒｅ！（３楼）"), "Fire！（3楼）");
        assert_eq!(normalize("等了……\u{3000}Ａ"), "等了……\u{3000}A");
    }

    #[test]
    fn compatibility_forms_are_folded() {
        assert_eq!(normalize("ﬁre"), "fire");
        assert_eq!(normalize("①号楼"), "1号楼");
        assert_eq!(normalize("⾦融街"), "金融街");
        assert_eq!(normalize("屋里１５℃"), "屋里15°C");
        assert_eq!(normalize("ﾃﾞﾝｷ"), "デンキ");
        assert_eq!(normalize("\u{00A0}nbsp"), " nbsp");
        assert_eq!(normalize("ﺃﺭﻳﺪ"), "أريد");
        assert_eq!(normalize("e\u{301}"), "é");
    }

    #[test]
    fn dropping_lets_combining_marks_compose() {
        assert_eq!(normalize("cafe\u{200B}\u{301}"), "café");
    }

    #[test]
    fn unchanged_text_is_borrowed_even_off_the_fast_path() {
        // U+0301 after a letter it cannot compose with: NFKC quick check
        // says "maybe", the text does not change.
        assert!(borrowed("q\u{301}"));
    }

    #[test]
    fn normalizing_twice_changes_nothing() {
        for text in [
            "Ｆｉｒｅ！（３楼）\u{200B}",
            "e\u{AD}\u{301}ｅ\u{301}，\u{301}",
            "\u{0}\u{3000}\u{301}ﬁ①…\u{FE0F}",
            "ﾃﾞﾝｷ，ｶﾞｽ",
        ] {
            let once = normalize(text).into_owned();
            assert_eq!(normalize(&once), once, "{text:?}");
            assert!(borrowed(&once), "{text:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn interesting_char() -> impl Strategy<Value = char> {
            prop_oneof![
                any::<char>(),
                prop::sample::select(vec![
                    'a', 'é', '暖', '气', '，', '！', '。', '\u{3000}', '…', 'Ｆ', '１',
                    '\u{200B}', '\u{AD}', '\u{301}', '\u{0}', '\n', 'ﬁ', 'ﾃ', 'ﾞ', '\u{FE0F}', 'ᄀ',
                    'ᅡ',
                ]),
            ]
        }

        proptest! {
            #[test]
            fn idempotent_and_borrowed_when_unchanged(
                chars in prop::collection::vec(interesting_char(), 0..24)
            ) {
                let text: String = chars.into_iter().collect();
                let once = normalize(&text);
                prop_assert_eq!(matches!(once, Cow::Borrowed(_)), once == text);
                let twice = normalize(&once);
                prop_assert!(matches!(twice, Cow::Borrowed(_)));
                prop_assert!(!once.chars().any(|c| class(c) == Class::Drop));
            }
        }
    }

    /// `cargo test --release --lib fast_path_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing, not a check"]
    fn fast_path_timing() {
        let sentence = "小区暖气片一直不热，屋里才十五度！物业说是热力公司的问题，\
                        热力公司又说是小区管道的问题，已经打了三次电话（都没人来），怎么办？";
        let mut text = String::new();
        while text.chars().count() < 400 {
            text.push_str(sentence);
        }
        let text: String = text.chars().take(400).collect();
        let ascii =
            "My visa expires next week and I need to extend my residence permit. ".repeat(6);
        for (name, text) in [("chinese", text.as_str()), ("ascii", ascii.as_str())] {
            assert!(borrowed(text));
            let rounds = 200_000;
            let start = std::time::Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(normalize(std::hint::black_box(text)));
            }
            let ns = start.elapsed().as_nanos() as f64 / rounds as f64;
            println!(
                "{name}: {} chars, {ns:.0} ns per call",
                text.chars().count()
            );
        }
    }
}
