//! Which language a ticket is in, and which language service it needs.
//!
//! Detection is layered by cost:
//!
//! 1. A script scan (nanoseconds): Han characters without kana mean Chinese,
//!    kana Japanese, Hangul Korean, Arabic script Arabic.
//! 2. Latin text goes to `whichlang` (~1.5 µs), a linear model over 16
//!    languages that include every seat language.
//! 3. Only where that cannot be the whole answer — Latin text with a letter
//!    the detected seat language does not write (Polish ł, Czech ř …), and
//!    other scripts (Cyrillic, Greek, Thai …) — does `whatlang`'s trigram
//!    model over 69 languages decide (~25–50 µs).
//!
//! 98% of a Beijing day stops at step 1.

use serde::Serialize;
use whatlang::Lang;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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
        let mut other_letters = 0usize;
        for c in text.chars() {
            match c as u32 {
                0x3040..=0x30FF | 0x31F0..=0x31FF => return Language("ja"),
                0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => return Language("ko"),
                0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                    return Language("ar")
                }
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
                _ if !c.is_ascii() && c.is_alphabetic() => other_letters += 1,
                _ => {}
            }
        }
        // A Han character carries about a word, a Latin word about five
        // letters: Chinese with "WiFi" in it stays Chinese, English naming
        // "朝阳区" stays English.
        if han * 4 >= other_letters {
            return Language::CHINESE;
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
mod tests {
    use super::*;

    macro_rules! cases {
        ($($name:ident: $text:expr => $code:expr, $service:ident;)*) => {$(
            #[test]
            fn $name() {
                let lang = Language::detect($text);
                assert_eq!(lang.code(), $code, "{:?}", $text);
                assert_eq!(lang.service(), LanguageService::$service);
            }
        )*};
    }

    cases! {
        chinese: "朝阳区呼家楼街道暖气片不热" => "zh", Native;
        chinese_with_latin: "小区的WiFi信号和充电桩都有问题" => "zh", Native;
        english_naming_a_chinese_place: "I live in 朝阳区 and my visa expires next week" => "en", Seat;
        french_naming_a_chinese_place: "J'habite à 海淀区 et mon titre de séjour expire bientôt" => "fr", Seat;
        digits_only: "12345 !!!" => "zh", Native;
        empty: "" => "zh", Native;
        english: "My visa expires next week and I need to extend my residence permit" => "en", Seat;
        english_short: "visa" => "en", Seat;
        french: "J'ai perdu mon passeport à l'aéroport de Pékin, que dois-je faire ?" => "fr", Seat;
        german: "Ich habe meinen Koffer am Flughafen verloren und brauche Hilfe beim Fundbüro" => "de", Seat;
        russian: "Я потерял паспорт в аэропорту, куда мне обратиться?" => "ru", Seat;
        spanish: "Necesito renovar mi permiso de residencia, ¿dónde tengo que ir?" => "es", Seat;
        arabic: "أريد تمديد تأشيرتي في بكين" => "ar", Seat;
        japanese: "空港で財布をなくしました。どこに問い合わせればいいですか" => "ja", Seat;
        japanese_kanji_and_kana: "ビザの延長について" => "ja", Seat;
        korean: "비자 연장은 어디에서 신청하나요?" => "ko", Seat;
        portuguese: "Perdi a minha mala no aeroporto e preciso de ajuda para a encontrar" => "pt", Interpreter;
        italian: "Ho perso il mio passaporto all'aeroporto e non so cosa fare adesso" => "it", Interpreter;
        thai: "ฉันทำหนังสือเดินทางหายที่สนามบิน" => "th", Interpreter;
        polish_is_not_a_seat: "Zgubiłem paszport na lotnisku i nie wiem, co mam teraz zrobić" => "pl", Interpreter;
        czech_is_not_a_seat: "Ztratil jsem na letišti kufr a potřebuji pomoc s jeho nalezením" => "cs", Interpreter;
        ukrainian_is_not_russian: "Я загубив паспорт в аеропорту, куди мені звернутися?" => "uk", Interpreter;
        vietnamese: "Tôi bị mất hộ chiếu ở sân bay, tôi phải làm gì bây giờ" => "vi", Interpreter;
    }

    #[test]
    fn every_seat_language_is_a_seat() {
        for code in SEAT_LANGUAGES {
            assert_eq!(Language(code).service(), LanguageService::Seat);
        }
    }
}
