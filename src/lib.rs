//! hotline-router routes citizen-hotline tickets the way Beijing's 12345
//! hotline (接诉即办) does: it reads what a caller said, finds where it
//! happened and who must handle it, and explains why.
//!
//! # Overview
//!
//! The modules follow the pipeline a ticket takes:
//!
//! * [`ticket`] — a [`Ticket`]: the caller's words, coordinates in WGS-84,
//!   GCJ-02 or BD-09, an address, the channel and the time.
//! * [`classify`] — a [`Classifier`] compiles the whole taxonomy into one
//!   keyword automaton: a primary category, secondary ones, urgency, and the
//!   [`Language`] with the service it needs (native, seat or interpreter).
//!   Every category belongs to a first-level [`Domain`]. A [`Model`]
//!   trained from labelled history ([`classify::model::Trainer`]) reads the
//!   [normalised](classify::normalize) text beside the keywords.
//! * [`locate`] — a [`Locator`] finds the district by exact point-in-polygon
//!   over a prebuilt grid index ([`PolygonIndex`]) and the street and
//!   community from a gazetteer of names; clues vote, ties are never guessed.
//!   A ticket carrying a building code (一楼一码) is located exactly by the
//!   [`Buildings`] registry.
//! * [`rules`] — a [`RuleSet`] compiles category × jurisdiction → agency,
//!   co-handlers, priority and SLA into a dense table, checked at build.
//! * [`router`] — a [`Router`] ties them together: `route(&ticket)` returns
//!   a [`Decision`] that can explain itself.
//! * [`dispatch`] (feature `dispatch`) — a [`Dispatcher`](dispatch::Dispatcher) runs the
//!   lifecycle concurrently: per-agency work lists, claims with leases,
//!   returns (退单), reassignment, escalation of overdue tickets on the
//!   working-day [`Calendar`], hot reload of the router, and every event to
//!   an observer.
//! * [`journal`] (feature `journal`) — a write-ahead [`Journal`](journal::Journal) of opaque
//!   byte records: group commit, segments, snapshots, torn-tail recovery.
//! * [`evaluate`] (feature `dispatch`) — the 三率 per agency, street or district, and the monthly
//!   ranking, computed from the lifecycle records.
//!
//! Everything is built once from plain data ([`RouterConfig`]) and then
//! immutable: configuration errors are [`BuildError`]s at build time, and
//! routing a ticket either succeeds or returns a [`TicketError`].
//!
//! # Example: route a ticket with the embedded Beijing data
//!
//! ```
//! use hotline_router::{Crs, Router, Ticket};
//!
//! let router = Router::beijing();
//! let ticket = Ticket::new("2024-000123", "楼下饭店油烟太大，窗户都不敢开")
//!     .with_address("海淀区学院路街道");
//! let decision = router.route(&ticket)?;
//! assert_eq!(decision.category().code(), "env.pollution");
//! assert_eq!(decision.agency_code(), "district:110108:ecology");
//! # Ok::<(), hotline_router::TicketError>(())
//! ```
//!
//! # Example: ambiguous names are not guessed
//!
//! 太平庄 is a community name in five districts, twice in 昌平区. With the
//! district named, the ticket goes to 昌平区 — but not to a street.
//!
//! ```
//! use hotline_router::{Router, Ticket};
//!
//! let router = Router::beijing();
//! let t = Ticket::new("T1", "小区里垃圾没人清理").with_address("昌平区太平庄");
//! let d = router.route(&t).unwrap();
//! assert_eq!(d.district_code(), Some("110114"));
//! assert_eq!(d.street_code(), None);
//! assert_eq!(d.agency_code(), "district:110114:gov");
//! assert!(d.explain().iter().any(|r| r.contains("not guessed")));
//! ```
//!
//! # Example: change a rule and compare
//!
//! ```
//! use hotline_router::{Router, RouterConfig, RuleConfig, Ticket};
//!
//! let mut config = RouterConfig::beijing();
//! config.routing.rules.push(RuleConfig {
//!     categories: vec!["env.noise".into()],
//!     district: Some("110105".into()),
//!     agency: Some("district:ecology".into()),
//!     note: Some("pilot: noise in 朝阳区 to the ecology bureau".into()),
//!     ..RuleConfig::default()
//! });
//! let pilot = Router::from_config(config)?;
//! let t = Ticket::new("T2", "楼上装修噪音太大").with_address("朝阳区呼家楼街道");
//! assert_eq!(Router::beijing().route(&t).unwrap().agency_code(), "street:110105003");
//! assert_eq!(pilot.route(&t).unwrap().agency_code(), "district:110105:ecology");
//! # Ok::<(), hotline_router::BuildError>(())
//! ```
//!
//! # Cargo features
//!
//! The default is what an embedder running a hotline needs; routing alone
//! is `default-features = false`. Each item that needs a feature says so in
//! the documentation.
//!
//! | feature | default | what it adds | dependencies |
//! |---|---|---|---|
//! | (none) | — | [`router`], [`classify`] (with model training), [`locate`], [`rules`], [`ticket`], [`jsonl`], [`incident`]'s index, [`analytics::spikes`] | — |
//! | `dispatch` | yes | the `dispatch` runtime (work lists, leases, escalation), `evaluate` (三率), the record-fed parts of `analytics` (`Month`, `topics`, `governance`), the incident index as a dispatcher's linker | dashmap, crossbeam-skiplist, arc-swap |
//! | `journal` | yes | the write-ahead `journal` with snapshots, and the dispatcher on it (`DispatcherBuilder::open_journal`); implies `dispatch` | crc32fast |
//! | `replay` | yes | `replay` (counts, what-if) and parallel model training, restore and snapshot decoding; without it those run sequentially, with the same results | rayon |
//! | `workload` | no | `workload`: a generator of synthetic Beijing tickets | — |
//! | `report` | no | `report`: the monthly HTML report with SVG charts; implies `dispatch` | plotters |
//! | `cli` | no | the `hotline` binary; implies all of the above | clap, qrcode |
//! | `full` | no | all of the above: everything without a network service | |
//! | `server` | no | the `server` module, the HTTP service behind `hotline serve` — Open311 GeoReport v2 intake, a worker API with per-agency tokens, Server-Sent Events and a live dashboard; implies `cli` | tokio, axum, tower-http, governor, quick-xml |
//! | `postgres` | no | the `store::postgres` module, PostgreSQL as the dispatcher's event store, with a standby that takes over; implies `journal` (its rows are the journal's records) | postgres |
//!
//! # Caveats
//!
//! * The embedded district polygons are simplified (boundaries right to a few
//!   hundred metres); there are no street polygons, so coordinates alone give
//!   a district, and streets come from names.
//! * Classification is only as good as the taxonomy and the model's
//!   training data. The default model is trained on messages written for this
//!   crate (`data/corpus/`), not on a city's real history: train one on
//!   yours (`hotline train`) for the best results. Both are tested against
//!   hand-written sets kept out of training (`tests/data/`).
//!
//! # Example: a model trained on your own labelled history
//!
//! ```
//! use hotline_router::classify::model::Trainer;
//! use hotline_router::{Router, RouterConfig, Ticket};
//!
//! let history = [
//!     ("老板拖欠工资三个月了", "labor.wages"),
//!     ("包工头跑了，工钱没结", "labor.wages"),
//!     ("单位一直拖着工资不发", "labor.wages"),
//!     ("社保局说我的养老金算错了", "social.insurance"),
//!     ("退休手续在社保局办不下来", "social.insurance"),
//!     ("养老保险断缴了怎么补", "social.insurance"),
//! ];
//! let model = Trainer::new().train(history)?;
//! let router = Router::builder().model(model).build(RouterConfig::beijing())?;
//! let d = router.route(&Ticket::new("T3", "社保局的人让我跑了好几趟")).unwrap();
//! assert_eq!(d.category().code(), "social.insurance");
//! assert!(d.confidence().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
// With a feature off, links to the items behind it cannot resolve (the
// text stays). The all-features doc build (CI, docs.rs) has every item and
// checks every link.
#![cfg_attr(
    not(all(
        feature = "dispatch",
        feature = "journal",
        feature = "replay",
        feature = "workload",
        feature = "report"
    )),
    allow(rustdoc::broken_intra_doc_links)
)]
// docs.rs builds with every feature and `--cfg docsrs`: each item then
// says which feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod analytics;
pub mod calendar;
pub mod classify;
pub mod config;
mod crs;
#[cfg(feature = "dispatch")]
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
pub mod dispatch;
pub mod error;
#[cfg(feature = "dispatch")]
#[cfg_attr(docsrs, doc(cfg(feature = "dispatch")))]
pub mod evaluate;
mod hash;
pub mod incident;
#[cfg(feature = "journal")]
#[cfg_attr(docsrs, doc(cfg(feature = "journal")))]
pub mod journal;
pub mod jsonl;
pub mod locate;
mod par;
mod priority;
#[cfg(feature = "replay")]
#[cfg_attr(docsrs, doc(cfg(feature = "replay")))]
pub mod replay;
#[cfg(feature = "report")]
#[cfg_attr(docsrs, doc(cfg(feature = "report")))]
pub mod report;
mod rng;
pub mod router;
pub mod rules;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod store;
pub mod ticket;
#[cfg(feature = "workload")]
#[cfg_attr(docsrs, doc(cfg(feature = "workload")))]
pub mod workload;

