//! Property tests: arbitrary tickets — any Unicode text (empty, huge,
//! control characters, lone combining marks), any `f64` coordinates
//! (NaN, ±∞, ±1e308, subnormal, out of range) in every `Crs`, any channel,
//! times anywhere from `Timestamp::MIN` to `Timestamp::MAX`, random
//! building codes and categories — routed by `Router::beijing()` and
//! submitted to a `Dispatcher`: never a panic; the router answers a
//! decision or a typed `TicketError`, and the dispatcher agrees with it.
//!
//! `cargo test --test prop_tickets` runs a few thousand cases. The long run
//! (at least 100,000 cases, ignored by default) is
//!
//! ```text
//! cargo test --release --test prop_tickets -- --ignored
//! ```
//!
//! with `PROP_TICKETS_CASES=N` to choose another count.

mod common;
use common::{beijing as router, long_run};

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use hotline_router::dispatch::{DispatchConfig, Dispatcher, ManualClock, SubmitError};
use hotline_router::{Channel, Crs, Ticket, TicketError};
use jiff::Timestamp;
use proptest::prelude::*;

/// Cases in CI (debug build, well under 20 s).
const CASES: u32 = 5_000;
/// Cases in the ignored long run, unless `PROP_TICKETS_CASES` says otherwise.
const LONG_CASES: u32 = 100_000;

/// The clock every dispatcher starts at: tickets received later are refused.
fn now() -> Timestamp {
    "2026-11-30T10:00:00+08:00".parse().unwrap()
}

/// Text: ordinary complaints, arbitrary Unicode, control characters, empty,
/// and sometimes far over the router's size limit.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "楼上装修噪音太大，晚上十点还在砸墙",
            "家里暖气片一直不热",
            "My residence permit expires next month",
            "",
            " ",
            "\u{0}\u{7}\u{1b}[2J\r\n\t",
            "\u{301}\u{301}\u{200d}\u{feff}\u{202e}",
        ]).prop_map(str::to_owned),
        3 => any::<String>(),
        2 => "\\PC{0,64}",
        1 => "[\\x00-\\x1f\\x7f]{0,16}",
        1 => (any::<char>(), 0usize..200_000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}

/// A coordinate: in range, near Beijing, or extreme.
fn coord() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => 115.0f64..118.0,
        2 => 39.0f64..41.5,
        2 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN, -f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308,
            0.0, -0.0, f64::MIN_POSITIVE, 5e-324, 180.0, -180.0, 90.0, -90.0,
            180.000_000_1, 90.000_000_1,
        ]),
    ]
}

fn crs() -> impl Strategy<Value = Crs> {
    prop::sample::select(vec![Crs::Wgs84, Crs::Gcj02, Crs::Bd09])
}

fn channel() -> impl Strategy<Value = Channel> {
    prop::sample::select(vec![
        Channel::Phone,
        Channel::App,
        Channel::Web,
        Channel::Qr,
        Channel::Enterprise,
    ])
}

/// Any instant jiff can represent, with the ends, the clock's own time and
/// the dispatcher's window around it (a week back, ten minutes ahead)
/// more likely than chance would make them.
fn time() -> impl Strategy<Value = Timestamp> {
    let (lo, hi) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    prop_oneof![
        1 => (lo..=hi).prop_map(|s| Timestamp::from_second(s).unwrap()),
        1 => prop::sample::select(vec![Timestamp::MIN, Timestamp::MAX, now()]),
        4 => (-86_400i64 * 10..3_600).prop_map(|s| now() + jiff::SignedDuration::from_secs(s)),
    ]
}

