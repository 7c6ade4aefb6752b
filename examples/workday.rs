//! A simulated working day at the Beijing 12345 hotline: about 70,000
//! tickets of the crate's seeded [workload](hotline_router::workload) (its
//! daily rhythm, districts, phrasings, bad input and the enterprise line;
//! the night's tickets wait for the desks to open at 08:00), routed by the
//! default Beijing router and
//! handled by every agency's staff on a few worker threads — claims, first
//! contact, resolutions, returns (退单) and call-backs (回访) — ending with
//! the day's report.
//!
//! ```text
//! cargo run --release --example workday
//! ```
//!
//! Time is simulated: a [`ManualClock`] that the main thread moves one minute
//! per step until midnight. Handling delays are drawn in simulated minutes,
//! so nobody sleeps and the day takes seconds. Each step has two phases:
//!
//! 1. the main thread submits the minute's tickets; then the workers act on
//!    what fell due (first contact, resolution, return) while the main
//!    thread makes the call-backs that are due;
//! 2. the workers claim new tickets for their free staff.
//!
//! A phase ends when every worker has acknowledged it on its own channel, so
//! phases never overlap, the day is reproducible from its seed, and a worker
//! that panics ends the run instead of hanging it. Staff are sized from a
//! forecast (the day's tickets routed once beforehand); three agencies are
//! deliberately understaffed and sloppy, and the monthly ranking should name
//! them. A few per cent of tickets are claimed and left lying (the lease
//! lapses and the ticket goes back on its list), so urgent ones go overdue.
//!
//! The report: volume by category, by district and the ten busiest streets;
//! the 三率 and on-time rate by district; overdue tickets; the bottom three
//! agencies of the monthly ranking; wall time and throughput.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use hotline_router::dispatch::{
    DispatchConfig, Dispatcher, Evaluation, ManualClock, Overdue, SubmitError,
};
use hotline_router::evaluate::GroupBy;
use hotline_router::incident::IncidentIndex;
use hotline_router::workload::{Generated, SplitMix64, WorkloadBuilder};
use hotline_router::{Priority, Router, Ticket};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::prelude::*;
use rand_chacha::ChaCha8Rng;

const SEED: u64 = 20_241_120;
const DAY: &str = "2024-11-20T00:00:00+08:00";
/// Tickets a day, before the weekday, the noise and the enterprise line.
const TICKETS: u32 = 70_000;
/// Minutes of the day: the desks open (tickets of the night are submitted
/// then), the desks are staffed until, the day ends.
const OPEN: u32 = 8 * 60;
const CLOSE: u32 = 22 * 60;
const END: u32 = 24 * 60;
/// Worker threads; each serves a share of the agencies round-robin.
const WORKERS: usize = 3;
/// Agencies ranked in the monthly ranking need this many call-backs.
const MIN_EVALUATED: u64 = 30;

/// How one category is handled; the ticket's category is the classifier's.
/// A category not listed is handled like `other`.
struct Kind {
    /// The category.
    code: &'static str,
    /// Minutes from first contact to resolution, drawn uniformly.
    handle: (u32, u32),
    /// Chance the caller says the problem was solved (before agency effects).
    solved: f64,
    /// What the worker writes on resolving.
    outcome: &'static str,
}

