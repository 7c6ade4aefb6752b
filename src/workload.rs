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

mod enterprise;

use crate::locate::crs::{gcj02_to_bd09, wgs84_to_gcj02};
use crate::rng::SplitMix64;
use crate::{Channel, Crs, DistrictId, Router, Ticket};

mod qr;

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

/// Calls per minute of the day, relative: a low night, a morning peak
/// around 10:00 and an evening one around 20:00.
fn minute_weight(m: usize) -> f64 {
    let h = m as f64 / 60.0;
    let bump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    0.04 + 0.35 * bump(14.5, 4.0) + bump(10.0, 1.2) + 0.8 * bump(20.0, 1.1)
}

fn kind_weight(k: &Kind, winter: bool, cold: bool) -> f64 {
    match k.code {
        "heating" if cold => 20.0 * if winter { 150.0 } else { 4.0 },
        "heating" if winter => 150.0,
        "heating" => 4.0,
        _ => f64::from(k.weight),
    }
}

/// A broken JSON line of one of several kinds.
fn malformed(rng: &mut SplitMix64, id: &str, at: Timestamp) -> String {
    match rng.below(5) {
        0 => {
            let full = format!(
                r#"{{"id":"{id}","text":"楼道灯坏了好几天了","channel":"phone","received_at":"{at}"}}"#
            );
            let mut cut = 1 + rng.below(full.len() - 2);
            while !full.is_char_boundary(cut) {
                cut -= 1;
            }
            full[..cut].to_string()
        }
        1 => format!(r#"{{"id":"{id}","text":"暖气不热","lon":"116.40","lat":"39.91"}}"#),
        2 => format!(r#"{{"id":{},"text":"垃圾没人清运"}}"#, rng.below(1_000_000)),
        3 => format!(r#"{{"id":"{id}","txt":"小区停水了","channel":"fax"}}"#),
        _ => ["", " ", "{}", "null", "[]"][rng.below(5)].to_string(),
    }
}

/// A point in district `d` in `crs`, uniformly over its area (to the grid's
/// resolution), whose conversion back to WGS-84 stays in the district.
fn point_in(w: &Workload, d: usize, crs: Crs, rng: &mut SplitMix64) -> (f64, f64) {
    let cells = &w.districts[d].cells;
    let convert = |lon: f64, lat: f64| match crs {
        Crs::Wgs84 => (lon, lat),
        Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
        Crs::Bd09 => {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            gcj02_to_bd09(x, y)
        }
    };
    let mut fallback = None;
    for _ in 0..16 {
        let (col, row) = cells[rng.below(cells.len())];
        let (clon, clat) = cell_centre(col, row);
        let lon = clon + (rng.next_f64() - 0.5) * STEP;
        let lat = clat + (rng.next_f64() - 0.5) * STEP;
        fallback.get_or_insert((clon, clat));
        if w.lands_in(lon, lat, d) {
            let (x, y) = convert(lon, lat);
            let (bx, by) = crs.to_wgs84(x, y);
            if w.lands_in(bx, by, d) {
                return (x, y);
            }
        }
    }
    let (lon, lat) = fallback.expect("at least one cell");
    convert(lon, lat)
}

impl Workload {
    fn lands_in(&self, lon: f64, lat: f64, d: usize) -> bool {
        // The grid was filled from the same locator, so district ids match.
        self.router
            .locator()
            .district_at(lon, lat)
            .map(DistrictId::as_usize)
            == Some(d)
    }
}

/// The grid the districts' areas are recorded on: 0.01° cells over a box
/// that contains Beijing (115.4–117.6 E, 39.4–41.1 N).
const STEP: f64 = 0.01;
const WEST: f64 = 115.4;
const SOUTH: f64 = 39.4;

fn grid_size() -> (u32, u32) {
    (220, 170)
}

fn cell_centre(col: u32, row: u32) -> (f64, f64) {
    (
        WEST + (f64::from(col) + 0.5) * STEP,
        SOUTH + (f64::from(row) + 0.5) * STEP,
    )
}

/// "东大桥社区居委会" → "东大桥社区".
fn short_community(name: &str) -> &str {
    name.trim_end_matches("居民委员会")
        .trim_end_matches("村民委员会")
        .trim_end_matches("居委会")
        .trim_end_matches("村委会")
}

/// Cumulative weights, sampled by binary search.
#[derive(Clone, Debug)]
struct Cumulative(Vec<f64>);

impl Cumulative {
    fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut sum = 0.0;
        Cumulative(
            weights
                .into_iter()
                .map(|w| {
                    sum += w.max(0.0);
                    sum
                })
                .collect(),
        )
    }

    fn sample(&self, rng: &mut SplitMix64) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = rng.next_f64() * total;
        self.0.partition_point(|&c| c <= x).min(self.0.len() - 1)
    }

    /// The continuous inverse CDF: `q` in [0, 1) → a position in
    /// [0, len), linear within each bucket.
    fn inverse(&self, q: f64) -> f64 {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = q * total;
        let i = self.0.partition_point(|&c| c <= x).min(self.0.len() - 1);
        let lo = if i == 0 { 0.0 } else { self.0[i - 1] };
        let width = self.0[i] - lo;
        let frac = if width > 0.0 { (x - lo) / width } else { 0.0 };
        i as f64 + frac.clamp(0.0, 0.999_999)
    }
}

/// Population by district code, in thousands: the 2020 (seventh) national
/// census, 北京市第七次全国人口普查公报（第二号）, 2021-05-19.
const POPULATION: &[(&str, u32)] = &[
    ("110101", 709),  // 东城区
    ("110102", 1106), // 西城区
    ("110105", 3452), // 朝阳区
    ("110106", 2019), // 丰台区
    ("110107", 568),  // 石景山区
    ("110108", 3133), // 海淀区
    ("110109", 393),  // 门头沟区
    ("110111", 1313), // 房山区
    ("110112", 1840), // 通州区
    ("110113", 1324), // 顺义区
    ("110114", 2269), // 昌平区
    ("110115", 1994), // 大兴区
    ("110116", 441),  // 怀柔区
    ("110117", 457),  // 平谷区
    ("110118", 528),  // 密云区
    ("110119", 346),  // 延庆区
];

/// One category's phrasings and its share (per mille, before the season).
struct Kind {
    code: &'static str,
    weight: u32,
    phrases: &'static [&'static str],
}

