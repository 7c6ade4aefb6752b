//! A seeded, reproducible workload: tickets that look like a day at the
//! Beijing 12345 hotline, for benches, load tests and JSON Lines replays.
//!
//! A [`WorkloadBuilder`] takes a seed and a few knobs; [`build`] reads the
//! names and district areas from a [`Router`] once and returns a
//! [`Workload`]. [`Workload::day`] then gives the `n`-th day as a lazy
//! iterator ([`Day`]) of [`Generated`] items, in order of arrival:
//!
//! * **Volume:** `per_day` × a weekly factor (Monday 1.1, Tuesday–Friday
//!   1.0, weekends 0.8) × ±3% noise; a cold-snap day adds its extra heating
//!   tickets on top.
//! * **Time of day:** a daily rhythm in China time — few calls at night,
//!   peaks around 9–11 and 19–21.
//! * **Categories:** a long-tailed mix (noise, sanitation, parking and
//!   property common; visas rare); heating dominates from November to March,
//!   and is ×20 on the [cold snap](WorkloadBuilder::cold_snap) day.
//! * **Districts** by 2020 census population; the street and community
//!   uniformly within the district, with their real names.
//! * **Location:** 60% with coordinates (70% GCJ-02, 20% BD-09, 10% WGS-84),
//!   sampled inside the district's polygon; 40% with an address only; 10%
//!   of all tickets have both.
//! * **Languages:** 2% foreign (mostly English; French, German, Russian,
//!   Spanish, Japanese, Korean, Arabic; a few Portuguese and Italian) about
//!   visas, residence, lost property and general complaints.
//! * **一楼一码:** 3% of the QR-channel tickets (about 0.2% of all) scan
//!   a building of the router's registry: they carry its code, a problem of
//!   that building and a position a few metres from it. The choice comes
//!   from a stream of its own, so the other items do not change.
//! * **Bad input:** 0.5% unroutable tickets (no text and no address, or
//!   coordinates out of range) and 0.5% [malformed](Generated::Malformed)
//!   JSON lines.
//! * **The enterprise line:** on top, companies' demands on the
//!   [`Enterprise`](Channel::Enterprise) channel — `per_day / 70` on a
//!   working day of China's calendar (1,000 beside 70,000), a twentieth of
//!   that on other days — mostly in office hours, with the company's
//!   address: financing, permits, registration, taxes, talent, premises,
//!   policy, science-and-technology resources, and a few ordinary problems.
//!   They come from a random stream of their own, merged in by time, so the
//!   citizen lines' tickets are the same with or without them. Their ids
//!   are `D{day:04}-E{index:05}`.
//!
//! The same seed and day number always give the same items, whatever other
//! days were generated, on any platform: the generator is a SplitMix64
//! stream seeded from `(seed, day)`, with no dependency on `rand`.
//!
//! [`build`]: WorkloadBuilder::build

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

mod draw;
mod enterprise;
mod place;
mod qr;
mod tables;

pub use crate::rng::SplitMix64;
use crate::{Channel, Crs, Router, Ticket};
use draw::{kind_weight, malformed, minute_weight, Cumulative};
use place::{cell_centre, grid_size, point_in, short_community};
use tables::{Kind, ENDINGS, FOREIGN, KINDS, OPENINGS, POPULATION};

/// Configures a [`Workload`]: the seed, the volume, the first day and an
/// optional cold snap.
///
/// # Examples
///
/// ```
/// use hotline_router::workload::WorkloadBuilder;
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let w = WorkloadBuilder::new(7)
///     .per_day(1_000)
///     .start("2024-11-18".parse().unwrap())
///     .cold_snap("2024-11-20".parse().unwrap())
///     .build(&router);
/// // 2024-11-18 is a Monday: about 1.1 × 1,000 items.
/// let n = w.day(0).count();
/// assert!((1_000..1_200).contains(&n));
/// ```
#[derive(Clone, Debug)]
pub struct WorkloadBuilder {
    seed: u64,
    per_day: u32,
    start: Date,
    cold_snap: Option<Date>,
}

