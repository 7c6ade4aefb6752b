//! First-level domains: the fifteen headings Chinese government
//! message-handling platforms file every demand under, plus `other`.

use serde::{Deserialize, Serialize};

/// The first-level domain a category belongs to.
///
/// The codes are a public contract (they appear in the `domain` field of
/// the `examples/route` output line and in taxonomy files). The scheme is
/// the one Chinese provincial message boards use; some placements follow it
/// rather than intuition: buses, metro, heating, parks and the housing
/// provident fund are [`UrbanRural`](Domain::UrbanRural); medical insurance
/// is [`LabourSocial`](Domain::LabourSocial); elevator safety inspection
/// and product quality are [`CommerceTourism`](Domain::CommerceTourism);
/// household registration, traffic violations and fire safety are
/// [`PoliticsLaw`](Domain::PoliticsLaw).
///
/// # Examples
///
/// ```
/// use hotline_router::Domain;
///
/// assert_eq!(Domain::from_code("labour_social"), Some(Domain::LabourSocial));
/// assert_eq!(Domain::LabourSocial.name(), "劳动和社会保障");
/// assert_eq!(serde_json::to_string(&Domain::ScienceIt).unwrap(), r#""science_it""#);
/// assert_eq!(Domain::ALL.len(), 16);
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// 城乡建设: housing, property, municipal services, planning, construction.
    UrbanRural,
    /// 环境保护: pollution, noise, environmental enforcement.
    Environment,
    /// 交通运输: taxis, roads, passenger and freight transport, post.
    Transport,
    /// 教育文体: schools, teachers, exams, culture, sport.
    EducationCulture,
    /// 劳动和社会保障: wages, labour relations, employment, social insurance.
    LabourSocial,
    /// 商贸旅游: consumers, market regulation, quality, tourism.
    CommerceTourism,
    /// 卫生计生: medical services, public health, food and drug safety.
    Health,
    /// 国土资源: land expropriation, land management, mining.
    Land,
    /// 经济管理: business policy, finance, taxes, state enterprises.
    Economy,
    /// 科技与信息产业: telecoms, science and technology, intellectual property.
    ScienceIt,
    /// 民政: social assistance, elderly care, veterans, marriage, funerals.
    CivilAffairs,
    /// 农村农业: rural land, farm subsidies, village affairs, farming.
    Agriculture,
    /// 政法: household registration, public order, traffic management, justice.
    PoliticsLaw,
    /// 党务政务: government services, party building, mass organisations.
    PartyGovernment,
    /// 纪检监察: corruption, abuse of power, work style.
    Discipline,
    /// 其他: anything else.
    #[default]
    Other,
}

impl Domain {
    /// Every domain, in the order above.
    pub const ALL: [Domain; 16] = [
        Domain::UrbanRural,
        Domain::Environment,
        Domain::Transport,
        Domain::EducationCulture,
        Domain::LabourSocial,
        Domain::CommerceTourism,
        Domain::Health,
        Domain::Land,
        Domain::Economy,
        Domain::ScienceIt,
        Domain::CivilAffairs,
        Domain::Agriculture,
        Domain::PoliticsLaw,
        Domain::PartyGovernment,
        Domain::Discipline,
        Domain::Other,
    ];

    /// The stable code, e.g. `urban_rural`.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// The Chinese name, e.g. `城乡建设`.
    pub fn name(self) -> &'static str {
        self.info().1
    }

    /// The domain with this code.
    pub fn from_code(code: &str) -> Option<Domain> {
        Domain::ALL.into_iter().find(|d| d.code() == code)
    }

    fn info(self) -> (&'static str, &'static str) {
        match self {
            Domain::UrbanRural => ("urban_rural", "城乡建设"),
            Domain::Environment => ("environment", "环境保护"),
            Domain::Transport => ("transport", "交通运输"),
            Domain::EducationCulture => ("education_culture", "教育文体"),
            Domain::LabourSocial => ("labour_social", "劳动和社会保障"),
            Domain::CommerceTourism => ("commerce_tourism", "商贸旅游"),
            Domain::Health => ("health", "卫生计生"),
            Domain::Land => ("land", "国土资源"),
            Domain::Economy => ("economy", "经济管理"),
            Domain::ScienceIt => ("science_it", "科技与信息产业"),
            Domain::CivilAffairs => ("civil_affairs", "民政"),
            Domain::Agriculture => ("agriculture", "农村农业"),
            Domain::PoliticsLaw => ("politics_law", "政法"),
            Domain::PartyGovernment => ("party_government", "党务政务"),
            Domain::Discipline => ("discipline", "纪检监察"),
            Domain::Other => ("other", "其他"),
        }
    }
}

impl std::fmt::Display for Domain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_serde_and_from_code() {
        for d in Domain::ALL {
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, format!("\"{}\"", d.code()));
            assert_eq!(serde_json::from_str::<Domain>(&json).unwrap(), d);
            assert_eq!(Domain::from_code(d.code()), Some(d));
        }
        assert_eq!(Domain::from_code("nope"), None);
    }
}
