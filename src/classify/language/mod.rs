//! Which language a ticket is in, and which language service it needs.
//!
//! Detection is layered by cost:
//!
//! 1. A script scan (nanoseconds): Han characters without kana mean Chinese,
//!    kana Japanese, Hangul Korean; Tibetan, Mongolian and Yi script their
//!    languages.
//! 2. Arabic script is Arabic unless it has letters Arabic does not write:
//!    Uyghur (ۆ ۇ ۈ ۋ ې ە ڭ), Urdu (ٹ ڈ ڑ ں ے ہ) or those Persian, Urdu and
//!    Uyghur share (پ چ ژ گ ھ, and ی ک where nothing marks the text as
//!    Arabic). A letter or two among many, as some Arabic keyboards type ی,
//!    does not flip the text: only a reliable `whatlang` verdict does.
//! 3. Cyrillic text is Russian unless its letters say otherwise: each
//!    alphabet (Russian, Ukrainian, Belarusian, Bulgarian, Serbian,
//!    Macedonian, and the Russian-based ones of Mongolian, Kazakh, Kyrgyz,
//!    Tatar, Tajik and Uzbek) counts the letters it does not write, with
//!    Russian's and Bulgarian's spelling rules for ь, ъ and -ся; only the
//!    alphabets that fit best stay. Where Russian is one of them, another
//!    language wins only when `whatlang`, asked between the two, is sure:
//!    its trigram model alone reads many ordinary Russian sentences as
//!    Bulgarian or Ukrainian.
//! 4. Latin text goes to `whichlang` (~1.5 µs), a linear model over 16
//!    languages that include every seat language.
//! 5. Only where that cannot be the whole answer — Latin text with a letter
//!    the detected seat language does not write (Polish ł, Czech ř …), and
//!    other scripts (Greek, Thai …) — does `whatlang`'s trigram model over
//!    69 languages decide (~25–50 µs).
//!
//! 98% of a Beijing day stops at step 1.

use serde::{Deserialize, Serialize};
use whatlang::Lang;

mod cyrillic;

use cyrillic::{cyrillic_script, CYRILLIC};

/// A detected language, as an ISO 639-1 code where one exists (`zh`, `en`,
/// `pt` …), else the ISO 639-3 code.
///
/// # Examples
///
/// ```
/// use hotline_router::{Language, LanguageService};
///
/// let lang = Language::detect("Je voudrais prolonger mon visa, à qui dois-je m'adresser ?");
/// assert_eq!(lang.code(), "fr");
/// assert_eq!(lang.service(), LanguageService::Seat);
/// assert_eq!(Language::detect("小区暖气不热").service(), LanguageService::Native);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Language(&'static str);

/// Reads a code written by [`Language`]'s `Serialize`; a code the detector
/// never answers is an error naming it.
impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Language, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Language::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown language code '{code}'")))
    }
}

/// The language service a ticket needs.
///
/// # Examples
///
/// ```
/// use hotline_router::{Language, LanguageService};
///
/// let lang = Language::detect("Gostaria de saber onde posso renovar o meu visto de residência.");
/// assert_eq!(lang.code(), "pt");
/// assert_eq!(lang.service(), LanguageService::Interpreter);
/// assert_eq!(lang.service().as_str(), "interpreter");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanguageService {
    /// Chinese: handled by the ordinary seats.
    Native,
    /// One of the 8 foreign-language seats (en fr de ru es ar ja ko).
    Seat,
    /// Any other language: an interpreter joins a three-way call.
    Interpreter,
}

impl LanguageService {
    /// The wire name: "native", "seat" or "interpreter".
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageService::Native => "native",
            LanguageService::Seat => "seat",
            LanguageService::Interpreter => "interpreter",
        }
    }
}

/// The languages with a seat of their own at the hotline.
pub const SEAT_LANGUAGES: [&str; 8] = ["en", "fr", "de", "ru", "es", "ar", "ja", "ko"];

impl Language {
    /// Chinese, the hotline's own language.
    pub const CHINESE: Language = Language("zh");
    /// English, also the answer for Latin-script text too short to tell.
    pub const ENGLISH: Language = Language("en");