/// Openings and endings that add no keyword, so texts vary.
const OPENINGS: &[&str] = &["", "", "", "你好，", "您好，", "喂，你好，"];
const ENDINGS: &[&str] = &["", "，麻烦尽快处理", "，希望有关部门管一管", "，谢谢", "。"];

#[rustfmt::skip]
const KINDS: &[Kind] = &[
    Kind { code: "heating", weight: 150, phrases: &["家里暖气片一直不热，屋里才十五度，老人孩子受不了", "供暖都开始好几天了，我家暖气还是冰凉的，物业让找热力公司", "楼里暖气管爆裂了，水流了一地，家里正在跑水"] },
    Kind { code: "env.noise", weight: 95, phrases: &["楼上邻居每天晚上十二点还在装修，电钻声音太吵了，根本睡不着觉", "小区广场舞音响声音太大，每天晚上吵到九点多", "附近工地夜间施工，凌晨两点还在施工扰民"] },
    Kind { code: "env.sanitation", weight: 75, phrases: &["小区门口的垃圾好几天没人清理了，味道很大", "胡同里的公厕太脏了，好久没人打扫", "楼下垃圾桶满了也没人清运，老鼠到处跑"] },
    Kind { code: "transport.parking", weight: 85, phrases: &["有辆车堵在单元门口一上午了，打电话也不接，麻烦帮忙联系挪车", "小区车位太少，晚上下班回来根本没地方停车", "路边有辆僵尸车长期停放，好几年没动过了"] },
    Kind { code: "housing.property", weight: 70, phrases: &["物业不作为，楼道灯坏了半个月也不修", "物业公司乱收费，还不公示公共收益", "小区没有物业，楼道杂物堆满了也没人管"] },
    Kind { code: "market.consumer", weight: 50, phrases: &["在健身房办的预付卡，店铺突然关门跑路了，钱退不回来", "网购的电器有质量问题，商家不给退货", "理发店办卡时说好的优惠，现在不认账了"] },
    Kind { code: "housing.elevator", weight: 45, phrases: &["我们楼的电梯又坏了，一个星期了也没人修，老人上下楼很困难", "电梯突然停了，有人被困在里面，快来人", "老楼想加装电梯，不知道需要哪些手续"] },
    Kind { code: "utilities.water", weight: 45, phrases: &["家里突然停水了，也没有提前通知，什么时候能恢复供水", "自来水发黄，有异味，不敢喝", "路口的自来水管爆了，水流了一大片"] },
    Kind { code: "housing.repair", weight: 40, phrases: &["楼上卫生间漏水，我家天花板都泡了", "顶层房顶漏雨，墙皮一块一块往下掉", "公房的下水管堵了，报修好几次没人来"] },
    Kind { code: "utilities.power", weight: 35, phrases: &["我们小区从早上开始停电，到现在还没来电", "家里电压不稳，灯一直忽明忽暗的", "楼下电线杆上的电线着火了，一直在冒烟"] },
    Kind { code: "housing.old_renovation", weight: 35, phrases: &["小区什么时候开始老旧小区改造，说了两年了还没有动静", "老旧小区改造的脚手架搭在窗户外面，半个月没人施工", "我们楼能不能纳入改造计划，外墙保温太差了"] },
    Kind { code: "labor.wages", weight: 35, phrases: &["公司拖欠我们三个月工资了，老板一直躲着不见人，想讨薪", "干了半年活，老板一分钱工资都没发", "公司说效益不好，已经两个月没发工资了"] },
    Kind { code: "education", weight: 35, phrases: &["孩子明年上小学，想咨询一下我们这个片区划片到哪个学校", "学校课后服务收费不合理，家长意见很大", "幼儿园入园报名系统一直进不去"] },
    Kind { code: "health.medical", weight: 35, phrases: &["社区医院挂不上号，老人看病很不方便", "医院检查费收得太贵了，收费也不透明", "医院急诊等了三个小时都没有医生来看"] },
    Kind { code: "env.pollution", weight: 30, phrases: &["楼下饭店的油烟直接排到我家窗户上，窗户都不敢开，太呛人了", "附近小作坊喷漆，油漆味很刺鼻", "附近工厂晚上偷偷排废气，味道很难闻"] },
    Kind { code: "utilities.gas", weight: 25, phrases: &["楼道里一股很重的煤气味，怀疑燃气泄漏了，请马上派人来处理", "燃气卡充值了但是燃气表不来气", "燃气公司入户安检的人一直约不上"] },
    Kind { code: "other", weight: 25, phrases: &["表扬一下我们社区的工作人员，感谢他们", "谢谢你们上次帮忙，问题已经解决了", "就是心里烦，想找人说说话"] },
    Kind { code: "construction.illegal", weight: 20, phrases: &["小区绿地被人圈起来私搭乱建了一个棚子", "一楼住户私自扩建阳光房，占了公共区域", "楼顶有人私自加盖了一层房子"] },
    Kind { code: "elderly.care", weight: 20, phrases: &["社区养老驿站的老年餐太贵了，而且经常吃不上", "独居老人的高龄津贴一直没发下来", "想给老人申请居家养老服务，不知道找谁"] },
    Kind { code: "transport.public_transit", weight: 20, phrases: &["附近公交站撤了以后，老人去医院要多走两公里，希望恢复这个站", "早高峰公交发车间隔太长，等车要半个小时", "地铁站出口一直封着不开"] },
    Kind { code: "parks.greening", weight: 15, phrases: &["小区里的树长得太高挡住了窗户，想申请修剪", "公园里的健身器材坏了没人修", "路边的绿化带好久没人浇水，草都枯了"] },
    Kind { code: "transport.ev_charging", weight: 15, phrases: &["小区里新装的充电桩坏了好几个，充不上电", "想在自己车位安装充电桩，物业不让装", "公共充电桩车位总被燃油车占着"] },
    Kind { code: "housing.property_certificate", weight: 8, phrases: &["买的房子交房五年了还办不下来房产证", "开发商一直不给办不动产证", "想问问房本什么时候能办下来"] },
    Kind { code: "enterprise.policy", weight: 6, phrases: &["我们小微企业想咨询一下今年的减税降费政策", "公司申请的稳岗补贴一直没有到账", "公司申请的扶持资金到现在还没批下来"] },
    Kind { code: "enterprise.tech_resources", weight: 3, phrases: &["我们公司想找高校合作做技术研发，有没有对接渠道", "想申请高新技术企业认定，需要什么材料", "科技型中小企业怎么对接实验室资源"] },
    Kind { code: "immigration.visa", weight: 3, phrases: &["外国朋友的签证快过期了，怎么办理签证延期", "外籍家属的居留许可怎么续签", "想问一下过境免签可以停留几天"] },
    Kind { code: "immigration.work_permit", weight: 2, phrases: &["公司想聘用一个外籍员工，外国人工作许可怎么办", "外国人工作许可证到期了怎么延期", "外籍员工换了单位，工作许可要重新办吗"] },
    Kind { code: "travel.lost_property", weight: 2, phrases: &["昨天在首都机场航站楼把行李丢了", "钱包忘在出租车上了，想找回来", "在大兴机场安检的时候把手机落在那了"] },
];