/// A ticket with any mix of the optional fields.
fn ticket() -> impl Strategy<Value = Ticket> {
    (
        prop_oneof![4 => "[A-Za-z0-9-]{1,20}", 1 => any::<String>()],
        text(),
        prop::option::of(text()),
        prop::option::of((coord(), coord(), crs())),
        channel(),
        prop::option::of(prop_oneof![
            "[0-9]{0,20}",
            "110105[0-9]{6,12}",
            any::<String>(),
        ]),
        prop::option::of(time()),
        prop::option::weighted(
            0.2,
            prop_oneof![
                prop::sample::select(vec![
                    "heating",
                    "env.noise",
                    "other",
                    "",
                    "enterprise.policy"
                ])
                .prop_map(str::to_owned),
                any::<String>(),
            ],
        ),
    )
        .prop_map(
            |(id, text, address, point, channel, building, at, category)| {
                let mut t = Ticket::new(id, text).with_channel(channel);
                if let Some(a) = address {
                    t = t.with_address(a);
                }
                if let Some((lon, lat, crs)) = point {
                    t = t.with_coordinates(lon, lat, crs);
                }
                if let Some(b) = building {
                    t = t.with_building(b);
                }
                if let Some(at) = at {
                    t = t.with_received_at(at);
                }
                if let Some(c) = category {
                    t = t.with_category(c);
                }
                t
            },
        )
}

/// Cases the router routed, the router refused, and the dispatcher
/// refused for their time: the long run reports them, to show the mix.
static OUTCOMES: [AtomicUsize; 3] = [
    AtomicUsize::new(0),
    AtomicUsize::new(0),
    AtomicUsize::new(0),
];

/// Routes `t` and submits it to a fresh dispatcher: no panic, a typed
/// answer, and the two agree.
fn check(t: Ticket) -> Result<(), TestCaseError> {
    let routed: Result<_, TicketError> = router().route(&t);
    if let Ok(decision) = &routed {
        // A decision names a real agency and category of the router.
        let _ = router().rules().agency(decision.agency()).code();
        assert!(!decision.category().code().is_empty());
    }
    let config = DispatchConfig::default();
    // The dispatcher takes a caller's time only within its window of the
    // clock, and checks it before routing.
    let (earliest, latest) = (
        now()
            .checked_sub(config.max_backdate)
            .unwrap_or(Timestamp::MIN),
        now()
            .checked_add(config.max_ahead)
            .unwrap_or(Timestamp::MAX),
    );
    let out_of_window = t.received_at.is_some_and(|at| at < earliest || at > latest);
    let d = Dispatcher::builder(router().clone())
        .config(config)
        .clock(Arc::new(ManualClock::new(now())))
        .build();
    let submitted = d.submit(t.clone());
    let outcome = match (&routed, &submitted) {
        (_, Err(SubmitError::ReceivedAt { .. })) => 2,
        (Ok(_), _) => 0,
        (Err(_), _) => 1,
    };
    OUTCOMES[outcome].fetch_add(1, Relaxed);
    match (&routed, submitted) {
        (_, Err(SubmitError::ReceivedAt { .. })) => prop_assert!(out_of_window),
        (Ok(_), Ok(_)) => prop_assert!(!out_of_window, "a ticket out of the window was taken"),
        (Err(e), Err(SubmitError::Invalid { error, .. })) => {
            prop_assert!(!out_of_window);
            // Compared as text: a NaN coordinate is not equal to itself.
            prop_assert_eq!(e.to_string(), error.to_string())
        }
        (routed, submitted) => prop_assert!(
            false,
            "router said {:?}, dispatcher said {:?}",
            routed.as_ref().map(|_| ()),
            submitted.map(|_| ())
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn any_ticket_routes_or_is_refused_with_a_reason(t in ticket()) {
        check(t)?;
    }
}

/// The long run: `cargo test --release --test prop_tickets -- --ignored`.
#[test]
#[ignore = "long: at least 100,000 cases; run in release by hand"]
fn any_ticket_routes_or_is_refused_with_a_reason_long() {
    long_run(
        "any_ticket_routes_or_is_refused_with_a_reason",
        "PROP_TICKETS_CASES",
        LONG_CASES,
        ticket(),
        check,
    );
    let [routed, refused, window] = OUTCOMES.each_ref().map(|n| n.load(Relaxed));
    eprintln!(
        "  {routed} routed, {refused} refused by the router, {window} refused for their time"
    );
}
