//! The gazetteer: place names in words → districts, streets, communities.
//!
//! Every official name is indexed with its suffix and without it (朝阳区 and
//! 朝阳; 呼家楼街道 and 呼家楼; 东大桥社区居委会, 东大桥社区 and 东大桥), all in
//! one leftmost-longest automaton, so "朝阳门" is read as the street 朝阳门,
//! not as the district 朝阳 followed by 门. One name may stand for several
//! places (385 Beijing community names repeat): a token carries all of them,
//! and [`super::Locator`] decides with the other clues.

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};
use smallvec::SmallVec;

use super::jurisdictions::{CommunityId, DistrictId, Jurisdictions, StreetId};
use crate::error::{BuildError, BuildErrorKind};

/// One place a name can stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    District(DistrictId),
    Street(StreetId),
    Community(CommunityId),
}

impl Place {
    /// 0 for districts, 1 for streets, 2 for communities.
    fn level(&self) -> u8 {
        match self {
            Place::District(_) => 0,
            Place::Street(_) => 1,
            Place::Community(_) => 2,
        }
    }
}

/// A name found in a text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub(crate) name: u32,
}

#[derive(Debug)]
struct Name {
    text: String,
    /// A bare name (suffix stripped) of fewer than 3 characters: too easily
    /// part of an ordinary word, so it is only trusted in an address field.
    short_bare: bool,
    places: (u32, u32),
}

/// How a spelling relates to a place's official name, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Form {
    /// The official name itself (东大桥社区居委会).
    Official,
    /// The short form callers use (东大桥社区, 太平庄村).
    Short,
    /// The name without any suffix (东大桥).
    Bare,
}

/// Suffixes stripped from street names, longest first.
pub(crate) const STREET_SUFFIXES: &[&str] = &[
    "街道办事处",
    "地区办事处",
    "街道",
    "地区",
    "办事处",
    "镇",
    "乡",
];
/// Suffixes stripped from community names, longest first, with the short
/// form callers use instead ("东大桥社区", "太平庄村").
pub(crate) const COMMUNITY_SUFFIXES: &[(&str, &str)] = &[
    ("社区居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居民委员会", "社区"),
    ("村民委员会", "村"),
    ("居委会", "社区"),
    ("村委会", "村"),
    ("社区", "社区"),
];
pub(crate) const DISTRICT_SUFFIXES: &[&str] = &["自治县", "新区", "区", "县", "市"];

pub(crate) struct Gazetteer {
    automaton: CharwiseDoubleArrayAhoCorasick<u32>,
    names: Vec<Name>,
    places: Vec<Place>,
}

impl Gazetteer {
    pub(crate) fn new(j: &Jurisdictions) -> Result<Gazetteer, BuildError> {
        let mut variants: Vec<(String, Place, Form)> = Vec::new();
        let mut add = |name: &str, place: Place, form: Form| {
            if name.chars().count() >= 2 {
                variants.push((name.to_string(), place, form));
            }
        };
        for (id, d) in j.districts() {
            add(d.name(), Place::District(id), Form::Official);
            if let Some(bare) = strip_any(d.name(), DISTRICT_SUFFIXES) {
                add(bare, Place::District(id), Form::Bare);
            }
        }
        for (id, s) in j.streets() {
            add(s.name(), Place::Street(id), Form::Official);
            if let Some(bare) = strip_any(s.name(), STREET_SUFFIXES) {
                add(bare, Place::Street(id), Form::Bare);
                // Callers say 呼家楼街道 for 呼家楼地区 and back.
                if s.name().ends_with("地区") {
                    add(&format!("{bare}街道"), Place::Street(id), Form::Short);
                }
            }
        }
        for (id, c) in j.communities() {
            add(c.name(), Place::Community(id), Form::Official);
            if let Some((bare, short)) = COMMUNITY_SUFFIXES
                .iter()
                .find_map(|(suffix, short)| c.name().strip_suffix(suffix).map(|b| (b, *short)))
            {
                add(&format!("{bare}{short}"), Place::Community(id), Form::Short);
                if short == "村" && bare.ends_with('村') {
                    // 东村村委会: "东村" is already the bare name.
                    add(bare, Place::Community(id), Form::Short);
                } else {
                    add(bare, Place::Community(id), Form::Bare);
                }
            }
        }
        // Group the places of one spelling together, highest level first: a
        // spelling that names a district or a street office is read as that,
        // not as the villages that share its name (望京 is 望京街道, not 望京村).
        // Within a level, a spelling that is a place's official name is read
        // as that place, not as another's shortened name (时村 is the village
        // officially named 时村, not also 时村社区 next door).
        variants.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.level().cmp(&b.1.level()))
                .then(a.2.cmp(&b.2))
        });
        let mut names: Vec<Name> = Vec::new();
        let mut places: Vec<Place> = Vec::with_capacity(variants.len());
        let mut top_form = Form::Official;
        for (text, place, form) in variants {
            let short_bare = form == Form::Bare && text.chars().count() < 3;
            match names.last_mut() {
                Some(last) if last.text == text => {
                    let top = places[last.places.0 as usize].level();
                    if place.level() == top
                        && form == top_form
                        && !places[last.places.0 as usize..].contains(&place)
                    {
                        places.push(place);
                        last.places.1 = places.len() as u32;
                    }
                }
                _ => {
                    top_form = form;
                    places.push(place);
                    names.push(Name {
                        text,
                        short_bare,
                        places: (places.len() as u32 - 1, places.len() as u32),
                    });
                }
            }
        }
        let automaton = CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build_with_values(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (n.text.as_str(), i as u32)),
            )
            .map_err(|e| BuildErrorKind::Automaton {
                message: e.to_string(),
            })?;
        Ok(Gazetteer {
            automaton,
            names,
            places,
        })
    }

    /// The place names in `text`, leftmost-longest, without overlaps. In free
    /// text (`is_address == false`) short bare names are not trusted.
    pub(crate) fn tokens(&self, text: &str, is_address: bool) -> SmallVec<[Token; 6]> {
        self.automaton
            .leftmost_find_iter(text)
            .filter(|m| is_address || !self.names[m.value() as usize].short_bare)
            .map(|m| Token { name: m.value() })
            .collect()
    }

    /// The places a token's name stands for.
    pub(crate) fn places(&self, token: &Token) -> &[Place] {
        let (a, b) = self.names[token.name as usize].places;
        &self.places[a as usize..b as usize]
    }

    /// The name's text.
    pub(crate) fn name(&self, name: u32) -> &str {
        &self.names[name as usize].text
    }

    pub(crate) fn name_count(&self) -> usize {
        self.names.len()
    }
}