#[rustfmt::skip]
const KINDS: &[Kind] = &[
    Kind { code: "heating", handle: (60, 300), solved: 0.86, outcome: "已联系热力公司入户检查，排气后暖气恢复" },
    Kind { code: "env.noise", handle: (30, 150), solved: 0.84, outcome: "已上门劝导，夜间停止施工" },
    Kind { code: "env.sanitation", handle: (60, 240), solved: 0.9, outcome: "已安排环卫清运，现场已清理" },
    Kind { code: "transport.parking", handle: (15, 60), solved: 0.9, outcome: "已联系车主挪车" },
    Kind { code: "housing.elevator", handle: (60, 360), solved: 0.82, outcome: "维保单位已到场维修，电梯恢复运行" },
    Kind { code: "housing.property", handle: (90, 480), solved: 0.78, outcome: "已约谈物业公司，限期整改" },
    Kind { code: "housing.repair", handle: (90, 420), solved: 0.8, outcome: "已安排房管所上门维修" },
    Kind { code: "utilities.water", handle: (60, 240), solved: 0.9, outcome: "管网抢修完成，已恢复供水" },
    Kind { code: "utilities.power", handle: (60, 240), solved: 0.9, outcome: "供电抢修完成，已恢复供电" },
    Kind { code: "utilities.gas", handle: (30, 120), solved: 0.92, outcome: "燃气集团已到场关阀检修，隐患排除" },
    Kind { code: "housing.old_renovation", handle: (180, 600), solved: 0.66, outcome: "已答复改造计划和施工进度" },
    Kind { code: "labor.wages", handle: (240, 720), solved: 0.64, outcome: "劳动监察已立案，督促企业支付工资" },
    Kind { code: "market.consumer", handle: (120, 480), solved: 0.72, outcome: "已约谈商家，双方达成退款协议" },
    Kind { code: "education", handle: (30, 180), solved: 0.85, outcome: "已答复入学政策和划片范围" },
    Kind { code: "health.medical", handle: (60, 240), solved: 0.8, outcome: "已协调医院并答复" },
    Kind { code: "env.pollution", handle: (60, 300), solved: 0.78, outcome: "已责令餐馆加装油烟净化器" },
    Kind { code: "construction.illegal", handle: (120, 480), solved: 0.7, outcome: "已下达限期拆除通知" },
    Kind { code: "elderly.care", handle: (60, 240), solved: 0.84, outcome: "已协调养老驿站恢复送餐" },
    Kind { code: "transport.public_transit", handle: (60, 300), solved: 0.7, outcome: "已转交线路调整意见并答复" },
    Kind { code: "transport.ev_charging", handle: (60, 300), solved: 0.76, outcome: "已协调运营商维修充电桩" },
    Kind { code: "immigration.visa", handle: (30, 120), solved: 0.9, outcome: "Explained the extension procedure and documents" },
    Kind { code: "travel.lost_property", handle: (30, 180), solved: 0.75, outcome: "Item found and kept at the lost-and-found desk" },
    Kind { code: "other", handle: (20, 90), solved: 0.95, outcome: "已答复" },
];

const RETURN_REASONS: &[&str] = &[
    "经核实不属于本单位职责，请重新派单",
    "诉求地址不在本辖区",
    "属于产权单位自管范围，非本单位设施",
    "涉及多个部门，需上级协调",
];

/// What will happen to one ticket, drawn in advance from the seed.
struct Plan {
    kind: usize,
    /// Minutes from claim to first contact (or return): within the lease.
    contact: u32,
    /// Minutes from first contact to resolution.
    handle: u32,
    /// Minutes from resolution to the call-back.
    callback: u32,
    /// Whether the caller picks up at call-back.
    reachable: bool,
    /// Uniform rolls for the call-back's three answers.
    answers: [f64; 3],
}

struct Day {
    tickets: Vec<Ticket>,
    ids: Vec<String>,
    /// Ticket id → its position in `tickets`, `ids` and `plans`.
    index: HashMap<String, usize>,
    plans: Vec<Plan>,
}

/// The day's tickets from the crate's workload generator (malformed lines
/// left out: they never reach a dispatcher), each with its plan drawn from
/// `rng`.
fn generate(router: &Router, date: Date, rng: &mut ChaCha8Rng) -> Day {
    let workload = WorkloadBuilder::new(SEED)
        .per_day(TICKETS)
        .start(date)
        .build(router);
    let other = KINDS
        .iter()
        .position(|k| k.code == "other")
        .expect("an `other` kind");
    let mut out = Day {
        tickets: Vec::new(),
        ids: Vec::new(),
        index: HashMap::new(),
        plans: Vec::new(),
    };
    for t in workload.day(0).filter_map(Generated::into_ticket) {
        let category = router.category(router.classifier().classify(&t.text).primary());
        let kind = KINDS
            .iter()
            .position(|k| k.code == category.code())
            .unwrap_or(other);
        let k = &KINDS[kind];
        out.plans.push(Plan {
            kind,
            contact: rng.gen_range(2..=25),
            handle: rng.gen_range(k.handle.0..=k.handle.1),
            callback: rng.gen_range(30..=240),
            reachable: rng.gen_bool(0.96),
            answers: [rng.gen(), rng.gen(), rng.gen()],
        });
        out.index.insert(t.id.clone(), out.ids.len());
        out.ids.push(t.id.clone());
        out.tickets.push(t);
    }
    out
}

