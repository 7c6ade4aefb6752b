//! The report's per-month counters: what it keeps of a stream of tickets.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::analytics::Month;
use crate::{Decision, Router};

/// One month's counts, in dense tables indexed like the router's.
#[derive(Clone, Debug)]
pub(super) struct MonthCounts {
    /// Tickets per day of the month (index 0 = the 1st).
    pub days: [u32; 31],
    /// Per category.
    pub categories: Vec<u32>,
    /// Per district.
    pub districts: Vec<u32>,
    /// Per street.
    pub streets: Vec<u32>,
    /// Per street × category.
    pub street_category: foldhash::HashMap<(u32, u16), u32>,
    /// Every ticket of the month.
    pub total: u32,
    /// Tickets placed in no district.
    pub no_district: u32,
}

/// Counts per month, for every month seen.
#[derive(Clone, Debug)]
pub(super) struct Counts {
    router: Router,
    months: BTreeMap<Month, MonthCounts>,
}

impl Counts {
    pub fn new(router: &Router) -> Counts {
        Counts {
            router: router.clone(),
            months: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, at: Timestamp, d: &Decision) {
        let tz = self.router.time_zone();
        let date = at.to_zoned(tz.clone()).date();
        let month = Month::of(at, tz);
        let router = &self.router;
        let m = self.months.entry(month).or_insert_with(|| MonthCounts {
            days: [0; 31],
            categories: vec![0; router.categories().len()],
            districts: vec![0; router.jurisdictions().districts().len()],
            streets: vec![0; router.jurisdictions().streets().len()],
            street_category: foldhash::HashMap::default(),
            total: 0,
            no_district: 0,
        });
        m.total += 1;
        m.days[(date.day() - 1) as usize] += 1;
        let category = router.category_id(d.category().code());
        if let Some(c) = category {
            m.categories[c.as_usize()] += 1;
        }
        let loc = d.location();
        match loc.district() {
            Some(id) => m.districts[id.as_usize()] += 1,
            None => m.no_district += 1,
        }
        if let Some(s) = loc.street() {
            m.streets[s.as_usize()] += 1;
            if let Some(c) = category {
                *m.street_category
                    .entry((s.as_usize() as u32, c.as_usize() as u16))
                    .or_default() += 1;
            }
        }
    }

    /// The latest month with tickets.
    pub fn latest(&self) -> Option<Month> {
        self.months.keys().next_back().copied()
    }

    pub fn get(&self, month: Month) -> Option<&MonthCounts> {
        self.months.get(&month)
    }
}
