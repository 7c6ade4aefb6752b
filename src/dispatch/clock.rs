//! Injected time: the runtime never reads the system clock directly, so
//! tests control time and never sleep.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::{SignedDuration, Timestamp};

/// A source of the current time.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Clock, SystemClock};
///
/// let now = SystemClock.now();
/// assert!(now.as_second() > 1_700_000_000);
/// ```
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Clock, SystemClock};
///
/// assert!(SystemClock.now() <= jiff::Timestamp::now());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to: for tests and simulations.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::{Clock, ManualClock};
///
/// let clock = ManualClock::new("2024-11-20T08:00:00+08:00".parse().unwrap());
/// clock.advance(jiff::SignedDuration::from_hours(2));
/// assert_eq!(clock.now().to_string(), "2024-11-20T02:00:00Z");
/// ```
#[derive(Debug)]
pub struct ManualClock {
    /// Nanoseconds since the Unix epoch (a `Timestamp` fits in an `i64` of
    /// nanoseconds until the year 2262, far beyond any replay).
    nanos: AtomicI64,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            nanos: AtomicI64::new(to_nanos(start)),
        }
    }

    /// Moves the clock to `at` (backwards too: a test may need it).
    pub fn set(&self, at: Timestamp) {
        self.nanos.store(to_nanos(at), Ordering::SeqCst);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: SignedDuration) {
        let by = i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
        self.nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(by))
            })
            .ok();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_nanosecond(i128::from(self.nanos.load(Ordering::SeqCst)))
            .unwrap_or(Timestamp::MAX)
    }
}

pub(crate) fn to_nanos(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(if t.as_nanosecond() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A shared clock is a clock: keep one handle to move it, give the other to
/// the runtime.
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
}