/// A deterministic uniform roll in [0, 1) for a pair of numbers: the same
/// whichever worker thread asks, and in whatever order.
fn roll(a: u64, b: u64) -> f64 {
    SplitMix64::new(SEED ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b).next_f64()
}

/// One agency's desk, as one worker thread runs it.
struct Desk {
    /// The agency's index in the router's agency list.
    agency: usize,
    code: String,
    /// One worker name per member of staff.
    staff: Vec<String>,
    /// Staff not busy with a ticket.
    free: Vec<usize>,
    /// Chance a claimed ticket is returned (退单).
    p_return: f64,
    /// Chance a claimed ticket is left lying.
    p_neglect: f64,
}

/// The forecast: staff per agency, and which agencies struggle.
struct Staffing {
    desks: Vec<Vec<Desk>>,
    struggling: Vec<bool>,
    staff_total: usize,
}

fn plan_staff(router: &Router, day: &Day, rng: &mut ChaCha8Rng) -> Staffing {
    let rules = router.rules();
    let n = rules.agencies().len();
    let mut busy = vec![0.0f64; n];
    for (t, p) in day.tickets.iter().zip(&day.plans) {
        // The workload's unroutable tickets are refused at submission.
        let Ok(d) = router.route(t) else { continue };
        let minutes = f64::from(p.contact + p.handle);
        busy[d.agency().as_usize()] += minutes;
        // Returned tickets go to the district's 12345 office or to triage.
        let fallback = d
            .district_code()
            .map_or("center:triage".to_string(), |c| format!("district:{c}:gov"));
        if let Some(a) = rules.agency_id(&fallback) {
            busy[a.as_usize()] += 0.05 * minutes;
        }
    }
    // Two of the thirty busiest street offices and one district department
    // are understaffed and sloppy.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| busy[b].total_cmp(&busy[a]).then(a.cmp(&b)));
    let codes: Vec<&str> = rules.agencies().map(|(_, a)| a.code()).collect();
    let streets: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&a| codes[a].starts_with("street:"))
        .take(30)
        .collect();
    let depts: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&a| codes[a].starts_with("district:") && !codes[a].ends_with(":gov"))
        .take(20)
        .collect();
    let mut struggling = vec![false; n];
    for a in streets.choose_multiple(rng, 2) {
        struggling[*a] = true;
    }
    struggling[*depts.choose(rng).expect("departments with tickets")] = true;

    // Longest-processing-time first: balance the forecast over the workers.
    let mut desks: Vec<Vec<Desk>> = (0..WORKERS).map(|_| Vec::new()).collect();
    let mut load = [0.0f64; WORKERS];
    let mut staff_total = 0;
    for a in order {
        let code = codes[a].to_string();
        let mut staff = ((busy[a] / f64::from(CLOSE - OPEN)) * 1.3).ceil() as usize + 2;
        if struggling[a] {
            staff = staff / 2 + 1;
        }
        staff_total += staff;
        let p_return = match code.split(':').next() {
            Some("street") => 0.04,
            Some("district") if code.ends_with(":gov") => 0.01,
            Some("district") => 0.025,
            Some("city") => 0.015,
            _ => 0.0,
        };
        let w = (0..WORKERS)
            .min_by(|&x, &y| load[x].total_cmp(&load[y]))
            .unwrap_or(0);
        load[w] += busy[a];
        desks[w].push(Desk {
            agency: a,
            staff: (0..staff).map(|s| format!("{code}#{s}")).collect(),
            free: (0..staff).rev().collect(),
            code,
            p_return,
            p_neglect: if struggling[a] { 0.08 } else { 0.02 },
        });
    }
    Staffing {
        desks,
        struggling,
        staff_total,
    }
}

enum Phase {
    /// Act on everything due by this minute of the day.
    Act(u32),
    /// Claim tickets for free staff.
    Claim(u32),
}

/// A resolution, for the call-back.
struct Resolved {
    ticket: usize,
    agency: usize,
    minute: u32,
}

#[derive(Default)]
struct Tally {
    claims: u64,
    left_lying: u64,
    responded: u64,
    resolved: u64,
    returned: u64,
    errors: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Contact,
    Resolve,
    Return,
}

/// Due work: (minute, ticket, step, desk, member of staff).
type Task = Reverse<(u32, usize, Step, usize, usize)>;

