//! The recurring wording of a ticket: which phrase of its category it is
//! about, so that 加装电梯 and 电梯坏了 are told apart within one category.
//!
//! The phrase is the most specific keyword of the ticket's category that
//! the text matched — the taxonomy's keywords are the phrases callers use,
//! weighted by how specific they are (加装电梯 10, 装电梯 8, 电梯 6). A
//! ticket that matched none of its category's keywords (the model placed
//! it) falls back to its first content phrase: the text without place
//! names and filler (你好, 麻烦尽快处理 …), cut at stop characters, its first
//! run of two to four characters.
//!
//! Either way the phrase depends on the ticket alone, never on what else
//! was seen, so it is the same in every month and can be counted exactly.

use crate::classify::normalize::normalize;
use crate::{CategoryId, Classification, Classifier, Jurisdictions};

/// Phrases that say nothing about the problem.
const FILLER: &[&str] = &[
    "你好",
    "您好",
    "喂",
    "麻烦",
    "请问",
    "帮忙",
    "尽快",
    "处理",
    "谢谢",
    "希望",
    "有关部门",
    "相关部门",
    "管一管",
    "管管",
    "反映",
    "投诉",
    "咨询",
    "一下",
    "我们",
    "我家",
    "家里",
    "这个",
    "那个",
    "问题",
    "情况",
    "现在",
    "一直",
    "已经",
    "好几天",
    "还是",
    "怎么",
    "什么",
    "为什么",
    "能不能",
    "可以",
    "是否",
    "附近",
    "这里",
    "那里",
    "小区",
    "社区",
    "街道",
];

/// Characters that end a phrase.
const STOP: &str = "的了是在我你他她它们也都就还很太又和与及或把被让给着过吗呢吧啊呀哦嗯有没不";

/// Suffixes to strip from place names, longest first.
const PLACE_SUFFIXES: &[&str] = &[
    "社区居委会",
    "村委会",
    "居委会",
    "街道",
    "地区",
    "社区",
    "区",
    "镇",
    "乡",
    "村",
];

/// The most specific keyword of `category` the classification matched:
/// highest weight, then longest, then first in code-point order.
pub(crate) fn keyword_phrase<'c>(
    classifier: &'c Classifier,
    classification: &Classification,
    category: CategoryId,
) -> Option<&'c str> {
    classification
        .matched()
        .iter()
        .filter_map(|&k| {
            let w = classifier.weight(k, category);
            (w > 0).then(|| (w, classifier.keyword(k)))
        })
        .max_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.chars().count().cmp(&b.1.chars().count()))
                .then(b.1.cmp(a.1))
        })
        .map(|(_, k)| k)
}

/// The first content phrase of `text` once `places` and filler are gone.
pub(crate) fn content_phrase(text: &str, places: &[&str]) -> Option<String> {
    let mut text = normalize(text).into_owned();
    for place in places.iter().filter(|p| !p.is_empty()) {
        text = text.replace(place, "|");
        let short = PLACE_SUFFIXES
            .iter()
            .find_map(|s| place.strip_suffix(s))
            .filter(|s| s.chars().count() >= 2);
        if let Some(short) = short {
            text = text.replace(short, "|");
        }
    }
    for filler in FILLER {
        text = text.replace(filler, "|");
    }
    text.split(|c: char| !is_han(c) || STOP.contains(c))
        .find(|run| run.chars().count() >= 2)
        .map(|run| run.chars().take(4).collect())
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// The names of a place, for [`content_phrase`] to remove.
pub(crate) fn place_names(
    j: &Jurisdictions,
    district: Option<crate::DistrictId>,
    street: Option<crate::StreetId>,
    community: Option<crate::CommunityId>,
) -> [&str; 3] {
    [
        district.map_or("", |d| j.district(d).name()),
        street.map_or("", |s| j.street(s).name()),
        community.map_or("", |c| j.community(c).name()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Router;

    fn phrase(router: &Router, text: &str, category: &str) -> Option<String> {
        let c = router.classifier().classify(text);
        let id = router.category_id(category).unwrap();
        keyword_phrase(router.classifier(), &c, id).map(str::to_string)
    }

    #[test]
    fn the_most_specific_keyword_names_the_wording() {
        let r = Router::beijing();
        let cases = [
            (
                "老楼想加装电梯，不知道需要什么手续",
                "housing.elevator",
                "加装电梯",
            ),
            (
                "我们楼的电梯又坏了，一个星期了也没人修",
                "housing.elevator",
                "电梯又坏",
            ),
            (
                "路边有辆僵尸车长期停放，好几年没动过了",
                "transport.parking",
                "僵尸车",
            ),
            (
                "有辆车堵在单元门口，麻烦帮忙联系挪车",
                "transport.parking",
                "挪车",
            ),
        ];
        for (text, category, want) in cases {
            assert_eq!(phrase(&r, text, category).as_deref(), Some(want), "{text}");
        }
        // Keywords of other categories do not name this one's wording.
        assert_eq!(phrase(&r, "电梯坏了", "transport.parking"), None);
    }

    #[test]
    fn content_phrases_skip_places_and_filler() {
        let cases: [(&str, &[&str], Option<&str>); 4] = [
            (
                "你好，呼家楼街道东大桥社区楼道灯坏了，麻烦尽快处理",
                &["呼家楼街道", "东大桥社区居委会"],
                Some("楼道灯坏"),
            ),
            ("朝阳区那个井盖丢了", &["朝阳区"], Some("井盖丢")),
            ("谢谢", &[], None),
            ("hello there", &[], None),
        ];
        for (text, places, want) in cases {
            assert_eq!(content_phrase(text, places).as_deref(), want, "{text}");
        }
    }
}
