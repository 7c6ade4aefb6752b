//! Unit tests of language detection.

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
    byte_order_mark_is_not_arabic: "\u{FEFF}小区暖气不热" => "zh", Native;
}

// Ordinary Russian that whatlang alone calls Bulgarian or Ukrainian.
cases! {
    russian_stolen_wallet: "Здравствуйте, у меня украли кошелек в метро, что делать?" => "ru", Seat;
    russian_visa: "Мне нужно продлить визу, куда обратиться?" => "ru", Seat;
    russian_no_telling_letter: "Потерял паспорт, помогите" => "ru", Seat;
    russian_lost_child: "Мой ребенок потерялся в парке, помогите пожалуйста" => "ru", Seat;
    russian_hard_sign: "В подъезде не работает лифт уже три дня" => "ru", Seat;
    russian_visa_expires: "Пожалуйста, помогите, моя виза заканчивается через неделю" => "ru", Seat;
    russian_rude_driver: "Водитель автобуса нагрубил мне" => "ru", Seat;
    russian_fridge: "У меня сломался холодильник, а магазин не принимает возврат" => "ru", Seat;
    russian_police: "Не могу найти отделение полиции рядом с домом" => "ru", Seat;
    russian_taxi: "Здравствуйте, таксист отказался включить счетчик и взял с меня двойную цену" => "ru", Seat;
    russian_residence: "Добрый день, я иностранец, живу в Пекине, как получить вид на жительство?" => "ru", Seat;
    russian_capitals: "ПОМОГИТЕ, ПОТЕРЯЛ ПАСПОРТ В АЭРОПОРТУ" => "ru", Seat;
}

// The other Cyrillic languages, when the text says so.
cases! {
    bulgarian_definite_articles: "Изгубих паспорта си на летището, какво да правя?" => "bg", Interpreter;
    bulgarian_hard_sign_vowel: "Съседите горе вдигат шум всяка нощ." => "bg", Interpreter;
    bulgarian_visa: "Трябва да удължа визата си, къде да отида?" => "bg", Interpreter;
    bulgarian_stolen_wallet: "Здравейте, откраднаха ми портфейла в метрото, какво да правя?" => "bg", Interpreter;
    ukrainian_visa: "Мені потрібно продовжити візу, куди звернутися?" => "uk", Interpreter;
    belarusian: "Я страціў пашпарт у аэрапорце, куды мне звярнуцца?" => "be", Interpreter;
    serbian: "Изгубио сам пасош на аеродрому, шта да радим?" => "sr", Interpreter;
    serbian_letters: "Треба ми продужење визе, где да се обратим?" => "sr", Interpreter;
    serbian_dje: "Ђаче је изгубило торбу, ћути и плаче" => "sr", Interpreter;
    macedonian: "Ја сум изгубен, каде е амбасадата?" => "mk", Interpreter;
    kazakh: "Мен паспортымды жоғалтып алдым, не істеуім керек?" => "kk", Interpreter;
    mongolian_cyrillic: "Би паспортоо гээчихлээ, одоо юу хийх ёстой вэ? Үнэхээр өөр арга байна уу?" => "mn", Interpreter;
}

// China's minority scripts and the Arabic-script languages beside Arabic.
cases! {
    tibetan: "ངའི་ལག་ཁྱེར་བརླག་སོང་། ག་རེ་བྱེད་དགོས།" => "bo", Interpreter;
    tibetan_naming_beijing: "ང་པེ་ཅིན་ལ་སྡོད་ཀྱི་ཡོད། 北京 ཆུ་ཚ་པོ་མི་འདུག" => "bo", Interpreter;
    mongolian_script: "ᠮᠢᠨᠤ ᠭᠠᠳᠠᠭᠠᠳᠤ ᠫᠠᠰᠫᠣᠷᠲ ᠭᠡᠭᠡᠭᠳᠡᠪᠡ" => "mn", Interpreter;
    yi: "ꆈꌠꁱꂷ ꉢ ꀋꉆ" => "ii", Interpreter;
    uyghur_passport: "مېنىڭ پاسپورتۇم ئايروپورتتا يوقاپ كەتتى، قانداق قىلىشىم كېرەك؟" => "ug", Interpreter;
    uyghur_visa: "ۋىزامنى ئۇزارتماقچىمەن، نەگە بېرىشىم كېرەك؟" => "ug", Interpreter;
    uyghur_hot_water: "ئۆيىمىزدە ئىسسىق سۇ يوق" => "ug", Interpreter;
    persian_passport: "من گذرنامه‌ام را در فرودگاه گم کردم، باید چه کار کنم؟" => "fa", Interpreter;
    persian_only_yeh_and_keheh: "ویزای من تمام شده است، کجا باید بروم؟" => "fa", Interpreter;
    persian_neighbours: "همسایه طبقه بالا هر شب سر و صدا می‌کند" => "fa", Interpreter;
    persian_one_peh: "سلام، من در پکن زندگی می‌کنم و اجازه اقامتم تمام شده است" => "fa", Interpreter;
    urdu_passport: "میرا پاسپورٹ ہوائی اڈے پر گم ہو گیا ہے، مجھے کیا کرنا چاہیے؟" => "ur", Interpreter;
    urdu_visa: "مجھے اپنا ویزا بڑھانا ہے، کہاں جانا ہوگا؟" => "ur", Interpreter;
    urdu_wallet: "میں بیجنگ میں رہتا ہوں اور میرا بٹوہ چوری ہو گیا" => "ur", Interpreter;
    arabic_lost_passport: "فقدت جواز سفري في المطار، ماذا أفعل؟" => "ar", Seat;
    arabic_noise: "جاري يصدر ضوضاء كل ليلة ولا أستطيع النوم" => "ar", Seat;
    arabic_student: "مرحبا، أنا طالب أجنبي في جامعة بكين وأحتاج إلى تجديد تصريح الإقامة" => "ar", Seat;
    arabic_with_a_farsi_yeh: "أريد تمديد تأشيرتی في بكين" => "ar", Seat;
    arabic_typed_with_farsi_yeh_throughout: "مرحبا، أنا طالب أجنبی فی جامعة بكین وأحتاج إلى تجدید تصریح الإقامة" => "ar", Seat;
    arabic_with_farsi_yeh_and_keheh: "أرید تمدید تأشیرتی فی بکین" => "ar", Seat;
    arabic_with_keheh: "أين يمكنني تجديد الإقامة في بکين؟" => "ar", Seat;
    arabic_naming_a_persian_place: "أسكن في حي گلستان منذ سنتين وأريد تجديد الإقامة في المكتب المختص" => "ar", Seat;
    arabic_presentation_forms: "ﻣﺮﺣﺒﺎ ﺃﺭﻳﺪ ﺗﻤﺪﻳﺪ ﺍﻟﺘﺄﺷﻴﺮﺓ" => "ar", Seat;
    persian_presentation_forms: "ﮔﺬﺭﻧﺎﻣﻪ ﮔﻢ ﮐﺮﺩﻡ" => "fa", Interpreter;
}

#[test]
fn every_seat_language_is_a_seat() {
    for code in SEAT_LANGUAGES {
        assert_eq!(Language(code).service(), LanguageService::Seat);
    }
}
