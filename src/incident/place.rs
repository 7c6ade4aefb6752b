//! The place inside a community, read from an address in words: the
//! compound (小区、院) and the building (号楼、栋、幢、座).
//!
//! The router resolves an address to a district, street and community; two
//! callers from one building say more than that, and in many ways:
//! "朝阳区呼家楼街道金台里社区14号楼", "金台里小区十四栋", "呼家楼金台里14号楼3单元".
//! [`parse`] reads them all as compound 金台里, building 14:
//!
//! * everything up to the last district or street name (official or bare:
//!   呼家楼街道, 呼家楼; found by the router's gazetteer, so that 朝阳门 is a
//!   street and not 朝阳 + 门) and a leading city (北京市) is dropped;
//! * the building is a number before 号楼, 栋, 幢 or 座 — ASCII or full-width
//!   digits, 一二三 numerals up to 九十九, or one letter (A座); 单元 and
//!   floors that follow are ignored (a unit is part of its building);
//! * the compound is what lies before the building with 社区居委会, 社区,
//!   居委会 and 小区 removed, cut at the first word that points somewhere
//!   around it (东门, 门口, 旁边, 楼下, 垃圾站 …); a numeral before 区, 期,
//!   号 or 院 becomes a digit (芳古园一区 and 芳古园1区 are one compound).
//!
//! A bare floor ("3楼") is not a building, and "12号" without 楼 stays part
//! of the compound ("金台路12号"): it is a house number as often as a
//! building.

/// A compound and building as read from an address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Spot {
    /// The compound, normalised (金台里, 天通北苑2区, 月坛北街).
    pub(crate) compound: Option<String>,
    /// The building, normalised (14, A).
    pub(crate) building: Option<String>,
}

/// Endings of place names: the first one within the first ten characters
/// of a text ends its leading place, with a part that follows (二区, 3号楼).
/// The first, not the last: "龙城花园北边那条路" is at 龙城花园.
const PLACE_ENDS: &[&str] = &[
    "小区", "社区", "家园", "花园", "号院", "号楼", "区", "院", "园", "苑", "里", "村", "街", "路",
    "桥", "栋",
];
/// Parts after a place name: 二区, 3号楼, 东里.
const PART_ENDS: &[&str] = &["区", "号楼", "栋", "单元", "期", "里"];

/// The place a text opens with: up to the first place ending within its
/// first ten characters (at least two characters long), plus a short part
/// that follows.
pub(crate) fn leading_place(text: &str) -> Option<&str> {
    let head: usize = text.char_indices().nth(10).map_or(text.len(), |(i, _)| i);
    let (_, end) = PLACE_ENDS
        .iter()
        .filter_map(|e| text[..head].find(e).map(|i| (i, i + e.len())))
        .filter(|&(i, _)| i > 0)
        .min_by_key(|&(i, end)| (i, std::cmp::Reverse(end)))?;
    let mut end = end;
    // A short part after the name: at most four characters ending a part
    // (二区, 南4号楼, 西里).
    let rest = &text[end..];
    let part = PART_ENDS
        .iter()
        .filter_map(|e| rest.find(e).map(|i| i + e.len()))
        .filter(|&stop| rest[..stop].chars().count() <= 4)
        .min();
    if let Some(stop) = part {
        end += stop;
    }
    Some(&text[..end])
}

/// Community words removed from a compound name.
const COMMUNITY_WORDS: &[&str] = &[
    "社区居民委员会",
    "社区居委会",
    "居民委员会",
    "居委会",
    "社区",
    "小区",
];
/// Words after a compound's name that point around it; the name ends there.
const AROUND: &[&str] = &[
    "东门",
    "西门",
    "南门",
    "北门",
    "正门",
    "大门",
    "侧门",
    "门口",
    "门前",
    "旁边",
    "附近",
    "对面",
    "楼下",
    "外面",
    "里面",
    "路口",
    "垃圾站",
    "垃圾桶",
    "地库",
    "地下",
    "停车场",
    "院内",
    "院里",
];
/// Markers of a building number.
const BUILDING_MARKERS: &[&str] = &["号楼", "栋", "幢", "座"];