impl std::fmt::Debug for Gazetteer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gazetteer")
            .field("names", &self.names.len())
            .field("places", &self.places.len())
            .finish_non_exhaustive()
    }
}

fn strip_any<'a>(name: &'a str, suffixes: &[&str]) -> Option<&'a str> {
    suffixes.iter().find_map(|s| name.strip_suffix(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::config::JurisdictionsConfig;

    fn gazetteer() -> (Jurisdictions, Gazetteer) {
        let j = Jurisdictions::new(
            &JurisdictionsConfig::from_csv(
                "code,name\n1,朝阳区\n2,东城区\n",
                "code,name,district_code\n11,呼家楼街道,1\n12,南磨房地区,1\n21,朝阳门街道,2\n",
                "code,name,street_code\n111,东大桥社区居委会,11\n112,太平庄村委会,12\n211,太平庄社区居委会,21\n212,东村村委会,21\n",
            )
            .unwrap(),
        )
        .unwrap();
        let g = Gazetteer::new(&j).unwrap();
        (j, g)
    }

    fn read(text: &str) -> Vec<(String, usize)> {
        let (_, g) = gazetteer();
        g.tokens(text, true)
            .iter()
            .map(|t| (g.name(t.name).to_string(), g.places(t).len()))
            .collect()
    }

    #[test]
    fn full_and_bare_names() {
        assert_eq!(
            read("朝阳区呼家楼街道东大桥社区3号楼"),
            vec![
                ("朝阳区".into(), 1),
                ("呼家楼街道".into(), 1),
                ("东大桥社区".into(), 1)
            ]
        );
        assert_eq!(
            read("呼家楼东大桥"),
            vec![("呼家楼".into(), 1), ("东大桥".into(), 1)]
        );
    }

    #[test]
    fn longest_name_wins() {
        // 朝阳门 is a street, not 朝阳 + 门.
        assert_eq!(read("朝阳门内大街"), vec![("朝阳门".into(), 1)]);
    }

    #[test]
    fn repeated_names_carry_every_place() {
        assert_eq!(read("太平庄"), vec![("太平庄".into(), 2)]);
        assert_eq!(read("太平庄村"), vec![("太平庄村".into(), 1)]);
    }

    #[test]
    fn area_offices_answer_to_street() {
        assert_eq!(read("南磨房街道"), vec![("南磨房街道".into(), 1)]);
    }

    #[test]
    fn a_street_name_is_read_as_the_street() {
        // 呼家楼 is a street here; add a village of that name elsewhere and
        // the bare spelling still means the street, the suffixed one the village.
        let j = Jurisdictions::new(
            &JurisdictionsConfig::from_csv(
                "code,name\n1,朝阳区\n",
                "code,name,district_code\n11,呼家楼街道,1\n12,南磨房地区,1\n",
                "code,name,street_code\n121,呼家楼村委会,12\n",
            )
            .unwrap(),
        )
        .unwrap();
        let g = Gazetteer::new(&j).unwrap();
        let t = g.tokens("呼家楼", true);
        assert_eq!(g.places(&t[0]), &[Place::Street(StreetId(0))]);
        let t = g.tokens("呼家楼村", true);
        assert_eq!(g.places(&t[0]), &[Place::Community(CommunityId(0))]);
    }

    #[test]
    fn an_official_name_beats_another_place_s_short_form() {
        let j = Jurisdictions::new(
            &JurisdictionsConfig::from_csv(
                "code,name\n1,丰台区\n",
                "code,name,district_code\n11,大红门街道,1\n",
                "code,name,street_code\n111,时村社区,11\n112,时村,11\n",
            )
            .unwrap(),
        )
        .unwrap();
        let g = Gazetteer::new(&j).unwrap();
        let t = g.tokens("时村", true);
        assert_eq!(g.places(&t[0]), &[Place::Community(CommunityId(1))]);
        let t = g.tokens("时村社区", true);
        assert_eq!(g.places(&t[0]), &[Place::Community(CommunityId(0))]);
    }

    #[test]
    fn village_named_with_cun() {
        assert_eq!(read("东村"), vec![("东村".into(), 1)]);
    }

    #[test]
    fn short_bare_names_need_an_address() {
        let (_, g) = gazetteer();
        assert_eq!(
            g.tokens("东村", false).len(),
            1,
            "not bare: 东村 is its own name"
        );
        assert_eq!(g.tokens("朝阳", true).len(), 1);
        assert_eq!(g.tokens("朝阳", false).len(), 0);
    }
}