    /// Detects the language of `text`.
    ///
    /// Text with at least one Han character per four other letters, and
    /// text with no letters at all (digits, punctuation, empty), is taken as
    /// Chinese: it is what the hotline's own seats handle. Latin-script text
    /// of fewer than four words is taken as English, the seat that serves
    /// most foreign callers and can hand over if wrong.
    pub fn detect(text: &str) -> Language {
        let mut han = 0usize;
        let mut latin = 0usize;
        let mut cyrillic = 0usize;
        let mut tibetan = 0usize;
        let mut mongolian = 0usize;
        let mut yi = 0usize;
        let mut other_letters = 0usize;
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            // Fast path for what a Chinese ticket is made of: lead bytes
            // E5..=E9 start U+5000..=U+9FFF, all Han; ASCII needs no
            // decoding. Everything else goes through the table below.
            match bytes[i] {
                b if b.is_ascii() => {
                    if b.is_ascii_alphabetic() {
                        latin += 1;
                        other_letters += 1;
                    }
                    i += 1;
                    continue;
                }
                0xE5..=0xE9 => {
                    han += 1;
                    i += 3;
                    continue;
                }
                _ => {}
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            match c as u32 {
                0x3040..=0x30FF | 0x31F0..=0x31FF => return Language("ja"),
                0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => return Language("ko"),
                // Not U+FEFF: a byte-order mark or zero-width no-break space
                // is no Arabic.
                0x0600..=0x06FF
                | 0x0750..=0x077F
                | 0x08A0..=0x08FF
                | 0xFB50..=0xFDFF
                | 0xFE70..=0xFEFC => return arabic_script(text),
                0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F => han += 1,
                // CJK and full-width punctuation: not letters, and cheap to
                // rule out before the slow Unicode table lookup.
                0x3000..=0x303F | 0xFF00..=0xFF20 => {}
                _ if c.is_ascii_alphabetic() => {
                    latin += 1;
                    other_letters += 1
                }
                0x00C0..=0x024F | 0x1E00..=0x1EFF => {
                    latin += 1;
                    other_letters += 1
                }
                _ if c.is_ascii() || !c.is_alphabetic() => {}
                0x0400..=0x052F => {
                    cyrillic += 1;
                    other_letters += 1
                }
                0x0F00..=0x0FFF => {
                    tibetan += 1;
                    other_letters += 1
                }
                0x1800..=0x18AF => {
                    mongolian += 1;
                    other_letters += 1
                }
                0xA000..=0xA4CF => {
                    yi += 1;
                    other_letters += 1
                }
                _ => other_letters += 1,
            }
        }
        // A Han character carries about a word, a Latin word about five
        // letters: Chinese with "WiFi" in it stays Chinese, English naming
        // "朝阳区" stays English.
        if han * 4 >= other_letters {
            return Language::CHINESE;
        }
        // Scripts of China's own languages that whatlang does not know: it
        // would answer nothing, and nothing would be English.
        if tibetan * 2 > other_letters {
            return Language("bo");
        }
        if mongolian * 2 > other_letters {
            return Language("mn");
        }
        if yi * 2 > other_letters {
            return Language("ii");
        }
        if cyrillic * 2 > other_letters {
            return cyrillic_script(text);
        }
        if latin * 2 < other_letters {
            return whatlang_detect(text);
        }
        if text.split_whitespace().count() < 4 {
            return Language::ENGLISH;
        }
        let code = match whichlang::detect_language(text) {
            whichlang::Lang::Eng => "en",
            whichlang::Lang::Fra => "fr",
            whichlang::Lang::Deu => "de",
            whichlang::Lang::Spa => "es",
            whichlang::Lang::Por => "pt",
            whichlang::Lang::Ita => "it",
            whichlang::Lang::Nld => "nl",
            whichlang::Lang::Swe => "sv",
            whichlang::Lang::Tur => "tr",
            whichlang::Lang::Vie => "vi",
            // Non-Latin answers for Latin text: let the broader model decide.
            _ => return whatlang_detect(text),
        };
        // whichlang always answers one of its 16 languages; a Polish or Czech
        // caller must not land on a seat because the nearest of 16 was one.
        if !writes_only(code, text) {
            return whatlang_detect(text);
        }
        Language(code)
    }