/// Reads the compound and building from a normalised `address`, given the
/// byte spans of the district and street names in it.
pub(crate) fn parse(address: &str, spans: impl IntoIterator<Item = (usize, usize)>) -> Spot {
    let cut = spans.into_iter().map(|(_, end)| end).max().unwrap_or(0);
    detail(skip_city(&address[cut..]))
}

/// Reads the compound and building that normalised free text opens with,
/// after the district and street names it starts with ("金台里9号楼电梯坏了",
/// "朝阳九龙小区的水是黄的"): for tickets without an address. `spans` are the
/// district and street names in the text; only those at its start count.
/// Words that name no particular place (楼道, 小区, 家里 …) are no compound.
pub(crate) fn parse_text(text: &str, spans: impl IntoIterator<Item = (usize, usize)>) -> Spot {
    let mut cut = 0;
    for (start, end) in spans {
        // The first name may follow a few characters (北京市); each next
        // one must follow the previous directly.
        let lead = if cut == 0 {
            text[..start].chars().count() <= 3
        } else {
            start == cut
        };
        if !lead {
            break;
        }
        cut = end;
    }
    let Some(lead) = leading_place(skip_city(&text[cut..])) else {
        return Spot::default();
    };
    let spot = detail(lead);
    match &spot.compound {
        Some(c) if c.chars().count() >= 2 && !GENERIC.iter().any(|g| c.starts_with(g)) => spot,
        _ => Spot::default(),
    }
}

/// The compound and building in what follows the jurisdiction.
fn detail(rest: &str) -> Spot {
    let (before, building) = match find_building(rest) {
        Some((start, label)) => (&rest[..start], Some(label)),
        None => (rest, None),
    };
    Spot {
        compound: compound_name(before),
        building,
    }
}

/// Place words that name no particular place.
const GENERIC: &[&str] = &[
    "楼道", "楼下", "楼上", "楼里", "家里", "屋里", "院里", "小区", "社区", "马路", "路上", "路边",
    "路口", "道路", "门口", "附近", "这里", "这边", "那边", "我家", "我们", "单元", "公园", "花园",
    "地下", "楼顶", "顶楼", "一楼", "这条", "那条", "街上", "村里", "胡同",
];

/// Words callers open with, before any place.
const GREETINGS: &[&str] = &["你好", "您好", "喂", "请问", "麻烦", "打扰了"];

/// Skips a leading city ("北京市", "北京") and separators.
fn skip_city(s: &str) -> &str {
    let s = s.trim_start_matches(|c: char| !is_name_char(c));
    let mut chars = s.char_indices();
    // Up to four characters ending in 市.
    for _ in 0..5 {
        match chars.next() {
            Some((i, '市')) if i > 0 => return s[i + '市'.len_utf8()..].trim_start(),
            Some((_, c)) if is_han(c) => continue,
            _ => break,
        }
    }
    s.strip_prefix("北京").unwrap_or(s)
}

/// The first building number in `s`: its byte offset and normalised label.
fn find_building(s: &str) -> Option<(usize, String)> {
    let mut best: Option<(usize, String)> = None;
    for marker in BUILDING_MARKERS {
        let mut from = 0;
        while let Some(at) = s[from..].find(marker).map(|i| i + from) {
            if let Some((start, label)) = number_before(&s[..at]) {
                if best.as_ref().is_none_or(|(b, _)| start < *b) {
                    best = Some((start, label));
                }
                break;
            }
            from = at + marker.len();
        }
    }
    best
}