impl WorkloadBuilder {
    /// A builder with the given seed, 70,000 tickets a day, starting on
    /// 2024-01-01 and no cold snap.
    pub fn new(seed: u64) -> Self {
        WorkloadBuilder {
            seed,
            per_day: 70_000,
            start: jiff::civil::date(2024, 1, 1),
            cold_snap: None,
        }
    }

    /// Sets the tickets on an ordinary weekday (before the weekly factor and
    /// noise).
    pub fn per_day(mut self, per_day: u32) -> Self {
        self.per_day = per_day;
        self
    }

    /// Sets the date of day 0.
    pub fn start(mut self, start: Date) -> Self {
        self.start = start;
        self
    }

    /// Makes `date` a cold snap: heating tickets ×20 for that day.
    pub fn cold_snap(mut self, date: Date) -> Self {
        self.cold_snap = Some(date);
        self
    }

    /// Builds the workload, taking names, district areas and the time zone
    /// from `router`.
    ///
    /// Costs 37,400 point lookups (a 0.01° grid over Beijing, to find where
    /// each district is): about 30 ms in a release build (measured by the
    /// module's ignored `generation_speed` test); build it once.
    pub fn build(self, router: &Router) -> Workload {
        let j = router.jurisdictions();
        let mut districts: Vec<DistrictTable> = j
            .districts()
            .map(|(_, d)| DistrictTable {
                name: d.name().to_string(),
                streets: Vec::new(),
                cells: Vec::new(),
            })
            .collect();
        let mut street_slot = vec![(0usize, 0usize); j.streets().len()];
        for (sid, s) in j.streets() {
            let list = &mut districts[s.district().as_usize()].streets;
            street_slot[sid.as_usize()] = (s.district().as_usize(), list.len());
            list.push((s.name().to_string(), Vec::new()));
        }
        for (_, c) in j.communities() {
            let (d, s) = street_slot[c.street().as_usize()];
            districts[d].streets[s]
                .1
                .push(short_community(c.name()).to_string());
        }
        // Where each district is: the cells of a grid whose centre lies in
        // it. Points are then drawn in a random cell and checked exactly.
        let locator = router.locator();
        let (cols, rows) = grid_size();
        for row in 0..rows {
            for col in 0..cols {
                let (lon, lat) = cell_centre(col, row);
                if let Some(d) = locator.district_at(lon, lat) {
                    districts[d.as_usize()].cells.push((col, row));
                }
            }
        }
        let weights: Vec<f64> = j
            .districts()
            .map(|(_, d)| {
                // A district not in the census table (a test configuration)
                // gets a mid-sized population.
                POPULATION
                    .iter()
                    .find(|(code, _)| *code == d.code())
                    .map_or(1_000.0, |p| f64::from(p.1))
            })
            .collect();
        let minute = Cumulative::new((0..MINUTES).map(minute_weight));
        Workload {
            enterprise_minute: Cumulative::new((0..MINUTES).map(enterprise::minute_weight)),
            enterprise_kinds: Cumulative::new(
                enterprise::KINDS.iter().map(|k| f64::from(k.weight)),
            ),
            router: router.clone(),
            seed: self.seed,
            per_day: self.per_day,
            start: self.start,
            cold_snap: self.cold_snap,
            time_zone: router.time_zone().clone(),
            district_pick: Cumulative::new(weights.iter().copied()),
            districts,
            minute,
            foreign_pick: Cumulative::new(FOREIGN.iter().map(|f| f64::from(f.weight))),
        }
    }
}