    /// The language whose [`code`](Language::code) is `code`, if the
    /// detector can answer it; `None` for any other string.
    ///
    /// ```
    /// use hotline_router::Language;
    ///
    /// assert_eq!(Language::from_code("fr"), Some(Language::detect("Je voudrais prolonger mon visa, à qui dois-je m'adresser ?")));
    /// assert_eq!(Language::from_code("zh"), Some(Language::CHINESE));
    /// assert_eq!(Language::from_code("french"), None);
    /// ```
    pub fn from_code(code: &str) -> Option<Language> {
        // Every code `detect` writes: its own literals, the Cyrillic
        // alphabets, and whatlang's languages through `iso639_1`.
        const OWN: [&str; 11] = [
            "zh", "en", "ja", "ko", "bo", "mn", "ii", "ug", "ur", "fa", "ar",
        ];
        OWN.into_iter()
            .chain(SEAT_LANGUAGES)
            .chain(CYRILLIC.iter().map(|a| a.code))
            .chain(Lang::all().iter().map(|l| iso639_1(*l)))
            .find(|c| *c == code)
            .map(Language)
    }

    /// The code: ISO 639-1 (`zh`, `en` …) where the language has one.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// Which service the language needs.
    pub fn service(self) -> LanguageService {
        if self.0 == "zh" {
            LanguageService::Native
        } else if SEAT_LANGUAGES.contains(&self.0) {
            LanguageService::Seat
        } else {
            LanguageService::Interpreter
        }
    }
}

/// Whether every non-ASCII letter of `text` belongs to the alphabet of
/// `code`, one of whichlang's Latin-script languages.
fn writes_only(code: &str, text: &str) -> bool {
    let alphabet = match code {
        "en" => "",
        "fr" => "àâæçéèêëîïôœùûüÿ",
        "de" => "äöüßé",
        "es" => "áéíóúüñ",
        "pt" => "áâãàçéêíóôõú",
        "it" => "àèéìíîòóùú",
        "nl" => "áéëïóöüè",
        "sv" => "åäöé",
        "tr" => "çğıöşüâî",
        "vi" => "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ",
        _ => return true,
    };
    text.chars()
        .filter(|c| !c.is_ascii() && c.is_alphabetic())
        .all(|c| c.to_lowercase().all(|l| alphabet.contains(l)))
}

/// Arabic-script text: Arabic, or Uyghur, Urdu or Persian when it has the
/// letters those write and Arabic does not.
///
/// Arabic keyboards on some systems type Persian ی for ي, and an Arabic
/// ticket may name a Persian place: a few such letters among many do not
/// flip it. The text is not Arabic when it has at least two letters Arabic
/// never writes making at least 4% of its Arabic-script letters, or at least
/// two of them or of ی ک and nothing that marks Arabic (ة أ إ ؤ ي ك, a word
/// beginning with ال). Where a few such letters are all there is, `whatlang`
/// decides between Arabic, Persian and Urdu, and only a reliable verdict
/// takes the text from Arabic.
fn arabic_script(text: &str) -> Language {
    #[derive(Default)]
    struct Counts {
        letters: usize,
        turkic: usize,
        urdu: usize,
        shared: usize,
        yeh_keheh: usize,
        arabic: usize,
    }
    fn count(counts: &mut Counts, c: char, previous: char, before: char) {
        if !c.is_alphabetic() {
            return;
        }
        counts.letters += 1;
        match c {
            // Uyghur (and Kazakh, Kyrgyz, Kurdish): oe, u, yu, ve, e, ae, ng.
            'ۆ' | 'ۇ' | 'ۈ' | 'ۋ' | 'ې' | 'ە' | 'ڭ' => counts.turkic += 1,
            // Urdu: tteh, ddal, rreh, noon ghunna, yeh barree, heh goal.
            'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ے' | 'ۓ' | 'ہ' | 'ۂ' | 'ۃ' => counts.urdu += 1,
            // Persian, Urdu and Uyghur: peh, tcheh, jeh, gaf, heh doachashmee.
            'پ' | 'چ' | 'ژ' | 'گ' | 'ھ' => counts.shared += 1,
            // Farsi yeh and keheh: Persian and Urdu, and some Arabic keyboards.
            'ی' | 'ک' => counts.yeh_keheh += 1,
            'ة' | 'أ' | 'إ' | 'ؤ' | 'ي' | 'ك' => counts.arabic += 1,
            // The article al- at the start of a word.
            'ل' if previous == 'ا' && !before.is_alphabetic() => counts.arabic += 1,
            _ => {}
        }
    }
    let mut counts = Counts::default();
    let (mut previous, mut before) = (' ', ' ');
    for c in text.chars() {
        if matches!(c as u32, 0xFB50..=0xFDFF | 0xFE70..=0xFEFC) {
            // Presentation forms: count the letters they stand for.
            unicode_normalization::char::decompose_compatible(c, |d| {
                count(&mut counts, d, previous, before);
                (before, previous) = (previous, d);
            });
        } else {
            count(&mut counts, c, previous, before);
            (before, previous) = (previous, c);
        }
    }
    let foreign = counts.turkic + counts.urdu + counts.shared;
    let not_arabic = (foreign >= 2 && foreign * 25 >= counts.letters)
        || (foreign + counts.yeh_keheh >= 2 && counts.arabic == 0);
    if not_arabic {
        return Language(if counts.turkic > counts.urdu {
            "ug"
        } else if counts.urdu > 0 {
            "ur"
        } else {
            "fa"
        });
    }
    if foreign + counts.yeh_keheh > 0 {
        let detector = whatlang::Detector::with_allowlist(vec![Lang::Ara, Lang::Pes, Lang::Urd]);
        if let Some(info) = detector.detect(text) {
            if info.is_reliable() && info.lang() != Lang::Ara {
                return Language(iso639_1(info.lang()));
            }
        }
    }
    Language("ar")
}