/// The date and time library of the public API ([`Timestamp`](jiff::Timestamp)
/// for received times and deadlines, [`TimeZone`](jiff::tz::TimeZone) for the
/// router's zone), re-exported so an embedder uses the same version.
pub use jiff;

pub use calendar::Calendar;
pub use classify::language::{Language, LanguageService};
pub use classify::model::Model;
pub use classify::{Category, CategoryId, Classification, Classifier, Domain, KeywordId};
pub use config::{
    BuildingConfig, BuildingsConfig, CategoryConfig, CommunityConfig, DistrictConfig,
    HandlerConfig, JurisdictionsConfig, RouterConfig, RoutingConfig, RuleConfig, Sla, StreetConfig,
    TaxonomyConfig, UrgencyConfig,
};
pub use error::{BuildError, BuildErrorKind, BuildingProblem, ParseSource, TicketError};
pub use locate::buildings::{Building, BuildingId, Buildings};
pub use locate::jurisdictions::{
    Community, CommunityId, District, DistrictId, Jurisdictions, Street, StreetId,
};
pub use locate::polygon_index::PolygonIndex;
pub use locate::{LocatedBy, Location, LocationNote, Locator, Polygon, Region};
pub use router::{ClassifiedBy, Decision, DecisionRecord, Router, RouterBuilder};
pub use rules::{Agency, AgencyId, Assignment, Fallback, Priority, RuleSet, RuleSource};
pub use ticket::{Channel, Coordinates, Crs, Ticket};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn shared_types_are_send_and_sync() {
        assert_send_sync::<Router>();
        assert_send_sync::<Decision>();
        assert_send_sync::<BuildError>();
        assert_send_sync::<TicketError>();
        assert_send_sync::<Ticket>();
        #[cfg(feature = "dispatch")]
        assert_send_sync::<dispatch::Dispatcher>();
        #[cfg(feature = "dispatch")]
        assert_send_sync::<dispatch::SubmitError>();
        #[cfg(feature = "dispatch")]
        assert_send_sync::<dispatch::OpError>();
    }
}

/// The README's Rust examples, compiled and run as doctests (they use the
/// dispatcher and its journal).
#[doc = include_str!("../README.md")]
#[cfg(all(doctest, feature = "dispatch", feature = "journal"))]
pub struct ReadmeDoctests;