fn worker(
    d: &Dispatcher,
    mut desks: Vec<Desk>,
    day: &Day,
    phases: Receiver<Phase>,
    done: Sender<Vec<Resolved>>,
) -> Tally {
    let mut tally = Tally::default();
    let mut due: BinaryHeap<Task> = BinaryHeap::new();
    for phase in phases {
        let mut resolved = Vec::new();
        match phase {
            Phase::Act(now) => {
                while due.peek().is_some_and(|Reverse(t)| t.0 <= now) {
                    let Some(Reverse((_, ticket, step, at_desk, who))) = due.pop() else {
                        break;
                    };
                    let (desk, plan) = (&mut desks[at_desk], &day.plans[ticket]);
                    let (id, name) = (&day.ids[ticket], &desk.staff[who]);
                    let ok = match step {
                        Step::Contact => {
                            let ok = d.respond(id, name).is_ok();
                            let resolve_at = now + plan.handle;
                            due.push(Reverse((resolve_at, ticket, Step::Resolve, at_desk, who)));
                            tally.responded += u64::from(ok);
                            ok
                        }
                        Step::Resolve => {
                            let outcome = KINDS[plan.kind].outcome;
                            let ok = d.resolve(id, name, outcome).is_ok();
                            if ok {
                                tally.resolved += 1;
                                resolved.push(Resolved {
                                    ticket,
                                    agency: desk.agency,
                                    minute: now,
                                });
                            }
                            ok
                        }
                        Step::Return => {
                            let reason = RETURN_REASONS[ticket % RETURN_REASONS.len()];
                            let ok = d.return_ticket(id, name, reason).is_ok();
                            tally.returned += u64::from(ok);
                            ok
                        }
                    };
                    tally.errors += u64::from(!ok);
                    if step != Step::Contact {
                        desk.free.push(who);
                    }
                }
            }
            Phase::Claim(now) => {
                for (i, desk) in desks.iter_mut().enumerate() {
                    while let Some(&who) = desk.free.last() {
                        let Some(claim) = d.claim(&desk.code, &desk.staff[who]).unwrap() else {
                            break;
                        };
                        tally.claims += 1;
                        let ticket = day.index[claim.id.as_str()];
                        let salt = desk.agency as u64;
                        if roll(ticket as u64, salt << 1) < desk.p_neglect {
                            tally.left_lying += 1;
                            continue; // the lease lapses; the ticket goes back on the list
                        }
                        desk.free.pop();
                        let step = if roll(ticket as u64, (salt << 1) | 1) < desk.p_return {
                            Step::Return
                        } else {
                            Step::Contact
                        };
                        let at = now + day.plans[ticket].contact;
                        due.push(Reverse((at, ticket, step, i, who)));
                    }
                }
            }
        }
        if done.send(resolved).is_err() {
            break;
        }
    }
    tally
}