/// A seeded generator of hotline days, built by [`WorkloadBuilder`].
///
/// Holds the name tables, district areas and weights taken from the router;
/// days are generated lazily from it, each independently of the others.
///
/// # Resource usage
///
/// The tables hold the community names and about 17,000 grid cells of
/// district areas; a [`Day`] holds only its position. Generation runs at about 1.3 million items a second on one
/// core in a release build (the ignored `generation_speed` test).
///
/// # Examples
///
/// ```
/// use hotline_router::workload::{Generated, WorkloadBuilder};
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let w = WorkloadBuilder::new(1).per_day(500).build(&router);
/// let first: Vec<Generated> = w.day(3).take(10).collect();
/// assert_eq!(first, w.day(3).take(10).collect::<Vec<_>>());
/// if let Generated::Ticket(t) = &first[0] {
///     assert!(t.id.starts_with("D0003-"));
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Workload {
    /// For exact point-in-district checks (cheap to clone).
    router: Router,
    seed: u64,
    per_day: u32,
    start: Date,
    cold_snap: Option<Date>,
    time_zone: TimeZone,
    districts: Vec<DistrictTable>,
    district_pick: Cumulative,
    minute: Cumulative,
    foreign_pick: Cumulative,
    enterprise_minute: Cumulative,
    enterprise_kinds: Cumulative,
}

/// Names and area of one district.
#[derive(Clone, Debug)]
struct DistrictTable {
    name: String,
    /// Streets with their communities' short names.
    streets: Vec<(String, Vec<String>)>,
    /// Grid cells `(col, row)` whose centre is in the district.
    cells: Vec<(u32, u32)>,
}

impl Workload {
    /// The `n`-th day from the start date, as a lazy iterator of its items
    /// in order of arrival.
    ///
    /// # Panics
    ///
    /// If the date is out of `jiff`'s range (after the year 9999).
    pub fn day(&self, n: u32) -> Day<'_> {
        let date = self
            .start
            .checked_add(SignedDuration::from_hours(24 * i64::from(n)))
            .expect("a date within jiff's range");
        let weekly = match date.weekday() {
            Weekday::Monday => 1.1,
            Weekday::Saturday | Weekday::Sunday => 0.8,
            _ => 1.0,
        };
        let mut rng = SplitMix64::new(self.seed ^ u64::from(n).wrapping_mul(0xD1B5_4A32_D192_ED03));
        let noise = 0.97 + 0.06 * rng.next_f64();
        let winter = matches!(date.month(), 11 | 12 | 1..=3);
        let cold = self.cold_snap == Some(date);
        let base: f64 = KINDS.iter().map(|k| kind_weight(k, winter, false)).sum();
        let with: f64 = KINDS.iter().map(|k| kind_weight(k, winter, cold)).sum();
        let len = (f64::from(self.per_day) * weekly * noise * with / base).round() as usize;
        let midnight = date
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned(self.time_zone.clone())
            .map_or(Timestamp::UNIX_EPOCH, |z| z.timestamp());
        let mut line_rng = SplitMix64::new(
            self.seed ^ u64::from(n).wrapping_mul(0xD1B5_4A32_D192_ED03) ^ enterprise::STREAM,
        );
        let working = self.router.calendar().is_working_day(date);
        let line_len = (f64::from(self.per_day)
            * enterprise::SHARE
            * if working { 1.0 } else { enterprise::DAY_OFF }
            * (0.97 + 0.06 * line_rng.next_f64()))
        .round() as usize;
        Day {
            workload: self,
            number: n,
            date,
            midnight,
            kinds: Cumulative::new(KINDS.iter().map(|k| kind_weight(k, winter, cold))),
            rng,
            next: 0,
            len,
            line_rng,
            line_next: 0,
            line_len,
            pending: None,
            line_pending: None,
        }
    }
}

/// One generated line of a workload.
///
/// # Examples
///
/// ```
/// use hotline_router::workload::Generated;
/// use hotline_router::Ticket;
///
/// let bad = Generated::Malformed(r#"{"id":"D0000-000001","te"#.into());
/// assert!(serde_json::from_str::<Ticket>(&bad.to_json_line()).is_err());
/// let good = Generated::Ticket(Ticket::new("T1", "暖气不热"));
/// assert!(serde_json::from_str::<Ticket>(&good.to_json_line()).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Generated {
    /// A ticket (a small share of them deliberately unroutable).
    Ticket(Ticket),
    /// A broken JSON line (truncated, wrong types, unknown fields or empty),
    /// as a JSON Lines replay would meet it.
    Malformed(String),
}