/// The broad, slow model, for what the fast layers cannot settle.
fn whatlang_detect(text: &str) -> Language {
    detector()
        .detect(text)
        .map_or(Language::ENGLISH, |info| Language(iso639_1(info.lang())))
}

/// whatlang without the languages that, on one sentence, most often steal a
/// seat language's text (Catalan for Spanish, Norwegian and Danish for
/// German …) and that a Beijing hotline hardly hears. Their speakers still
/// get a language: the nearest one, which for Catalan is the Spanish seat.
fn detector() -> &'static whatlang::Detector {
    static DETECTOR: std::sync::OnceLock<whatlang::Detector> = std::sync::OnceLock::new();
    DETECTOR.get_or_init(|| {
        use Lang::*;
        whatlang::Detector::with_denylist(vec![
            Epo, Lat, Cat, Nob, Dan, Afr, Sna, Zul, Aka, Tuk, Jav,
        ])
    })
}

/// ISO 639-1 for every language whatlang knows; the 639-3 code for those
/// without a two-letter code.
fn iso639_1(lang: Lang) -> &'static str {
    use Lang::*;
    match lang {
        Epo => "eo",
        Eng => "en",
        Rus => "ru",
        Cmn => "zh",
        Spa => "es",
        Por => "pt",
        Ita => "it",
        Ben => "bn",
        Fra => "fr",
        Deu => "de",
        Ukr => "uk",
        Kat => "ka",
        Ara => "ar",
        Hin => "hi",
        Jpn => "ja",
        Heb => "he",
        Yid => "yi",
        Pol => "pl",
        Amh => "am",
        Jav => "jv",
        Kor => "ko",
        Nob => "nb",
        Dan => "da",
        Swe => "sv",
        Fin => "fi",
        Tur => "tr",
        Nld => "nl",
        Hun => "hu",
        Ces => "cs",
        Ell => "el",
        Bul => "bg",
        Bel => "be",
        Mar => "mr",
        Kan => "kn",
        Ron => "ro",
        Slv => "sl",
        Hrv => "hr",
        Srp => "sr",
        Mkd => "mk",
        Lit => "lt",
        Lav => "lv",
        Est => "et",
        Tam => "ta",
        Vie => "vi",
        Urd => "ur",
        Tha => "th",
        Guj => "gu",
        Uzb => "uz",
        Pan => "pa",
        Aze => "az",
        Ind => "id",
        Tel => "te",
        Pes => "fa",
        Mal => "ml",
        Ori => "or",
        Mya => "my",
        Nep => "ne",
        Sin => "si",
        Khm => "km",
        Tuk => "tk",
        Aka => "ak",
        Zul => "zu",
        Sna => "sn",
        Afr => "af",
        Lat => "la",
        Slk => "sk",
        Cat => "ca",
        Tgl => "tl",
        Hye => "hy",
        Cym => "cy",
    }
}

#[cfg(test)]
mod tests;