/// A foreign-language text and its weight among foreign tickets.
struct Foreign {
    weight: u32,
    text: &'static str,
}

#[rustfmt::skip]
const FOREIGN: &[Foreign] = &[
    Foreign { weight: 12, text: "My residence permit expires next month, where do I apply for an extension?" },
    Foreign { weight: 12, text: "Can I use the 240-hour visa-free transit if I fly in from Seoul?" },
    Foreign { weight: 10, text: "I lost my backpack at Daxing airport yesterday, who can I contact?" },
    Foreign { weight: 10, text: "I left my wallet in Terminal 3 of the Capital airport, is there a lost and found?" },
    Foreign { weight: 8, text: "The construction site next to my apartment is making noise all night, please do something." },
    Foreign { weight: 8, text: "The taxi driver refused to use the meter and overcharged me, I want to complain." },
    Foreign { weight: 3, text: "Je voudrais prolonger mon visa, à qui dois-je m'adresser ?" },
    Foreign { weight: 3, text: "J'ai perdu ma valise à l'aéroport, où sont les objets trouvés ?" },
    Foreign { weight: 3, text: "Ich möchte meine Aufenthaltserlaubnis verlängern, wohin muss ich mich wenden?" },
    Foreign { weight: 3, text: "Ich habe meinen Koffer am Flughafen verloren. Gibt es hier ein Fundbüro?" },
    Foreign { weight: 3, text: "Моя виза скоро истекает, где можно продлить визу и вид на жительство?" },
    Foreign { weight: 3, text: "Я потерял багаж в аэропорту, где находится бюро находок?" },
    Foreign { weight: 3, text: "Mi visado vence pronto, ¿dónde puedo pedir una prórroga del permiso de residencia?" },
    Foreign { weight: 2, text: "Perdí mi maleta en el aeropuerto, ¿dónde están los objetos perdidos?" },
    Foreign { weight: 3, text: "ビザの延長はどこで申請できますか。在留期間がもうすぐ切れます。" },
    Foreign { weight: 2, text: "空港で荷物をなくしました。どこに連絡すればいいですか。" },
    Foreign { weight: 3, text: "비자 연장은 어디에서 신청하나요? 체류 기간이 곧 끝납니다." },
    Foreign { weight: 2, text: "공항에서 가방을 잃어버렸어요. 어디에 연락해야 하나요?" },
    Foreign { weight: 2, text: "تأشيرتي ستنتهي قريبا، أين يمكنني تجديد تصريح إقامة؟" },
    Foreign { weight: 1, text: "فقدت حقيبتي في المطار، أين مكتب المفقودات؟" },
    Foreign { weight: 1, text: "Gostaria de saber onde posso renovar o meu visto de residência." },
    Foreign { weight: 1, text: "Perdi a minha mala no aeroporto, onde fica o setor de achados e perdidos?" },
    Foreign { weight: 1, text: "Vorrei rinnovare il mio permesso di soggiorno, a chi devo rivolgermi?" },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Language, LanguageService};
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
            let metres =
                ((lon - building.lon()) * 85_000.0).hypot((lat - building.lat()) * 111_000.0);
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
}