impl Generated {
    /// The ticket, or `None` for a malformed line.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::workload::Generated;
    ///
    /// assert!(Generated::Malformed("{\"id\":".into()).into_ticket().is_none());
    /// ```
    pub fn into_ticket(self) -> Option<Ticket> {
        match self {
            Generated::Ticket(t) => Some(t),
            Generated::Malformed(_) => None,
        }
    }

    /// The item as one JSON line (without the newline).
    pub fn to_json_line(&self) -> String {
        match self {
            Generated::Ticket(t) => serde_json::to_string(t).expect("a ticket serializes"),
            Generated::Malformed(s) => s.clone(),
        }
    }
}

/// One day of a [`Workload`]: an iterator of [`Generated`] items in order of
/// arrival, generated lazily in constant memory.
///
/// Reproducible: the same seed and day number give the same items,
/// independent of any other day. Ids are `D{day:04}-{index:06}`.
///
/// # Examples
///
/// ```
/// use hotline_router::workload::WorkloadBuilder;
/// use hotline_router::Router;
///
/// let router = Router::beijing();
/// let w = WorkloadBuilder::new(3).per_day(200).build(&router);
/// let day = w.day(5); // 2024-01-06, a Saturday
/// assert_eq!(day.date().to_string(), "2024-01-06");
/// let n = day.len();
/// assert!((150..175).contains(&n));
/// assert_eq!(day.count(), n);
/// ```
#[derive(Clone, Debug)]
pub struct Day<'w> {
    workload: &'w Workload,
    number: u32,
    date: Date,
    midnight: Timestamp,
    kinds: Cumulative,
    rng: SplitMix64,
    next: usize,
    len: usize,
    /// The enterprise line's stream: its generator, position and length.
    line_rng: SplitMix64,
    line_next: usize,
    line_len: usize,
    /// The next item of each stream, once generated, with its time.
    pending: Option<(Timestamp, Generated)>,
    line_pending: Option<(Timestamp, Generated)>,
}