/// The number ending `s`: its start and its value as a label (digits, or
/// one ASCII letter upper-cased).
fn number_before(s: &str) -> Option<(usize, String)> {
    let digits_start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map(|(i, _)| i);
    if let Some(start) = digits_start {
        let value: u32 = s[start..].parse().ok()?;
        return Some((start, value.to_string()));
    }
    let han_start = s
        .char_indices()
        .rev()
        .take_while(|(_, c)| numeral(*c).is_some())
        .last()
        .map(|(i, _)| i);
    if let Some(start) = han_start {
        return Some((start, han_number(&s[start..])?.to_string()));
    }
    let (i, c) = s.char_indices().next_back()?;
    if c.is_ascii_alphabetic() {
        return Some((i, c.to_ascii_uppercase().to_string()));
    }
    None
}

/// The value of a Chinese numeral from 一 to 九十九 (十, 十四, 二十, 二十三).
fn han_number(s: &str) -> Option<u32> {
    let digits: Vec<u32> = s.chars().map(numeral).collect::<Option<_>>()?;
    match digits.as_slice() {
        [d] if *d < 10 => Some(*d),
        [10] => Some(10),
        [10, d] if *d < 10 => Some(10 + d),
        [t, 10] if *t < 10 => Some(t * 10),
        [t, 10, d] if *t < 10 && *d < 10 => Some(t * 10 + d),
        _ => None,
    }
}

fn numeral(c: char) -> Option<u32> {
    Some(match c {
        '零' | '〇' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        '十' => 10,
        _ => return None,
    })
}

/// The compound's name from what precedes the building (or the whole rest
/// of the address): community words removed, cut where words pointing
/// around it start, numerals as digits. `None` when nothing is left.
fn compound_name(s: &str) -> Option<String> {
    let mut name = String::with_capacity(s.len());
    let mut rest = s.trim_matches(|c: char| !is_name_char(c));
    // A greeting is not a place: "你好，楼里暖气管爆了" names no compound.
    while let Some(after) = GREETINGS.iter().find_map(|g| rest.strip_prefix(g)) {
        rest = after.trim_start_matches(|c: char| !is_name_char(c));
    }
    if GENERIC.contains(&rest.trim_end_matches(|c: char| !is_name_char(c))) {
        return None;
    }
    if let Some(end) = AROUND.iter().filter_map(|w| rest.find(w)).min() {
        rest = &rest[..end];
    }
    'chars: while let Some(c) = rest.chars().next() {
        for w in COMMUNITY_WORDS {
            if let Some(after) = rest.strip_prefix(w) {
                rest = after;
                continue 'chars;
            }
        }
        rest = &rest[c.len_utf8()..];
        if !is_name_char(c) {
            continue;
        }
        // 一区 → 1区 and 二期 → 2期, as callers also write them; 九龙 and
        // 十里堡 are names and stay.
        match numeral(c) {
            Some(d) if d < 10 && rest.starts_with(['区', '期', '号', '院']) => {
                name.push(char::from(b'0' + d as u8))
            }
            _ => name.push(c),
        }
    }
    let name = name.trim_end_matches(['号', '的']);
    (!name.is_empty()).then(|| name.to_string())
}

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

