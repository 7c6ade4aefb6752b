//! The generator's unit tests: reproducibility, volume, rhythm, shares,
//! the cold snap, routing and the enterprise line.

use super::*;
use crate::{DistrictId, Language, LanguageService};
use std::sync::OnceLock;

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(Router::beijing)
}

fn tickets(day: Day<'_>) -> impl Iterator<Item = Ticket> + '_ {
    day.filter_map(Generated::into_ticket)
}

#[test]
fn reproducible() {
    let a = WorkloadBuilder::new(42).build(router());
    let b = WorkloadBuilder::new(42).build(router());
    let c = WorkloadBuilder::new(43).build(router());
    let first = |w: &Workload| w.day(2).take(1_000).collect::<Vec<_>>();
    assert_eq!(first(&a), first(&b));
    assert_ne!(first(&a), first(&c));
    // Days are independent of each other and of the order they are made in.
    let later: Vec<_> = a.day(9).take(50).collect();
    let _ = a.day(8).take(50).count();
    assert_eq!(later, b.day(9).take(50).collect::<Vec<_>>());
    assert_ne!(later, a.day(10).take(50).collect::<Vec<_>>());
}

#[test]
fn ids_unique_and_times_sorted() {
    let w = WorkloadBuilder::new(1).per_day(5_000).build(router());
    let mut ids = std::collections::HashSet::new();
    let mut last = Timestamp::MIN;
    let day = w.day(0);
    let start: Timestamp = "2024-01-01T00:00:00+08:00".parse().unwrap();
    let end: Timestamp = "2024-01-02T00:00:00+08:00".parse().unwrap();
    for t in tickets(day) {
        assert!(ids.insert(t.id.clone()), "duplicate {}", t.id);
        let at = t.received_at.expect("generated tickets carry their time");
        assert!(at >= last && at >= start && at < end);
        last = at;
    }
}

#[test]
fn volume_follows_the_week() {
    let w = WorkloadBuilder::new(5).build(router());
    // 2024-01-01 is a Monday.
    let factors = [1.1, 1.0, 1.0, 1.0, 1.0, 0.8, 0.8];
    for n in 0..14 {
        let day = w.day(n);
        let expect = 70_000.0 * factors[n as usize % 7];
        let got = day.len() as f64;
        assert!(
            (got / expect - 1.0).abs() < 0.10,
            "day {n}: {got} vs {expect}"
        );
    }
    let small = WorkloadBuilder::new(5).per_day(3_000).build(router());
    assert_eq!(small.day(1).count(), small.day(1).len());
}

#[test]
fn daily_rhythm() {
    let w = WorkloadBuilder::new(9).per_day(10_000).build(router());
    let mut by_hour = [0u32; 24];
    for t in tickets(w.day(1)) {
        let at = t.received_at.expect("generated tickets carry their time");
        let h = at.to_zoned(router().time_zone().clone()).hour();
        by_hour[h as usize] += 1;
    }
    assert!(by_hour[3] * 5 < by_hour[10], "{by_hour:?}");
    assert!(by_hour[3] * 5 < by_hour[20], "{by_hour:?}");
    assert!(
        by_hour[10] > by_hour[15] && by_hour[20] > by_hour[16],
        "{by_hour:?}"
    );
}

#[test]
fn shares() {
    let w = WorkloadBuilder::new(11).per_day(20_000).build(router());
    let (mut all, mut malformed, mut coords, mut address_only, mut both, mut foreign) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    let (mut gcj, mut bd) = (0u32, 0u32);
    for g in w.day(1) {
        all += 1;
        let t = match g {
            Generated::Ticket(t) => t,
            Generated::Malformed(line) => {
                malformed += 1;
                assert!(serde_json::from_str::<Ticket>(&line).is_err(), "{line}");
                continue;
            }
        };
        if let Some(c) = t.coordinates.filter(|c| c.is_valid()) {
            coords += 1;
            gcj += u32::from(c.crs == Crs::Gcj02);
            bd += u32::from(c.crs == Crs::Bd09);
            both += u32::from(t.address.is_some());
        } else if t.address.is_some() {
            address_only += 1;
        }
        if !t.text.trim().is_empty()
            && Language::detect(&t.text).service() != LanguageService::Native
        {
            foreign += 1;
        }
    }
    let share = |n: u32| f64::from(n) / f64::from(all);
    let near = |n: u32, x: f64, tol: f64| (share(n) - x).abs() < tol;
    assert!(near(coords, 0.60, 0.02), "coordinates {}", share(coords));
    assert!(
        near(address_only, 0.40, 0.02),
        "address only {}",
        share(address_only)
    );
    assert!(near(both, 0.10, 0.01), "both {}", share(both));
    assert!(near(foreign, 0.02, 0.005), "foreign {}", share(foreign));
    assert!(
        near(malformed, 0.005, 0.002),
        "malformed {}",
        share(malformed)
    );
    let gcj_share = f64::from(gcj) / f64::from(coords);
    let bd_share = f64::from(bd) / f64::from(coords);
    assert!((gcj_share - 0.7).abs() < 0.03 && (bd_share - 0.2).abs() < 0.03);
}

fn heating(w: &Workload, n: u32) -> usize {
    tickets(w.day(n))
        .filter(|t| {
            router()
                .route(t)
                .is_ok_and(|d| d.category().code() == "heating")
        })
        .count()
}

#[test]
fn cold_snap_multiplies_heating() {
    let date: Date = "2024-03-06".parse().unwrap();
    let plain = WorkloadBuilder::new(3).per_day(2_000).build(router());
    let cold = WorkloadBuilder::new(3)
        .per_day(2_000)
        .cold_snap(date)
        .build(router());
    // Day 65 is 2024-03-06, a Wednesday; day 58 the Wednesday before.
    assert_eq!(cold.day(65).date(), date);
    let snap = heating(&cold, 65);
    assert!(snap >= 10 * heating(&plain, 65), "{snap}");
    assert!(snap >= 10 * heating(&cold, 58), "{snap}");
    // Summer: heating is rare.
    let (summer, winter) = (heating(&plain, 190), heating(&plain, 58));
    assert!(summer * 10 < winter, "{summer} vs {winter}");
}

#[test]
fn tickets_route_and_land_in_their_district() {
    let w = WorkloadBuilder::new(17).per_day(5_000).build(router());
    let j = router().jurisdictions();
    let (mut valid, mut routed, mut with_coords, mut landed, mut named) = (0, 0, 0, 0, 0);
    let mut categories = std::collections::HashSet::new();
    for t in tickets(w.day(0)) {
        valid += 1;
        let Ok(d) = router().route(&t) else { continue };
        routed += 1;
        categories.insert(d.category().code().to_string());
        if let Some(c) = t.coordinates {
            with_coords += 1;
            let (lon, lat) = c.to_wgs84();
            let at = router().locator().district_at(lon, lat);
            // Where the address alone puts the ticket: the district the
            // ticket was generated for.
            let by_address = t.address.as_ref().and_then(|_| {
                let mut a = t.clone();
                a.coordinates = None;
                router().route(&a).ok()?.district_code().map(str::to_string)
            });
            match (at, by_address) {
                (Some(at), Some(code)) => {
                    named += 1;
                    if j.district(at).code() == code {
                        landed += 1;
                    } else {
                        eprintln!("{t:?} at {}", j.district(at).name());
                    }
                }
                (Some(_), None) => landed += 1,
                (None, _) => eprintln!("outside: {t:?}"),
            }
        }
    }
    assert!(routed * 100 >= valid * 95, "{routed} of {valid}");
    assert!(landed == with_coords, "{landed} of {with_coords}");
    assert!(named > 0);
    assert!(categories.len() >= 20, "{categories:?}");
}

#[test]
fn coordinates_land_in_the_generating_district() {
    let w = WorkloadBuilder::new(23).build(router());
    let mut rng = SplitMix64::new(1);
    for d in 0..w.districts.len() {
        for crs in [Crs::Wgs84, Crs::Gcj02, Crs::Bd09] {
            for _ in 0..50 {
                let (x, y) = point_in(&w, d, crs, &mut rng);
                let (lon, lat) = crs.to_wgs84(x, y);
                let at = router().locator().district_at(lon, lat);
                assert_eq!(at.map(DistrictId::as_usize), Some(d), "{crs:?} {x},{y}");
            }
        }
    }
}

#[test]
fn phrasings_classify_as_written() {
    let c = router().classifier();
    let mut wrong = Vec::new();
    let lines = KINDS
        .iter()
        .map(|k| (k.code, k.phrases, Channel::Phone))
        .chain(
            enterprise::KINDS
                .iter()
                .map(|k| (k.code, k.phrases, Channel::Enterprise)),
        );
    for (code, phrases, channel) in lines {
        for p in phrases {
            let got = router()
                .category(c.classify_on(p, channel).primary())
                .code();
            if got != code {
                wrong.push(format!("{p}: {got} (for {code})"));
            }
        }
    }
    // One known overlap: 高新技术企业认定 reads as enterprise.policy.
    assert!(wrong.len() <= 1, "{wrong:#?}");
    for f in FOREIGN {
        let lang = Language::detect(f.text);
        assert_ne!(lang.service(), LanguageService::Native, "{}", f.text);
    }
}

#[test]
fn building_scans_change_only_themselves() {
    // The same workload over a router without a registry: no scans.
    let mut config = crate::RouterConfig::beijing();
    config.jurisdictions.buildings = crate::BuildingsConfig::default();
    let bare = Router::builder().without_model().build(config).unwrap();
    let with = WorkloadBuilder::new(29).per_day(20_000).build(router());
    let without = WorkloadBuilder::new(29).per_day(20_000).build(&bare);
    let (mut scans, mut qr) = (0u32, 0u32);
    let registry = router().buildings();
    for (a, b) in with.day(4).zip(without.day(4)) {
        let (Generated::Ticket(a), Generated::Ticket(b)) = (&a, &b) else {
            assert_eq!(a, b);
            continue;
        };
        assert_eq!(b.building, None);
        qr += u32::from(b.channel == Channel::Qr);
        let Some(code) = &a.building else {
            assert_eq!(a, b);
            continue;
        };
        scans += 1;
        // The same item but for its text, its point and its code.
        assert_eq!(
            (&a.id, a.channel, a.received_at),
            (&b.id, b.channel, b.received_at)
        );
        assert_eq!(
            (b.channel, &b.address, a.coordinates.map(|c| c.crs)),
            (Channel::Qr, &None, b.coordinates.map(|c| c.crs))
        );
        let building = registry.get(code).expect("a code of the registry");
        let (lon, lat) = a.coordinates.unwrap().to_wgs84();
        let metres = ((lon - building.lon()) * 85_000.0).hypot((lat - building.lat()) * 111_000.0);
        assert!(metres < 30.0, "{metres} m from {code}");
        let d = router().route(a).unwrap();
        assert_eq!(d.building_code(), Some(code.as_str()));
    }
    // 3% of the QR tickets (7.5% of all): about 45 of 20,000.
    let share = f64::from(scans) / f64::from(qr);
    assert!(
        (0.015..0.045).contains(&share),
        "{scans} scans of {qr} QR tickets"
    );
}

#[test]
fn building_phrasings_route_as_written() {
    // With the model, and every opening and ending the generator may add.
    let mut wrong = Vec::new();
    for k in qr::KINDS {
        for p in k.phrases {
            for (o, e) in OPENINGS
                .iter()
                .flat_map(|o| ENDINGS.iter().map(move |e| (o, e)))
            {
                let t = Ticket::new("T", format!("{o}{p}{e}"));
                let d = router().route(&t).unwrap();
                let got = d.category().code();
                if got != k.code {
                    wrong.push(format!("{o}{p}{e}: {got} (for {})", k.code));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_enterprise_line_works_on_working_days() {
    let w = WorkloadBuilder::new(29).build(router());
    let line = |n: u32| -> Vec<Ticket> {
        tickets(w.day(n))
            .filter(|t| t.channel == Channel::Enterprise)
            .collect()
    };
    // 2024-01-02, a Tuesday: about 1,000 beside 70,000.
    let tuesday = line(1);
    assert!((950..=1_050).contains(&tuesday.len()), "{}", tuesday.len());
    // New Year's Day and a Saturday: a twentieth of that.
    for n in [0, 5] {
        let off = line(n).len();
        assert!((40..=60).contains(&off), "day {n}: {off}");
    }
    let tz = router().time_zone().clone();
    let mut codes = std::collections::HashMap::<String, usize>::new();
    for t in &tuesday {
        assert!(t.id.starts_with("D0001-E"), "{}", t.id);
        assert!(t.coordinates.is_none() && t.address.is_some());
        let hour = t.received_at.unwrap().to_zoned(tz.clone()).hour();
        assert!(hour >= 6, "{} at {hour}", t.id);
        let d = router().route(t).unwrap();
        *codes.entry(d.category().code().to_string()).or_default() += 1;
    }
    let line_own = codes
        .iter()
        .filter(|(c, _)| c.starts_with("enterprise."))
        .map(|(_, n)| n)
        .sum::<usize>();
    // About 96% of the line's mix is its own categories, the rest
    // companies' ordinary problems.
    assert!(line_own * 100 >= tuesday.len() * 93, "{codes:?}");
    assert!(codes.len() >= 10, "{codes:?}");
}

#[test]
fn the_line_leaves_the_other_tickets_as_they_were() {
    let w = WorkloadBuilder::new(31).per_day(3_000).build(router());
    let mut without = w.day(3);
    without.line_len = 0;
    let alone: Vec<Generated> = without.collect();
    let with = w.day(3);
    assert_eq!(with.len(), alone.len() + w.day(3).line_len);
    let merged: Vec<Generated> = with
        .filter(|g| !matches!(g, Generated::Ticket(t) if t.channel == Channel::Enterprise))
        .collect();
    assert_eq!(merged, alone);
    assert!(alone.len() > 2_500);
}

/// Throughput, in a release build:
/// `cargo test --release --lib workload -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release"]
fn generation_speed() {
    let started = std::time::Instant::now();
    let w = WorkloadBuilder::new(1)
        .cold_snap("2024-01-03".parse().unwrap())
        .build(router());
    let built = started.elapsed();
    let started = std::time::Instant::now();
    let mut n = 0usize;
    let mut bytes = 0usize;
    for d in 0..7 {
        for g in w.day(d) {
            n += 1;
            if let Generated::Ticket(t) = g {
                bytes += t.text.len();
            }
        }
    }
    let s = started.elapsed().as_secs_f64();
    let heat = |n| heating(&w, n);
    eprintln!(
        "built in {built:?}; {n} items in {s:.3} s: {:.0} tickets/s ({bytes} text bytes); heating day 2 {} (cold snap) vs day 9 {} vs day 190 {}",
        n as f64 / s,
        heat(2),
        heat(9),
        heat(190)
    );
}
