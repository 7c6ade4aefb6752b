//! The seeded ticket mix both benches route: fixed realistic phrasings ×
//! real community names × points over Beijing, so runs are comparable.

use hotline_router::{Crs, Router, Ticket};
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Realistic ticket bodies, ~30–60 characters, across categories.
pub const PHRASES: &[&str] = &[
    "家里暖气片一直不热，屋里才十五度，老人孩子受不了，希望尽快派人来看看",
    "楼上邻居每天晚上十二点还在装修，电钻声音太吵了，根本睡不着觉",
    "小区门口的垃圾好几天没人清理了，味道很大，夏天还招苍蝇",
    "有辆车堵在单元门口一上午了，打电话也不接，麻烦帮忙联系挪车",
    "我们楼的电梯又坏了，一个星期了物业也不修，老人上下楼很困难",
    "小区什么时候开始老旧小区改造，说了两年了还没有动静，想问问进度",
    "楼道里一股很重的煤气味，怀疑燃气泄漏了，请马上派人来处理",
    "公司拖欠我们三个月工资了，老板一直躲着不见人，想讨薪",
    "楼下饭店的油烟直接排到我家窗户上，窗户都不敢开，太呛人了",
    "小区里新装的充电桩坏了好几个，充不上电，物业说不归他们管",
    "孩子明年上小学，想咨询一下我们这个片区划片到哪个学校",
    "家里突然停水了，也没有提前通知，什么时候能恢复供水",
    "附近公交站撤了以后，老人去医院要多走两公里，希望恢复这个站",
    "社区养老驿站的老年餐太贵了，而且经常吃不上，希望改进",
    "小区绿地被人私自圈起来种菜，还有人私搭乱建了一个棚子",
    "在超市买的预付卡，店铺突然关门跑路了，钱退不回来",
];

/// When the mix's first ticket is received.
pub fn start() -> Timestamp {
    "2024-11-20T08:00:00+08:00".parse().expect("a valid time")
}

/// `n` seeded tickets, one every 2.5 s from [`start`]: 60% with coordinates
/// (WGS-84, GCJ-02 or BD-09), 40% with an address only, some with both.
pub fn mix(router: &Router, n: usize) -> Vec<Ticket> {
    let mut rng = ChaCha8Rng::seed_from_u64(12345);
    let j = router.jurisdictions();
    let communities: Vec<_> = j.communities().map(|(_, c)| c.clone()).collect();
    (0..n)
        .map(|i| {
            let text = PHRASES[rng.gen_range(0..PHRASES.len())];
            let at = start() + SignedDuration::from_millis(i as i64 * 2_500);
            let mut t = Ticket::new(format!("B{i}"), text).with_received_at(at);
            let roll: f64 = rng.gen();
            if roll < 0.6 {
                let crs = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09][rng.gen_range(0..3)];
                t = t.with_coordinates(rng.gen_range(115.5..117.4), rng.gen_range(39.5..41.0), crs);
            }
            if roll >= 0.4 {
                let c = &communities[rng.gen_range(0..communities.len())];
                let s = j.street(c.street());
                let d = j.district(s.district());
                t = t.with_address(format!("{}{}{}3号楼", d.name(), s.name(), c.name()));
            }
            t
        })
        .collect()
}