fn is_name_char(c: char) -> bool {
    is_han(c) || c.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spans of the test's jurisdiction names, as the gazetteer finds them.
    fn spans(text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < text.len() {
            let hit = ["朝阳区", "呼家楼街道", "呼家楼", "朝阳"]
                .iter()
                .find(|n| text[at..].starts_with(**n));
            match hit {
                Some(n) => {
                    out.push((at, at + n.len()));
                    at += n.len();
                }
                None => at += text[at..].chars().next().unwrap().len_utf8(),
            }
        }
        out
    }

    fn spot(address: &str) -> (Option<String>, Option<String>) {
        let a = crate::classify::normalize::normalize(address);
        let s = parse(&a, spans(&a));
        (s.compound, s.building)
    }

    fn both(c: &str, b: &str) -> (Option<String>, Option<String>) {
        (Some(c.into()), Some(b.into()))
    }

    #[test]
    fn one_building_many_spellings() {
        let expected = both("金台里", "14");
        for a in [
            "朝阳区呼家楼街道金台里社区14号楼",
            "金台里小区十四栋",
            "呼家楼金台里14号楼3单元",
            "北京市朝阳区金台里１４号楼",
            "朝阳区金台里小区14幢502",
            "金台里社区居委会14号楼",
        ] {
            assert_eq!(spot(a), expected, "{a}");
        }
    }

    #[test]
    fn compounds_without_a_building() {
        assert_eq!(
            spot("朝阳区呼家楼街道金台里小区东门"),
            (Some("金台里".into()), None)
        );
        assert_eq!(spot("朝阳区小黄庄垃圾站"), (Some("小黄庄".into()), None));
        assert_eq!(spot("天通北苑二区12号楼"), both("天通北苑2区", "12"));
        assert_eq!(spot("朝阳区呼家楼街道"), (None, None));
        assert_eq!(spot(""), (None, None));
    }

    #[test]
    fn floors_and_house_numbers_are_not_buildings() {
        assert_eq!(spot("金台里3楼"), (Some("金台里3楼".into()), None));
        assert_eq!(spot("金台路12号"), (Some("金台路12".into()), None));
        assert_eq!(spot("金台路15号院3号楼"), both("金台路15号院", "3"));
        assert_eq!(spot("望京SOHO A座"), both("望京SOHO", "A"));
    }

    #[test]
    fn a_leading_place_is_found() {
        assert_eq!(
            leading_place("天通北苑二区门口的路结冰了"),
            Some("天通北苑二区")
        );
        assert_eq!(
            leading_place("龙城花园北边那条路的路灯全不亮"),
            Some("龙城花园")
        );
        assert_eq!(
            leading_place("芳群园二区南门外马路中间冒水"),
            Some("芳群园二区")
        );
        assert_eq!(leading_place("金台里9号楼电梯坏了"), Some("金台里9号楼"));
        assert_eq!(leading_place("路灯不亮"), None);
        assert_eq!(leading_place("暖气片一直不热"), None);
        assert_eq!(leading_place(""), None);
    }

    #[test]
    fn free_text_names_its_compound_or_nothing() {
        let text = |t: &str| {
            let s = parse_text(t, spans(t));
            (s.compound, s.building)
        };
        assert_eq!(text("金台里9号楼电梯坏了"), both("金台里", "9"));
        assert_eq!(
            text("朝阳区呼家楼金台里小区暖气不热"),
            (Some("金台里".into()), None)
        );
        assert_eq!(text("朝阳金台里8号楼停电"), both("金台里", "8"));
        // A name later in the text is not where the place is.
        assert_eq!(text("楼道堆满了杂物，希望朝阳区管一管"), (None, None));
        assert_eq!(text("九龙小区的水是黄的"), (Some("九龙".into()), None));
        assert_eq!(text("楼道里全是烟"), (None, None));
        assert_eq!(text("小区树倒了"), (None, None));
        assert_eq!(text("家里暖气不热"), (None, None));
        assert_eq!(text("路灯不亮"), (None, None));
    }

    #[test]
    fn numerals() {
        assert_eq!(han_number("十"), Some(10));
        assert_eq!(han_number("十四"), Some(14));
        assert_eq!(han_number("二十"), Some(20));
        assert_eq!(han_number("九十九"), Some(99));
        assert_eq!(han_number("三"), Some(3));
        assert_eq!(han_number("十十"), None);
        assert_eq!(han_number("一二三"), None);
    }

    #[test]
    fn odd_input_does_not_panic() {
        for a in [
            "号楼",
            "栋",
            "十号楼",
            "ａ座",
            "市",
            "北京市",
            "🏠3号楼",
            "\u{200B}",
            "区区区区",
        ] {
            let _ = parse(a, spans(a));
            let _ = parse(a, []);
            let _ = parse_text(a, spans(a));
        }
    }
}