impl Day<'_> {
    /// The calendar date of this day.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The next item of the enterprise line's stream, if any is left.
    fn next_on_line(&mut self) -> Option<(Timestamp, Generated)> {
        if self.line_next >= self.line_len {
            return None;
        }
        let i = self.line_next;
        self.line_next += 1;
        let w = self.workload;
        let (at, t) = enterprise::ticket(
            w,
            &mut self.line_rng,
            &w.enterprise_minute,
            self.number,
            self.midnight,
            i,
            self.line_len,
        );
        Some((at, Generated::Ticket(t)))
    }

    /// The next item of the citizen lines' stream, if any is left.
    fn next_citizen(&mut self) -> Option<(Timestamp, Generated)> {
        if self.next >= self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.generate(i))
    }

    fn generate(&mut self, i: usize) -> (Timestamp, Generated) {
        let w = self.workload;
        let rng = &mut self.rng;
        let id = format!("D{:04}-{i:06}", self.number);
        // Stratified arrival times: item i falls in the i-th 1/len of the
        // day's call distribution, so the stream is sorted without storing it.
        let q = (i as f64 + rng.next_f64()) / self.len as f64;
        let seconds = w.minute.inverse(q) * 60.0;
        let at = self.midnight + SignedDuration::from_secs_f64(seconds);

        let roll = rng.next_f64();
        if roll < MALFORMED {
            return (at, Generated::Malformed(malformed(rng, &id, at)));
        }
        let (text, foreign) = if roll < MALFORMED + FOREIGN_SHARE {
            (FOREIGN[w.foreign_pick.sample(rng)].text.to_string(), true)
        } else {
            let k = &KINDS[self.kinds.sample(rng)];
            let phrase = k.phrases[rng.below(k.phrases.len())];
            let opening = OPENINGS[rng.below(OPENINGS.len())];
            let ending = ENDINGS[rng.below(ENDINGS.len())];
            (format!("{opening}{phrase}{ending}"), false)
        };
        let mut t = Ticket::new(id, text).with_received_at(at);

        let d = w.district_pick.sample(rng);
        let table = &w.districts[d];
        if roll > 1.0 - UNROUTABLE {
            return (
                at,
                Generated::Ticket(if rng.next_f64() < 0.5 {
                    t.text = [" ", "", "\n"][rng.below(3)].to_string();
                    t.with_channel(Channel::App)
                } else {
                    // A decimal slip in the app: the longitude ×10.
                    let (lon, lat) = cell_centre(rng.below(90) as u32, rng.below(90) as u32);
                    t.with_coordinates(lon * 10.0, lat, Crs::Gcj02)
                        .with_channel(Channel::App)
                }),
            );
        }
        let loc = rng.next_f64();
        let coordinates = !table.cells.is_empty() && loc < COORDINATES;
        let address = !coordinates || loc < BOTH;
        if coordinates {
            let crs = match rng.next_f64() {
                r if r < 0.7 => Crs::Gcj02,
                r if r < 0.9 => Crs::Bd09,
                _ => Crs::Wgs84,
            };
            let (lon, lat) = point_in(w, d, crs, rng);
            t = t
                .with_coordinates(lon, lat, crs)
                .with_channel(if rng.next_f64() < 0.85 {
                    Channel::App
                } else {
                    Channel::Qr
                });
        } else if rng.next_f64() < if foreign { 0.7 } else { 0.1 } {
            // Foreign residents mostly write in through the web portal.
            t = t.with_channel(Channel::Web);
        }
        if t.channel == Channel::Qr && !address && !foreign {
            qr::scan(w, self.number, i, &mut t);
        }
        if address && !table.streets.is_empty() {
            let (sn, communities) = &table.streets[rng.below(table.streets.len())];
            let dn = &table.name;
            let building = 1 + rng.below(30);
            let cn = if communities.is_empty() {
                ""
            } else {
                &communities[rng.below(communities.len())]
            };
            let a = match rng.next_f64() {
                r if r < 0.45 => format!("{dn}{sn}{cn}{building}号楼"),
                r if r < 0.65 => format!("{sn}{cn}{building}号楼"),
                r if r < 0.80 => format!("{dn}{cn}"),
                r if r < 0.92 => format!("{dn}{sn}"),
                _ => dn.clone(),
            };
            if !foreign && !cn.is_empty() && rng.next_f64() < 0.15 {
                // Callers often say where they live before the problem.
                t.text = format!("我住{cn}，{}", t.text);
            }
            t = t.with_address(a);
        }
        (at, Generated::Ticket(t))
    }
}

impl Iterator for Day<'_> {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        if self.pending.is_none() {
            self.pending = self.next_citizen();
        }
        if self.line_pending.is_none() {
            self.line_pending = self.next_on_line();
        }
        // Both streams are in time order: take the earlier (the citizen
        // lines' on a tie).
        let line_first = match (&self.pending, &self.line_pending) {
            (Some((a, _)), Some((b, _))) => b < a,
            (None, Some(_)) => true,
            _ => false,
        };
        let slot = if line_first {
            &mut self.line_pending
        } else {
            &mut self.pending
        };
        slot.take().map(|(_, g)| g)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.len - self.next)
            + (self.line_len - self.line_next)
            + usize::from(self.pending.is_some())
            + usize::from(self.line_pending.is_some());
        (left, Some(left))
    }
}

impl ExactSizeIterator for Day<'_> {}

/// Share of malformed lines, unroutable tickets and foreign-language texts.
const MALFORMED: f64 = 0.005;
const UNROUTABLE: f64 = 0.005;
const FOREIGN_SHARE: f64 = 0.02;
/// Location: below `BOTH` coordinates and address, below `COORDINATES`
/// coordinates (only), above it an address only.
const BOTH: f64 = 0.10;
const COORDINATES: f64 = 0.60;

const MINUTES: usize = 24 * 60;

#[cfg(test)]
mod tests;
