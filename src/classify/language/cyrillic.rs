//! Cyrillic text: which language's alphabet and spelling fit it best.

use whatlang::Lang;

use super::{iso639_1, Language};

/// A Cyrillic alphabet: the lower-case letters a language writes, and the
/// spelling rules ([`HARD_SIGN_BEFORE_VOWEL`], [`BULGARIAN`]) it follows.
pub(super) struct Alphabet {
    pub(super) code: &'static str,
    lang: Option<Lang>,
    letters: &'static str,
    rules: u8,
}

/// Russian spelling: ъ only before е ё ю я (подъезд, объявление).
const HARD_SIGN_BEFORE_VOWEL: u8 = 1;
/// Bulgarian spelling: ь only before о (шофьор), never ъ before е ё ю я, and
/// no verb ending in -ся (the reflexive is the separate word се).
const BULGARIAN: u8 = 2;

/// The alphabets that decide Cyrillic text. The first six are whatlang's;
/// the others (Mongolian, Kyrgyz, Uzbek, Tatar, Tajik, Kazakh) add letters
/// to Russian's and are told apart by those letters alone.
pub(super) const CYRILLIC: [Alphabet; 12] = [
    Alphabet {
        code: "ru",
        lang: Some(Lang::Rus),
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "uk",
        lang: Some(Lang::Ukr),
        letters: "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
        rules: 0,
    },
    Alphabet {
        code: "be",
        lang: Some(Lang::Bel),
        letters: "абвгдеёжзійклмнопрстуўфхцчшыьэюя",
        rules: 0,
    },
    Alphabet {
        code: "bg",
        lang: Some(Lang::Bul),
        letters: "абвгдежзийклмнопрстуфхцчшщъьюяѝ",
        rules: BULGARIAN,
    },
    Alphabet {
        code: "sr",
        lang: Some(Lang::Srp),
        letters: "абвгдђежзијклљмнњопрстћуфхцчџш",
        rules: 0,
    },
    Alphabet {
        code: "mk",
        lang: Some(Lang::Mkd),
        letters: "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
        rules: 0,
    },
    Alphabet {
        code: "mn",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяөү",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "ky",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяңөү",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "uz",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяўғқҳ",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "tt",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәөүҗңһ",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "tg",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяғӣқӯҳҷ",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
    Alphabet {
        code: "kk",
        lang: None,
        letters: "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
        rules: HARD_SIGN_BEFORE_VOWEL,
    },
];

/// Cyrillic text: the language whose alphabet and spelling fit it best,
/// Russian where Russian fits as well as any and whatlang is not sure of
/// another.
///
/// whatlang's trigram model alone reads many ordinary Russian sentences as
/// Bulgarian or Ukrainian ("Потерял паспорт, помогите" is Bulgarian to it);
/// letters are firmer evidence. ы э ё and a word-final ь rule Bulgarian out,
/// і ї є ґ Russian, ђ ћ ј љ њ џ both. Text that fits several alphabets
/// equally (no telling letter at all) goes to whatlang one rival at a time
/// against Russian, and a rival wins only with a reliable verdict.
pub(super) fn cyrillic_script(text: &str) -> Language {
    /// Per letter U+0400–U+052F, the alphabets (bit i for `CYRILLIC[i]`)
    /// that write it; and the alphabets with each spelling rule.
    struct Tables {
        letters: [u16; 0x130],
        hard_sign_rule: u16,
        bulgarian_rules: u16,
    }
    static TABLES: std::sync::OnceLock<Tables> = std::sync::OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        let mut tables = Tables {
            letters: [0; 0x130],
            hard_sign_rule: 0,
            bulgarian_rules: 0,
        };
        for (i, alphabet) in CYRILLIC.iter().enumerate() {
            for c in alphabet.letters.chars() {
                tables.letters[c as usize - 0x400] |= 1 << i;
            }
            if alphabet.rules & HARD_SIGN_BEFORE_VOWEL != 0 {
                tables.hard_sign_rule |= 1 << i;
            }
            if alphabet.rules & BULGARIAN != 0 {
                tables.bulgarian_rules |= 1 << i;
            }
        }
        tables
    });
    let cyrillic = |c: Option<&char>| {
        c.copied()
            .filter(|&c| matches!(c as u32, 0x0400..=0x052F) && c.is_alphabetic())
    };
    let mut misfits = [0usize; CYRILLIC.len()];
    let lower: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    for (i, &c) in lower.iter().enumerate() {
        if cyrillic(Some(&c)).is_none() {
            continue;
        }
        let next = cyrillic(lower.get(i + 1));
        let before_iotated = matches!(next, Some('е' | 'ё' | 'ю' | 'я'));
        let mut fits = tables.letters[c as usize - 0x400];
        if c == 'ъ' && !before_iotated {
            fits &= !tables.hard_sign_rule;
        }
        let verb_in_sya = c == 'я' && i > 0 && lower[i - 1] == 'с' && next.is_none();
        if (c == 'ь' && next != Some('о')) || (c == 'ъ' && before_iotated) || verb_in_sya {
            fits &= !tables.bulgarian_rules;
        }
        for (j, misfit) in misfits.iter_mut().enumerate() {
            *misfit += usize::from(fits >> j & 1 == 0);
        }
    }
    let best = misfits.iter().copied().min().unwrap_or(0);
    let fitting = || {
        CYRILLIC
            .iter()
            .zip(misfits)
            .filter(move |&(_, n)| n == best)
            .map(|(alphabet, _)| alphabet)
    };
    let known: Vec<Lang> = fitting().filter_map(|a| a.lang).collect();
    let among = |langs: Vec<Lang>| {
        let first = langs[0];
        let info = whatlang::Detector::with_allowlist(langs).detect(text);
        Language(iso639_1(info.map_or(first, |info| info.lang())))
    };
    if known.contains(&Lang::Rus) {
        let rivals: Vec<Lang> = known
            .into_iter()
            .filter(|&lang| lang != Lang::Rus)
            .filter(|&lang| {
                whatlang::Detector::with_allowlist(vec![Lang::Rus, lang])
                    .detect(text)
                    .is_some_and(|info| info.lang() == lang && info.is_reliable())
            })
            .collect();
        return match rivals.len() {
            0 => Language("ru"),
            1 => Language(iso639_1(rivals[0])),
            _ => among(rivals),
        };
    }
    match known.len() {
        0 => Language(
            fitting()
                .min_by_key(|a| a.letters.chars().count())
                .map_or("ru", |a| a.code),
        ),
        1 => Language(iso639_1(known[0])),
        _ => among(known),
    }
}