fn main() {
    let started = Instant::now();
    let router = Router::beijing();
    let tz = router.time_zone().clone();
    let day_start: Timestamp = DAY.parse().expect("a valid time");
    let at = |minute: u32| day_start + SignedDuration::from_mins(i64::from(minute));

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let day = generate(&router, day_start.to_zoned(tz.clone()).date(), &mut rng);
    let staffing = plan_staff(&router, &day, &mut rng);
    println!(
        "Simulating {} tickets on {} with {} staff (desk slots) at {} agencies on {WORKERS} worker threads (set up in {:.2} s).",
        day.tickets.len(),
        &DAY[..10],
        staffing.staff_total,
        staffing.struggling.len(),
        started.elapsed().as_secs_f64()
    );

    let clock = Arc::new(ManualClock::new(at(OPEN)));
    // Reports of one problem at one place (the same burst main, the same
    // burning power line) join one incident: one work item, every caller
    // still called back.
    let d = Dispatcher::builder(router.clone())
        .config(DispatchConfig::default())
        .clock(clock.clone())
        .linker(IncidentIndex::new(&router))
        .build();
    let bar = ProgressBar::new(u64::from(END - OPEN)).with_style(
        ProgressStyle::with_template("{bar:40.cyan/blue} {pos:>3}/{len} min  {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );

    let simulated = Instant::now();
    let mut refused: HashMap<&str, u64> = HashMap::new();
    let (mut submitted, mut resolved_total, mut evaluated, mut unreachable) =
        (0u64, 0u64, 0u64, 0u64);
    let mut sweeps = 0u64;
    let mut callbacks: BinaryHeap<Reverse<(u32, usize, usize)>> = BinaryHeap::new();
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let mut phases = Vec::new();
        let mut acks = Vec::new();
        let mut handles = Vec::new();
        for desks in staffing.desks {
            let (phase_tx, phase_rx) = channel();
            let (done_tx, done_rx) = channel();
            let (d, day) = (&d, &day);
            handles.push(s.spawn(move || worker(d, desks, day, phase_rx, done_tx)));
            phases.push(phase_tx);
            acks.push(done_rx);
        }
        let mut incoming = day.tickets.iter().cloned().peekable();
        for minute in OPEN + 1..=END {
            let now = at(minute);
            clock.set(now);
            d.expire_leases(now);
            while let Some(t) = incoming.next_if(|t| t.received_at_or(Timestamp::MIN) < now) {
                match d.submit(t) {
                    Ok(_) => submitted += 1,
                    Err(e) => {
                        let why = match e {
                            SubmitError::Invalid { .. } => "cannot be routed",
                            SubmitError::Duplicate(_) => "duplicate id",
                            SubmitError::Full { .. } => "capacity reached",
                            _ => "other",
                        };
                        *refused.entry(why).or_default() += 1;
                    }
                }
            }
            if minute % 15 == 0 {
                // The supervisors' sweep: escalate what passed its deadline.
                d.overdue(now);
                sweeps += 1;
            }

            for p in &phases {
                p.send(Phase::Act(minute)).expect("worker alive");
            }
            while callbacks.peek().is_some_and(|Reverse(c)| c.0 <= minute) {
                let Some(Reverse((_, ticket, agency))) = callbacks.pop() else {
                    break;
                };
                let plan = &day.plans[ticket];
                if !plan.reachable {
                    unreachable += 1;
                    continue;
                }
                let (p_resp, p_solved) = if staffing.struggling[agency] {
                    (0.78, KINDS[plan.kind].solved * 0.7)
                } else {
                    (0.96, KINDS[plan.kind].solved)
                };
                let [a, b, c] = plan.answers;
                let solved = b < p_solved;
                let satisfied = c < if solved { 0.93 } else { 0.15 };
                if d.evaluate(
                    &day.ids[ticket],
                    Evaluation {
                        responded: a < p_resp,
                        resolved: solved,
                        satisfied,
                    },
                )
                .is_ok()
                {
                    evaluated += 1;
                }
            }
            for ack in &acks {
                for r in ack.recv().expect("worker alive") {
                    resolved_total += 1;
                    let due = r.minute + day.plans[r.ticket].callback;
                    callbacks.push(Reverse((due, r.ticket, r.agency)));
                }
            }
            for p in &phases {
                p.send(Phase::Claim(minute)).expect("worker alive");
            }
            for ack in &acks {
                ack.recv().expect("worker alive");
            }

            bar.inc(1);
            if minute % 10 == 0 {
                bar.set_message(format!(
                    "{}  {submitted} in, {resolved_total} resolved, {evaluated} called back",
                    hhmm(now, &tz)
                ));
            }
        }
        drop(phases);
        handles
            .into_iter()
            .map(|h| h.join().expect("worker finished"))
            .collect()
    });
    bar.finish_and_clear();
    let sim_wall = simulated.elapsed();

    let end = at(END);
    let overdue = d.overdue(end);
    report(&router, &d, &overdue, day_start, end, &staffing.struggling);

    let mut t = Tally::default();
    for x in &tallies {
        t.claims += x.claims;
        t.left_lying += x.left_lying;
        t.responded += x.responded;
        t.resolved += x.resolved;
        t.returned += x.returned;
        t.errors += x.errors;
    }
    let refused_total: u64 = refused.values().sum();
    println!("\n== The runtime");
    println!(
        "submitted {submitted} (refused {refused_total}), claims {} (of which left lying {}), first contacts {}, resolved {}, returned {}, call-backs {evaluated} (+{unreachable} unreachable), overdue sweeps {sweeps}, failed operations {}",
        t.claims, t.left_lying, t.responded, t.resolved, t.returned, t.errors
    );
    for (why, n) in &refused {
        println!("  refused {n}: {why}");
    }
    let ops =
        submitted + refused_total + t.claims + t.responded + t.resolved + t.returned + evaluated;
    println!(
        "simulated {} minutes in {:.2} s wall ({:.0} tickets/s, {:.0} dispatcher operations/s on {} threads); {:.2} s in all",
        END - OPEN,
        sim_wall.as_secs_f64(),
        day.tickets.len() as f64 / sim_wall.as_secs_f64(),
        ops as f64 / sim_wall.as_secs_f64(),
        WORKERS + 1,
        started.elapsed().as_secs_f64()
    );
}

