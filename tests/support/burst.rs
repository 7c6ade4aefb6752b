//! Injected bursts for the spike tests: realistic, varied tickets about one
//! problem from one street, at random times within a span.
#![allow(dead_code)]

use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What the callers complain about.
#[derive(Clone, Copy, Debug)]
pub enum Problem {
    /// The heating failed (category `heating`).
    Heating,
    /// A power cut (category `utilities.power`).
    PowerCut,
}

impl Problem {
    /// The category the router should give these tickets.
    pub fn category(self) -> &'static str {
        match self {
            Problem::Heating => "heating",
            Problem::PowerCut => "utilities.power",
        }
    }

    fn texts(self) -> &'static [&'static str] {
        match self {
            Problem::Heating => &[
                "暖气不热",
                "家里暖气片冰凉冰凉的",
                "供暖温度只有十几度，屋里太冷了",
                "暖气一点都不热，老人冻得受不了",
                "今天暖气突然不热了，整栋楼都这样",
                "我家暖气片上面热下面凉，屋里才十三度",
                "屋里温度才十二度，暖气跟没开一样",
                "供暖不达标，孩子都冻感冒了",
                "暖气停了，问热力公司也没人说什么原因",
                "暖气管子是凉的，物业说是热力站的问题",
                "室温只有十四度，请尽快解决供暖问题",
                "从早上开始暖气就不热了，楼里好多家都一样",
            ],
            Problem::PowerCut => &[
                "停电了",
                "家里突然停电了，什么时候能来电",
                "整栋楼都停电了",
                "小区停电两个小时了还没恢复供电",
                "又停电了，冰箱里的东西都要坏了",
                "没有接到任何停电通知就停电了",
                "我们这片停电了，请供电公司尽快抢修",
                "家里没电了，邻居家也没电，应该是停电",
                "停电了，老人在家用不了制氧机，很着急",
                "小区从中午开始停电，到现在还没来电",
            ],
        }
    }
}

/// `n` tickets about `problem` in the street with code `street`, received
/// at random times in `[start, start + span)`, sorted; addresses name the
/// street (and mostly a community and building in it) in several ways.
///
/// # Panics
///
/// If `router` has no street `street`.
pub fn burst(
    router: &Router,
    problem: Problem,
    street: &str,
    start: Timestamp,
    span: SignedDuration,
    n: usize,
    seed: u64,
) -> Vec<Ticket> {
    let j = router.jurisdictions();
    let sid = j.street_id(street).expect("a street of the router");
    let s = j.street(sid);
    let district = j.district(s.district()).name();
    let communities: Vec<&str> = j
        .communities()
        .filter(|(_, c)| c.street() == sid)
        .map(|(_, c)| {
            c.name()
                .trim_end_matches("居民委员会")
                .trim_end_matches("村民委员会")
                .trim_end_matches("居委会")
                .trim_end_matches("村委会")
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut times: Vec<Timestamp> = (0..n)
        .map(|_| start + SignedDuration::from_secs(rng.gen_range(0..span.as_secs())))
        .collect();
    times.sort();
    let texts = problem.texts();
    times
        .into_iter()
        .enumerate()
        .map(|(i, at)| {
            let text = texts[rng.gen_range(0..texts.len())];
            let building = rng.gen_range(1..30);
            let community = if communities.is_empty() {
                ""
            } else {
                communities[rng.gen_range(0..communities.len())]
            };
            let street_name = s.name();
            let address = match rng.gen_range(0..10) {
                0..=4 => format!("{district}{street_name}{community}{building}号楼"),
                5..=7 => format!("{street_name}{community}{building}号楼"),
                _ => format!("{district}{street_name}"),
            };
            Ticket::new(format!("BURST-{seed}-{i:03}"), text)
                .with_address(address)
                .with_received_at(at)
        })
        .collect()
}
