//! The enterprise line's share of a generated day: companies' demands on the
//! `enterprise` channel, from a stream of their own.
//!
//! The line takes about 1,000 demands on a working day when the citizen
//! lines take 70,000 (`per_day / 70`), and a twentieth of that on other
//! days: it is open every day, but companies call when they work. Calls
//! come between 6:00 and 24:00, mostly in office hours. A ticket carries the
//! company's address (district and street, or district alone), no
//! coordinates.
//!
//! Its random stream is separate from the citizen lines' (seeded from the
//! seed, the day and a constant of its own), so adding the line left every
//! other generated ticket — ids, texts, places and times — as it was.

use jiff::{SignedDuration, Timestamp};

use super::{Cumulative, Workload, ENDINGS};
use crate::rng::SplitMix64;
use crate::{Channel, Ticket};

/// Enterprise-line tickets a working day per citizen ticket (1 in 70).
pub(super) const SHARE: f64 = 1.0 / 70.0;
/// The line's volume on a day off, relative to a working day.
pub(super) const DAY_OFF: f64 = 0.05;
/// Keeps the line's stream apart from the citizen lines'.
pub(super) const STREAM: u64 = 0xE17E_4A9B_1C3D_5F27;

/// Calls per minute of the day, relative: none before 6:00 (the line opens
/// then), office hours with a dip at lunch, a little in the evening.
pub(super) fn minute_weight(m: usize) -> f64 {
    let h = m as f64 / 60.0;
    if h < 6.0 {
        return 0.0;
    }
    let bump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    0.03 + bump(10.0, 1.3) + 0.8 * bump(15.0, 1.6)
}

/// The `i`-th of the day's `len` enterprise tickets: its time and the
/// ticket.
pub(super) fn ticket(
    w: &Workload,
    rng: &mut SplitMix64,
    minute: &Cumulative,
    day: u32,
    midnight: Timestamp,
    i: usize,
    len: usize,
) -> (Timestamp, Ticket) {
    let q = (i as f64 + rng.next_f64()) / len as f64;
    let at = midnight + SignedDuration::from_secs_f64(minute.inverse(q) * 60.0);
    let k = &KINDS[w.enterprise_kinds.sample(rng)];
    let phrase = k.phrases[rng.below(k.phrases.len())];
    let opening = OPENINGS[rng.below(OPENINGS.len())];
    let ending = ENDINGS[rng.below(ENDINGS.len())];
    let mut t = Ticket::new(
        format!("D{day:04}-E{i:05}"),
        format!("{opening}{phrase}{ending}"),
    )
    .with_channel(Channel::Enterprise)
    .with_received_at(at);
    let table = &w.districts[w.district_pick.sample(rng)];
    let address = if table.streets.is_empty() || rng.next_f64() < 0.3 {
        table.name.clone()
    } else {
        let (street, _) = &table.streets[rng.below(table.streets.len())];
        format!("{}{street}", table.name)
    };
    t = t.with_address(address);
    (at, t)
}

/// One category's phrasings on the enterprise line and its share (per
/// mille of the line).
pub(super) struct Kind {
    /// The category the phrasings are written for: only the tests read it
    /// (they check the phrasings classify so).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) code: &'static str,
    pub(super) weight: u32,
    pub(super) phrases: &'static [&'static str],
}

/// Openings that add no keyword: who is calling.
const OPENINGS: &[&str] = &[
    "",
    "",
    "您好，我们是一家科技公司，",
    "你好，我是公司的财务，",
    "领导好，我们是一家制造业小公司，",
    "您好，我是公司行政，",
    "喂，你好，",
];

#[rustfmt::skip]
pub(super) const KINDS: &[Kind] = &[
    Kind { code: "enterprise.financing", weight: 150, phrases: &["公司流动资金紧张，想申请一笔信用贷款，银行说没有抵押不给批", "我们的贷款下个月到期，银行突然说不续贷了，想请金融办帮忙协调", "想了解一下知识产权质押融资和贷款贴息怎么申请", "公司在准备北交所上市，想咨询区里的上市培育和奖励政策"] },
    Kind { code: "enterprise.permits", weight: 140, phrases: &["食品经营许可证申请交上去二十天了还没有批下来", "施工许可证办了三个月，材料补正了好几次", "建筑业企业资质延续申请被退回了，不知道缺什么材料", "排污许可证快到期了，延续申请在系统里一直提交不了"] },
    Kind { code: "enterprise.market_access", weight: 140, phrases: &["想在营业执照的经营范围里增加一项，网上变更登记被驳回了", "公司被列入经营异常名录了，年报已经补报，怎么移出", "公司要从朝阳迁到海淀，跨区迁移登记怎么办理", "想办理企业简易注销，需要准备哪些材料"] },
    Kind { code: "enterprise.tax", weight: 140, phrases: &["出口退税申报三个多月了还没有退下来", "增值税专用发票的额度不够用，申请增量一直没批", "留抵退税申请被退回，说要补充资料", "研发费用加计扣除被税务局调减了，想问问口径"] },
    Kind { code: "enterprise.talent", weight: 130, phrases: &["今年招的几个应届博士想申请人才引进落户，指标不够", "给员工办的工作居住证审核了一个多月还没通过", "公司新成立，员工社保开户在哪里办理", "一线技术工人招不到，区里有没有用工对接的服务"] },
    Kind { code: "enterprise.sites", weight: 80, phrases: &["公司要扩产，需要找两千平米的标准厂房，园区都说没有空余", "房东要涨租三成，想找租金合理的办公场地", "项目用地的规划条件一直没批，项目开不了工", "园区运营方不兑现合同里的免租期，还要涨租金"] },
    Kind { code: "enterprise.policy", weight: 120, phrases: &["区里承诺的专精特新奖励资金一年了还没有兑现", "想咨询今年有哪些惠企政策，小微企业能申请什么补贴", "项目验收两年了，政府拖欠企业账款一直不给", "涉企检查太多，一年里被各部门检查了十几次"] },
    Kind { code: "enterprise.tech_resources", weight: 60, phrases: &["我们药企需要一批荷瘤小鼠做药效实验，想请科委帮忙对接实验动物资源", "想用高校的大型科研仪器做检测，怎么预约机时", "新材料要做中试放大，北京有没有对企业开放的中试平台", "产品需要做第三方检测，检测机构排队太久了"] },
    // Companies report ordinary problems too; these route as usual.
    Kind { code: "transport.roads", weight: 15, phrases: &["公司门口的道路坑坑洼洼的，大货车进出很危险，请尽快修路", "园区外面的道路坑洼不平，下雨全是积水，车辆进出很危险"] },
    Kind { code: "utilities.power", weight: 10, phrases: &["我们公司所在的园区从早上开始停电，到现在还没来电"] },
    Kind { code: "market.regulation", weight: 10, phrases: &["我们的注册商标被外地企业仿冒，网上大量卖假货，请市场监管部门查处"] },
    Kind { code: "env.noise", weight: 5, phrases: &["公司办公楼旁边的工地每天晚上十一点以后还在打桩，噪音太大了"] },
];