fn hhmm(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone()).strftime("%H:%M").to_string()
}

fn report(
    router: &Router,
    d: &Dispatcher,
    overdue: &[Overdue],
    from: Timestamp,
    to: Timestamp,
    struggling: &[bool],
) {
    let j = router.jurisdictions();
    let rules = router.rules();
    let tz = router.time_zone();

    #[derive(Default)]
    struct Volume {
        tickets: u64,
        urgent: u64,
        resolved: u64,
        minutes: Vec<i64>,
    }
    let mut categories: HashMap<String, Volume> = HashMap::new();
    let mut districts: HashMap<Option<String>, u64> = HashMap::new();
    let mut streets: HashMap<String, u64> = HashMap::new();
    let (mut returned, mut to_triage) = (0u64, 0u64);
    d.for_each_record(|r| {
        let v = categories.entry(r.routing().category.clone()).or_default();
        v.tickets += 1;
        v.urgent += u64::from(r.priority() == Priority::Urgent);
        if let Some(at) = r.resolved_at() {
            v.resolved += 1;
            v.minutes.push(at.duration_since(r.received_at()).as_mins());
        }
        *districts.entry(r.routing().district.clone()).or_default() += 1;
        if let Some(s) = &r.routing().street {
            *streets.entry(s.clone()).or_default() += 1;
        }
        returned += u64::from(!r.returned_from().is_empty());
        to_triage += u64::from(!r.returned_from().is_empty() && r.agency() == "center:triage");
    });
    let total: u64 = categories.values().map(|v| v.tickets).sum();
    let c = d.counts();
    println!(
        "\n== The day: {} tickets; at 24:00 {} waiting, {} in hand, {} resolved awaiting call-back, {} evaluated, {} open past deadline",
        c.total, c.dispatched, c.in_hand, c.resolved, c.evaluated, c.escalated
    );
    println!(
        "   {returned} returned at least once (退单), {to_triage} of them ended at center:triage"
    );
    let mut linked_total = 0u64;
    d.for_each_record(|r| linked_total += u64::from(r.incident().is_some()));
    println!(
        "   {linked_total} joined an incident another caller had reported (合并工单): no work item of their own, still called back; {} still waiting on theirs",
        c.linked
    );

    println!("\n== Volume by category");
    println!(
        "{} {} {} {} {} {}",
        l("category", 26),
        l("名称", 20),
        r("tickets", 8),
        r("share", 6),
        r("urgent", 7),
        r("resolved · median h", 22)
    );
    let mut rows: Vec<_> = categories.into_iter().collect();
    rows.sort_by(|a, b| b.1.tickets.cmp(&a.1.tickets).then(a.0.cmp(&b.0)));
    for (code, mut v) in rows {
        let name = router
            .category_id(&code)
            .map_or("?", |id| router.category(id).name());
        v.minutes.sort_unstable();
        let median = v
            .minutes
            .get(v.minutes.len() / 2)
            .map_or("—".to_string(), |m| format!("{:.1}", *m as f64 / 60.0));
        println!(
            "{} {} {} {} {} {}",
            l(&code, 26),
            l(name, 20),
            r(&v.tickets.to_string(), 8),
            r(&share(v.tickets, total), 6),
            r(&v.urgent.to_string(), 7),
            r(&format!("{} · {median}", share(v.resolved, v.tickets)), 22)
        );
    }

    println!("\n== Volume by district");
    let mut rows: Vec<_> = districts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (code, n) in rows {
        let name = code
            .as_deref()
            .and_then(|c| j.district_id(c))
            .map_or("(district unknown)", |id| j.district(id).name());
        println!(
            "{} {} {} {}",
            l(name, 20),
            l(code.as_deref().unwrap_or(""), 8),
            r(&n.to_string(), 7),
            r(&share(n, total), 6)
        );
    }

    println!("\n== The ten busiest streets");
    let mut rows: Vec<_> = streets.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, (code, n)) in rows.iter().take(10).enumerate() {
        let (street, district) = j.street_id(code).map_or(("?", "?"), |id| {
            let s = j.street(id);
            (s.name(), j.district(s.district()).name())
        });
        println!(
            "{} {} {} {} {}",
            r(&(i + 1).to_string(), 2),
            l(street, 20),
            l(district, 10),
            l(code, 10),
            r(&n.to_string(), 6)
        );
    }

    println!("\n== 三率 and on-time rate by district (tickets received today)");
    println!(
        "{} {} {} {} {} {} {} {} {}",
        l("district", 12),
        r("received", 9),
        r("closed", 7),
        r("evaluated", 10),
        r("响应率", 8),
        r("解决率", 8),
        r("满意率", 8),
        r("on time", 8),
        r("escalated", 10)
    );
    for row in d.rates(GroupBy::District, from, to) {
        let name = j
            .district_id(&row.key)
            .map_or("?", |id| j.district(id).name());
        println!(
            "{} {} {} {} {} {} {} {} {}",
            l(name, 12),
            r(&row.received.to_string(), 9),
            r(&row.closed.to_string(), 7),
            r(&row.evaluated.to_string(), 10),
            r(&pct(row.response_rate()), 8),
            r(&pct(row.resolution_rate()), 8),
            r(&pct(row.satisfaction_rate()), 8),
            r(&pct(row.on_time_rate()), 8),
            r(&row.escalated.to_string(), 10)
        );
    }

    println!(
        "\n== Overdue at 24:00: {} open tickets past their deadline",
        overdue.len()
    );
    println!("   (normal tickets are due in 1–15 working days: within the day only urgent ones can go overdue)");
    for o in overdue.iter().take(8) {
        let Some(record) = d.record(&o.id) else {
            continue;
        };
        let agency = rules
            .agency_id(&o.agency)
            .map_or("?", |a| rules.agency(a).name());
        let text: String = record.ticket().text.chars().take(22).collect();
        let callers = d.callers(&o.id).unwrap_or(1);
        println!(
            "{} {} {} {} {} {} {}",
            l(&o.id, 22),
            l(
                &format!("{callers} caller{}", if callers == 1 { "" } else { "s" }),
                10
            ),
            l(&format!("due {}", hhmm(o.deadline, tz)), 10),
            l(o.state.as_str(), 10),
            l(&o.agency, 26),
            l(agency, 20),
            text
        );
    }

    let ranking = d
        .monthly_ranking(2024, 11, MIN_EVALUATED, 3)
        .expect("November 2024 is a month");
    println!(
        "\n== Monthly ranking {}-{:02}: bottom 3 of {} ranked agencies ({} with fewer than {MIN_EVALUATED} call-backs not ranked)",
        ranking.year,
        ranking.month,
        ranking.ranked.len(),
        ranking.unranked.len()
    );
    for code in &ranking.bottom {
        let Some(row) = ranking.ranked.iter().find(|r| &r.key == code) else {
            continue;
        };
        let name = rules
            .agency_id(code)
            .map_or("?", |a| rules.agency(a).name());
        println!(
            "{} {} evaluated {} · 响应率 {} · 解决率 {} · 满意率 {} · score {}",
            l(code, 26),
            l(name, 24),
            r(&row.evaluated.to_string(), 4),
            pct(row.response_rate()),
            pct(row.resolution_rate()),
            pct(row.satisfaction_rate()),
            pct(row.score())
        );
    }
    let planted: Vec<&str> = rules
        .agencies()
        .filter(|(a, _)| struggling[a.as_usize()])
        .map(|(_, a)| a.code())
        .collect();
    println!("   (understaffed by design: {})", planted.join(", "));
}

/// Display width: CJK and full-width forms take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{1100}'..='\u{115F}'
            | '\u{2E80}'..='\u{A4CF}'
            | '\u{AC00}'..='\u{D7A3}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FE30}'..='\u{FE4F}'
            | '\u{FF00}'..='\u{FF60}'
            | '\u{FFE0}'..='\u{FFE6}' => 2,
            _ => 1,
        })
        .sum()
}

/// Left-aligned in `w` columns.
fn l(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// Right-aligned in `w` columns.
fn r(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn share(n: u64, of: u64) -> String {
    pct((of > 0).then(|| n as f64 / of as f64))
}

fn pct(x: Option<f64>) -> String {
    x.map_or("—".to_string(), |x| format!("{:.1}%", x * 100.0))
}
