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

use std::collections::HashMap;

use foldhash::fast::FixedState;
use smallvec::SmallVec;

/// A compound and building as read from an address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Spot {
    /// The compound, normalised (金台里, 天通北苑2区, 月坛北街).
    pub(crate) compound: Option<String>,
    /// The building, normalised (14, A).
    pub(crate) building: Option<String>,
}

/// The place a text opens with: up to the first place-name ending (区,
/// 院, 园, 苑, 里, 村, 街, 路, 桥, 栋 or 号楼) among its first ten characters,
/// not the very first, plus a part of at most four characters that follows
/// (二区, 南4号楼, 西里). The first ending, not the last: "龙城花园北边那条路"
/// is at 龙城花园.
pub(crate) fn leading_place(text: &str) -> Option<&str> {
    let ends = |c: char, prev: Option<char>| {
        matches!(
            c,
            '区' | '院' | '园' | '苑' | '里' | '村' | '街' | '路' | '桥' | '栋'
        ) || (c == '楼' && prev == Some('号'))
    };
    let mut prev = None;
    let mut end = None;
    for (n, (i, c)) in text.char_indices().take(10).enumerate() {
        if n > 0 && ends(c, prev) {
            end = Some(i + c.len_utf8());
            break;
        }
        prev = Some(c);
    }
    let mut end = end?;
    // A short part after the name.
    let mut prev = None;
    for (i, c) in text[end..].char_indices().take(4) {
        let part = matches!(c, '区' | '栋' | '期' | '里')
            || (c == '楼' && prev == Some('号'))
            || (c == '元' && prev == Some('单'));
        if part {
            end += i + c.len_utf8();
            break;
        }
        prev = Some(c);
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
/// The first characters of the words in [`AROUND`].
const AROUND_FIRST: &str = "东西南北正大侧门旁附对楼外里路垃地停院";

/// Reads the compound and building from a normalised `address` whose
/// district and street names end at byte `cut` (see [`Prefixes`]).
pub(crate) fn parse(address: &str, cut: usize) -> Spot {
    detail(skip_city(address.get(cut..).unwrap_or("")))
}

/// Reads the compound and building that normalised free text opens with,
/// after the district and street names it starts with (ending at byte
/// `cut`): "金台里9号楼电梯坏了", "朝阳九龙小区的水是黄的". For tickets without
/// an address. Words that name no particular place (楼道, 小区, 家里 …) are
/// no compound.
pub(crate) fn parse_text(text: &str, cut: usize) -> Spot {
    let Some(lead) = leading_place(skip_city(text.get(cut..).unwrap_or(""))) else {
        return Spot::default();
    };
    let spot = detail(lead);
    match &spot.compound {
        Some(c) if c.chars().count() >= 2 && !GENERIC.iter().any(|g| c.starts_with(g)) => spot,
        _ => Spot::default(),
    }
}

/// Every district and street name, official and bare (呼家楼街道, 呼家楼,
/// 朝阳区, 朝阳), and every community name in full and short (月坛社区), by
/// first character, longest first: to find where the jurisdiction at the
/// start of an address ends without scanning it with the gazetteer again
/// (the router already did). The longest name at each position wins, as in
/// the gazetteer: 朝阳门 is a street, not 朝阳 + 门, and 月坛社区 is the
/// community (where the jurisdiction ends), not the street 月坛 + 社区.
#[derive(Debug, Default)]
pub(crate) struct Prefixes {
    /// Every name, one after the other (one allocation, read in place).
    arena: String,
    /// (start, length in bytes, whether a district or street) of the names
    /// in `arena` by their first two characters, longest first.
    by_first: HashMap<(char, char), Names, FixedState>,
}

/// (start, length in bytes, whether a district or street) of names in a
/// [`Prefixes`] arena.
type Names = SmallVec<[(u32, u16, bool); 2]>;

/// The first two characters of a name (every name has at least two).
fn first_two(s: &str) -> Option<(char, char)> {
    let mut chars = s.chars();
    Some((chars.next()?, chars.next()?))
}

/// Suffixes of district names.
const DISTRICT_SUFFIXES: &[&str] = &["自治县", "新区", "区", "县"];
/// Community name suffixes and the short form callers use instead.
const COMMUNITY_SHORT: &[(&str, &str)] = &[
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("居委会", "社区"),
    ("村委会", "村"),
];

impl Prefixes {
    /// The names of `districts`, `streets` and `communities`.
    pub(crate) fn new<'a>(
        districts: impl IntoIterator<Item = &'a str>,
        streets: impl IntoIterator<Item = &'a str>,
        communities: impl IntoIterator<Item = &'a str>,
    ) -> Prefixes {
        let mut arena = String::new();
        let mut by_first: HashMap<(char, char), Names, FixedState> = HashMap::default();
        let mut add = |name: &str, jurisdiction: bool| {
            let Some(c) = first_two(name).filter(|_| name.len() <= usize::from(u16::MAX)) else {
                return;
            };
            let list = by_first.entry(c).or_default();
            let found = list
                .iter_mut()
                .find(|(at, len, _)| &arena[*at as usize..*at as usize + *len as usize] == name);
            match found {
                // A spelling that names a street is read as the street.
                Some(entry) => entry.2 |= jurisdiction,
                None => {
                    list.push((arena.len() as u32, name.len() as u16, jurisdiction));
                    arena.push_str(name);
                }
            }
        };
        for d in districts {
            add(d, true);
            if let Some(bare) = DISTRICT_SUFFIXES.iter().find_map(|x| d.strip_suffix(x)) {
                add(bare, true);
            }
        }
        for s in streets {
            add(s, true);
            if let Some(bare) = crate::locate::gazetteer::STREET_SUFFIXES
                .iter()
                .find_map(|x| s.strip_suffix(x))
            {
                add(bare, true);
                add(&format!("{bare}街道"), true);
            }
        }
        for c in communities {
            add(c, false);
            if let Some((bare, short)) = COMMUNITY_SHORT
                .iter()
                .find_map(|(x, short)| c.strip_suffix(x).map(|b| (b, short)))
            {
                add(&format!("{bare}{short}"), false);
            }
        }
        for list in by_first.values_mut() {
            list.sort_by_key(|(_, len, _)| std::cmp::Reverse(*len));
        }
        Prefixes { arena, by_first }
    }

    /// Where the district and street names that `text` starts with end
    /// (after a leading city and separators between names), as a byte
    /// offset; 0 if it starts with none.
    pub(crate) fn end(&self, text: &str) -> usize {
        let start = text.len() - skip_city(text).len();
        let mut cut = start;
        loop {
            let rest = &text[cut..];
            let skipped = rest.len() - rest.trim_start_matches(|c: char| !is_name_char(c)).len();
            let rest = &rest[skipped..];
            let Some(c) = first_two(rest) else {
                break;
            };
            let hit = self.by_first.get(&c).and_then(|names| {
                names.iter().find(|(at, len, _)| {
                    let name = &self.arena.as_bytes()[*at as usize..*at as usize + *len as usize];
                    rest.as_bytes().starts_with(name)
                })
            });
            match hit {
                Some(&(_, len, true)) => cut += skipped + usize::from(len),
                _ => break,
            }
        }
        if cut == start {
            0
        } else {
            cut
        }
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

/// The first building number in `s` (a number before 号楼, 栋, 幢 or 座):
/// its byte offset and normalised label.
fn find_building(s: &str) -> Option<(usize, String)> {
    s.char_indices().find_map(|(i, c)| {
        let marker = matches!(c, '栋' | '幢' | '座') || (c == '号' && s[i..].starts_with("号楼"));
        if marker {
            number_before(&s[..i])
        } else {
            None
        }
    })
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
    if let Some(end) = rest
        .char_indices()
        .find(|&(i, c)| AROUND_FIRST.contains(c) && AROUND.iter().any(|w| rest[i..].starts_with(w)))
        .map(|(i, _)| i)
    {
        rest = &rest[..end];
    }
    'chars: while let Some(c) = rest.chars().next() {
        if matches!(c, '社' | '居' | '小') {
            for w in COMMUNITY_WORDS {
                if let Some(after) = rest.strip_prefix(w) {
                    rest = after;
                    continue 'chars;
                }
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

    fn prefixes() -> Prefixes {
        Prefixes::new(
            ["朝阳区", "东城区", "西城区"],
            ["呼家楼街道", "朝阳门街道", "月坛街道"],
            ["月坛社区居委会", "金台里社区居委会"],
        )
    }

    fn spot(address: &str) -> (Option<String>, Option<String>) {
        let a = crate::classify::normalize::normalize(address);
        let s = parse(&a, prefixes().end(&a));
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
            let s = parse_text(t, prefixes().end(t));
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
    fn the_longest_name_ends_the_jurisdiction() {
        let p = prefixes();
        assert_eq!(p.end("朝阳区呼家楼街道金台里"), "朝阳区呼家楼街道".len());
        assert_eq!(
            p.end("北京市 朝阳区 呼家楼 金台里"),
            "北京市 朝阳区 呼家楼".len()
        );
        // 朝阳门 is a street (of 东城区), not 朝阳 and 门.
        assert_eq!(p.end("朝阳门内大街"), "朝阳门".len());
        assert_eq!(p.end("金台里9号楼"), 0);
        assert_eq!(p.end(""), 0);
        // 月坛社区 is the community, where the jurisdiction ends.
        assert_eq!(p.end("西城区月坛街道月坛社区"), "西城区月坛街道".len());
        assert_eq!(p.end("西城区月坛北街"), "西城区月坛".len());
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
            let _ = parse(a, prefixes().end(a));
            let _ = parse(a, 0);
            let _ = parse(a, 1);
            let _ = parse_text(a, prefixes().end(a));
        }
    }
}
