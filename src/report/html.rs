//! The page: HTML with inline CSS and inline SVG, nothing to fetch.

use std::fmt::Write;

use super::map::{self, Area};
use super::{chart, Report};
use crate::analytics::governance::{
    GovernanceConfig, GovernanceList, RankedBy, StreetRow as GovRow,
};
use crate::analytics::topics::{Candidate, Weights};
use crate::evaluate::Rates;

/// Candidates shown.
const TOPICS_SHOWN: usize = 10;
/// Incidents shown.
const INCIDENTS_SHOWN: usize = 20;
/// Alerts shown.
const ALERTS_SHOWN: usize = 30;
/// Categories in the chart.
const CATEGORIES_CHARTED: usize = 12;

const CSS: &str = r#"
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --accent:#2b6cb0; --bad:#c53030; --good:#2f855a; }
* { box-sizing: border-box; }
body { margin:0; background:#f5f7fa; color:var(--ink);
  font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif; font-size:15px; line-height:1.55; }
svg text { font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif; }
main { max-width:1120px; margin:0 auto; padding:24px 20px 48px; }
header h1 { font-size:26px; margin:0 0 4px; }
header p { margin:0; color:var(--muted); }
.kpis { display:flex; flex-wrap:wrap; gap:12px; margin:18px 0 6px; }
.kpi { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:150px; }
.kpi b { display:block; font-size:24px; }
.kpi span { color:var(--muted); font-size:13px; }
section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px; margin-top:18px; }
section h2 { font-size:19px; margin:0 0 10px; border-left:4px solid var(--accent); padding-left:10px; }
section p.note { color:var(--muted); font-size:13px; margin:6px 0; }
.grid { display:grid; grid-template-columns:1fr 1fr; gap:16px; }
.grid > div { min-width:0; }
h3 { font-size:15px; margin:4px 0 6px; color:var(--muted); }
svg { max-width:100%; height:auto; }
table { border-collapse:collapse; width:100%; font-size:14px; }
th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { background:#f0f4f8; font-weight:600; white-space:nowrap; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.up { color:var(--bad); } .down { color:var(--good); }
.tag { display:inline-block; font-size:12px; padding:0 6px; border-radius:4px; margin:1px 2px; white-space:nowrap; }
.tag.pick { background:#fde8e8; color:var(--bad); border:1px solid #f8b4b4; }
.tag.flag { background:#fff5e6; color:#9c4221; border:1px solid #fbd38d; }
.ids { font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12px; color:var(--muted); }
.stack { display:flex; width:160px; height:12px; border-radius:3px; overflow:hidden; background:#edf2f7; margin-top:3px; }
.stack i { display:block; height:100%; }
.legend i { display:inline-block; width:10px; height:10px; margin:0 3px 0 10px; border-radius:2px; }
.map-wrap { display:grid; grid-template-columns:minmax(0,3fr) minmax(0,2fr); gap:16px; align-items:start; }
.none { color:var(--muted); font-style:italic; }
ul.bad { margin:4px 0; padding-left:20px; font-size:13px; color:var(--muted); }
"#;

/// The score parts' colours, in the order of the breakdown bar.
const PARTS: [(&str, &str); 5] = [
    ("量", "#2b6cb0"),
    ("持续", "#805ad5"),
    ("增长", "#dd6b20"),
    ("分布", "#38a169"),
    ("难度", "#c53030"),
];

/// `text` with HTML's special characters escaped.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// `+12.5%` (more tickets: red) or `−8.0%` (fewer: green).
fn change(now: u32, before: Option<u32>) -> String {
    match before {
        Some(b) if b > 0 => {
            let c = f64::from(now) / f64::from(b) - 1.0;
            let class = if c > 0.0 { "up" } else { "down" };
            format!(r#"<span class="{class}">{:+.1}%</span>"#, c * 100.0)
        }
        Some(_) if now > 0 => r#"<span class="up">新增</span>"#.to_string(),
        _ => "—".to_string(),
    }
}

/// An SVG from plotters, made fit for inline HTML: the namespace
/// declaration (a URI, but still an address in the page) is not needed
/// there.
fn inline_svg(svg: &str) -> String {
    svg.replace(r#" xmlns="http://www.w3.org/2000/svg""#, "")
}

fn none(out: &mut String, text: &str) {
    let _ = write!(out, r#"<p class="none">{}</p>"#, escape(text));
}

pub(super) fn page(r: &Report) -> String {
    let mut out = String::with_capacity(256 * 1024);
    let month = r.month.map_or_else(|| "—".to_string(), |m| m.to_string());
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} {month}</title><style>{CSS}</style></head><body><main>"#,
        title = escape(&r.title),
    );
    header(&mut out, r, &month);
    if r.total == 0 {
        none(&mut out, "所选月份没有工单。");
    }
    map_section(&mut out, r);
    daily_section(&mut out, r);
    categories_section(&mut out, r);
    streets_section(&mut out, r);
    topics_section(&mut out, r);
    governance_section(&mut out, r);
    rates_section(&mut out, r);
    incidents_section(&mut out, r);
    alerts_section(&mut out, r);
    input_section(&mut out, r);
    out.push_str("</main></body></html>\n");
    out
}

fn header(out: &mut String, r: &Report, month: &str) {
    let busiest = r
        .days
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
    let _ = write!(
        out,
        r#"<header><h1>{}</h1><p>统计月份 {month}（UTC{}）· 由 hotline-router 根据工单数据生成</p></header><div class="kpis"><div class="kpi"><b>{}</b><span>本月工单 · 环比 {}</span></div><div class="kpi"><b>{:.0}</b><span>日均工单</span></div><div class="kpi"><b>{}</b><span>最忙的一天</span></div><div class="kpi"><b>{}</b><span>涉及街乡镇</span></div></div>"#,
        escape(&r.title),
        escape(
            &r.router
                .time_zone()
                .to_offset(jiff::Timestamp::UNIX_EPOCH)
                .to_string()
        ),
        r.total,
        change(r.total, r.previous_total),
        r.daily_mean,
        busiest
            .filter(|b| b.1 > 0)
            .map_or_else(|| "—".to_string(), |(d, n)| format!("{}日 {n}件", d.day())),
        r.governance.as_ref().map_or(0, |g| g.streets_with_tickets),
    );
}

fn map_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="map"><h2>各区工单量</h2>"#);
    let areas: Vec<Area<'_>> = r
        .districts
        .iter()
        .filter_map(|d| {
            let region = r.regions.iter().find(|(c, _)| *c == d.code)?;
            Some(Area {
                code: &d.code,
                name: &d.name,
                volume: d.volume,
                region: &region.1,
            })
        })
        .collect();
    out.push_str(r#"<div class="map-wrap"><div>"#);
    if areas.is_empty() {
        none(out, "没有区界数据，无法绘制地图。");
    } else {
        out.push_str(&map::map(&areas));
        out.push_str(r#"<p class="note">颜色越深工单越多（线性色阶，从最少的区到最多的区）。区名下方为本月工单数。</p>"#);
    }
    out.push_str(r#"</div><div><table><tr><th>区</th><th class="n">工单</th><th class="n">环比</th><th class="n">占比</th></tr>"#);
    for d in &r.districts {
        let share = if r.total > 0 {
            f64::from(d.volume) / f64::from(r.total)
        } else {
            0.0
        };
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{:.1}%</td></tr>"#,
            escape(&d.name),
            d.volume,
            change(d.volume, d.previous),
            share * 100.0
        );
    }
    if r.no_district > 0 {
        let _ = write!(
            out,
            r#"<tr><td>未能定位到区</td><td class="n">{}</td><td></td><td></td></tr>"#,
            r.no_district
        );
    }
    out.push_str("</table></div></div></section>");
}

fn daily_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="daily"><h2>每日工单量</h2>"#);
    if r.days.is_empty() {
        none(out, "没有工单。");
    } else {
        out.push_str(&inline_svg(&chart::daily(&r.days, r.previous_daily_mean)));
        let mut legend = r#"<p class="note legend"><i style="background:#2b6cb0"></i>工作日<i style="background:#90b8e0"></i>周末"#.to_string();
        if let Some(m) = r.previous_daily_mean {
            let _ = write!(
                legend,
                r#"<i style="background:#d95f0e"></i>上月日均 {m:.0} 件"#
            );
        }
        legend.push_str("</p>");
        out.push_str(&legend);
    }
    out.push_str("</section>");
}

fn categories_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="categories"><h2>诉求分类</h2>"#);
    if r.categories.is_empty() {
        none(out, "没有工单。");
        out.push_str("</section>");
        return;
    }
    let domains: Vec<(String, u32, Option<u32>)> = r
        .domains
        .iter()
        .map(|(n, v)| (n.clone(), *v, None))
        .collect();
    let top: Vec<(String, u32, Option<u32>)> = r
        .categories
        .iter()
        .take(CATEGORIES_CHARTED)
        .map(|c| (c.name.clone(), c.volume, c.previous))
        .collect();
    let _ = write!(
        out,
        r#"<div class="grid"><div><h3>一级分类（领域）</h3>{}</div><div><h3>前 {} 个类别</h3>{}</div></div><p class="note legend">橙色竖线：上月同类工单数。</p>"#,
        inline_svg(&chart::bars(&domains, 540)),
        top.len(),
        inline_svg(&chart::bars(&top, 540)),
    );
    out.push_str("</section>");
}

fn streets_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="streets"><h2>热点街乡镇</h2>"#);
    if r.streets.is_empty() {
        none(out, "没有定位到街乡镇的工单。");
    } else {
        out.push_str(r#"<table><tr><th>#</th><th>街乡镇</th><th>区</th><th class="n">工单</th><th class="n">环比</th><th>最多的诉求</th></tr>"#);
        for (i, s) in r.streets.iter().enumerate() {
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{}</td><td>{}（{:.0}%）</td></tr>"#,
                i + 1,
                escape(&s.name),
                escape(&s.district),
                s.volume,
                change(s.volume, s.previous),
                escape(&s.top_category),
                s.top_share * 100.0
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>");
}

fn topics_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="topics"><h2>每月一题 候选问题</h2>"#);
    out.push_str(r#"<p class="note">候选问题 = 类别 × 地点（街乡镇；同一问题分布在一个区的多个街乡镇时为全区）× 反复出现的表述。得分综合本月工单量、近几个月的持续性、环比增长、分布范围和办理难度（有办理记录时：未解决、不满意、退单）；量、持续性和难度占七成半权重。标“建议”的为连续出现、得分最高的前三个问题——与每月选 2–3 题、全年 13–27 题的做法相当。</p>"#);
    if r.topics.is_empty() {
        none(out, "没有候选问题。");
        out.push_str("</section>");
        return;
    }
    out.push_str(r#"<p class="note legend">得分构成："#);
    for (name, colour) in PARTS {
        let _ = write!(out, r#"<i style="background:{colour}"></i>{name}"#);
    }
    out.push_str(r#"</p><table><tr><th>#</th><th>问题</th><th class="n">本月</th><th>近几月</th><th class="n">持续</th><th class="n">街乡镇</th>"#);
    if r.with_records {
        out.push_str(r#"<th class="n">解决率</th><th class="n">满意率</th>"#);
    }
    out.push_str(r#"<th>得分</th><th>示例工单</th></tr>"#);
    for (i, c) in r.topics.iter().take(TOPICS_SHOWN).enumerate() {
        topic_row(out, i + 1, c, r.with_records, &r.weights);
    }
    out.push_str("</table></section>");
}

fn topic_row(out: &mut String, rank: usize, c: &Candidate, with_records: bool, w: &Weights) {
    let history: Vec<String> = c
        .history
        .iter()
        .chain(std::iter::once(&Some(c.volume)))
        .map(|v| v.map_or_else(|| "—".to_string(), |v| v.to_string()))
        .collect();
    let pick = if c.suggested {
        r#" <span class="tag pick">建议</span>"#
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<tr><td>{rank}</td><td><b>{}</b>{pick}<br>{} · 「{}」</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}/{}</td><td class="n">{}</td>"#,
        escape(&c.place.name()),
        escape(&c.category_name),
        escape(&c.wording),
        c.volume,
        history.join(" → "),
        c.months_present,
        c.history.len() + 1,
        c.streets.max(1),
    );
    if with_records {
        let _ = write!(
            out,
            r#"<td class="n">{}</td><td class="n">{}</td>"#,
            pct(c.outcome.resolution_rate()),
            pct(c.outcome.satisfaction_rate())
        );
    }
    let s = &c.score;
    let parts = [
        s.volume * w.volume,
        s.persistence * w.persistence,
        s.growth * w.growth,
        s.spread * w.spread,
        s.difficulty.unwrap_or(0.0) * w.difficulty,
    ];
    let sum: f64 = parts.iter().sum::<f64>().max(1e-9);
    let _ = write!(out, r#"<td class="n">{:.2}<div class="stack">"#, s.total);
    for (p, (name, colour)) in parts.iter().zip(PARTS) {
        let _ = write!(
            out,
            r#"<i style="width:{:.1}%;background:{colour}" title="{name} {:.2}"></i>"#,
            p / sum * s.total * 100.0,
            p
        );
    }
    let _ = write!(
        out,
        r#"</div></td><td class="ids">{}</td></tr>"#,
        c.evidence
            .iter()
            .map(|id| escape(id))
            .collect::<Vec<_>>()
            .join("<br>")
    );
}

/// The 三率 as cells, a rate below the 治理类 threshold in red.
fn rates_cells(out: &mut String, rates: Option<&Rates>) {
    let t = GovernanceConfig::default();
    for (rate, threshold) in [
        (rates.and_then(Rates::response_rate), t.response),
        (rates.and_then(Rates::resolution_rate), t.resolution),
        (rates.and_then(Rates::satisfaction_rate), t.satisfaction),
    ] {
        let class = if rate.is_some_and(|r| r < threshold) {
            "n up"
        } else {
            "n"
        };
        let _ = write!(out, r#"<td class="{class}">{}</td>"#, pct(rate));
    }
}

fn governance_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="governance"><h2>治理类街乡镇</h2>"#);
    let Some(g) = r.governance.as_ref().filter(|g| !g.rows.is_empty()) else {
        none(out, "没有定位到街乡镇的工单。");
        out.push_str("</section>");
        return;
    };
    let rule = match g.ranked_by {
        RankedBy::PerCapita => format!(
            "按每万常住人口工单量排序（人口表覆盖的街乡镇；另有 {} 个有工单的街乡镇不在人口表中，未参与排序）。",
            g.without_population
        ),
        RankedBy::Volume => "按工单量排序（未提供街乡镇人口表；提供后按每万人工单量排序）。".to_string(),
    };
    let _ = write!(
        out,
        r#"<p class="note">{} 列出前 {} 名；有办理记录且回访不少于 10 件时，响应率低于 95%、解决率或满意率低于 80% 的标出。“上月”为上月名次。</p>"#,
        rule,
        g.rows.len()
    );
    gov_table(out, g, &g.rows, r.with_records);
    if !g.also_flagged.is_empty() {
        out.push_str("<h3>名单外、三率偏低的街乡镇</h3>");
        gov_table(out, g, &g.also_flagged, r.with_records);
    }
    out.push_str("</section>");
}

fn gov_table(out: &mut String, g: &GovernanceList, rows: &[GovRow], with_records: bool) {
    out.push_str(r#"<table><tr><th>名次</th><th>街乡镇</th><th>区</th><th class="n">工单</th>"#);
    if g.ranked_by == RankedBy::PerCapita {
        out.push_str(r#"<th class="n">人口</th><th class="n">每万人</th>"#);
    }
    out.push_str(r#"<th class="n">上月</th>"#);
    if with_records {
        out.push_str(
            r#"<th class="n">响应率</th><th class="n">解决率</th><th class="n">满意率</th>"#,
        );
    }
    out.push_str("<th>标记</th></tr>");
    for row in rows {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td>"#,
            row.rank,
            escape(&row.name),
            escape(&row.district),
            row.volume
        );
        if g.ranked_by == RankedBy::PerCapita {
            let _ = write!(
                out,
                r#"<td class="n">{}</td><td class="n">{}</td>"#,
                row.population.map_or_else(|| "—".into(), |p| p.to_string()),
                row.per_10k
                    .map_or_else(|| "—".into(), |p| format!("{p:.2}"))
            );
        }
        let _ = write!(
            out,
            r#"<td class="n">{}</td>"#,
            row.previous_rank
                .map_or_else(|| "—".into(), |p| p.to_string())
        );
        if with_records {
            rates_cells(out, row.rates.as_ref());
        }
        out.push_str("<td>");
        for f in &row.flags {
            let _ = write!(out, r#"<span class="tag flag">{}</span>"#, f.label());
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</table>");
}

fn rates_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="rates"><h2>三率（响应率、解决率、满意率）</h2>"#);
    if !r.with_records {
        none(out, "未提供办理记录，无法计算三率。");
        out.push_str("</section>");
        return;
    }
    out.push_str(r#"<p class="note">按回访结果计算：已回访工单中，回答“已联系”“已解决”“满意”的比例。</p><table><tr><th>区</th><th class="n">受理</th><th class="n">回访</th><th class="n">响应率</th><th class="n">解决率</th><th class="n">满意率</th><th class="n">按时办结</th></tr>"#);
    for d in r.districts.iter().filter(|d| d.rates.is_some()) {
        let rates = d.rates.as_ref();
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td>"#,
            escape(&d.name),
            rates.map_or(0, |x| x.received),
            rates.map_or(0, |x| x.evaluated)
        );
        rates_cells(out, rates);
        let _ = write!(
            out,
            r#"<td class="n">{}</td></tr>"#,
            pct(rates.and_then(Rates::on_time_rate))
        );
    }
    out.push_str("</table></section>");
}

fn place(r: &Report, district: Option<&str>, street: Option<&str>) -> String {
    let j = r.router.jurisdictions();
    let d = district.map(|c| j.district_id(c).map_or(c, |id| j.district(id).name()));
    let s = street.map(|c| j.street_id(c).map_or(c, |id| j.street(id).name()));
    escape(&[d, s].into_iter().flatten().collect::<Vec<_>>().join(" "))
}

fn category_name(r: &Report, code: &str) -> String {
    escape(
        r.router
            .category_id(code)
            .map_or(code, |id| r.router.category(id).name()),
    )
}

fn local(r: &Report, at: jiff::Timestamp) -> String {
    at.to_zoned(r.router.time_zone().clone())
        .strftime("%m-%d %H:%M")
        .to_string()
}

fn incidents_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="incidents"><h2>合并工单（同一事件多人来电）</h2>"#);
    if r.incidents.is_empty() {
        none(out, "本月无合并工单。");
        out.push_str("</section>");
        return;
    }
    let _ = write!(
        out,
        r#"<p class="note">本月 {} 个事件，按来电数列出前 {}。</p><table><tr><th>事件</th><th>类别</th><th>地点</th><th class="n">来电</th><th>首次</th><th>最近</th></tr>"#,
        r.incidents.len(),
        r.incidents.len().min(INCIDENTS_SHOWN)
    );
    for i in r.incidents.iter().take(INCIDENTS_SHOWN) {
        let _ = write!(
            out,
            r#"<tr><td class="ids">{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&i.incident),
            category_name(r, &i.category),
            place(r, i.district.as_deref(), i.street.as_deref()),
            i.size,
            local(r, i.first_at),
            local(r, i.last_at)
        );
    }
    out.push_str("</table></section>");
}

fn alerts_section(out: &mut String, r: &Report) {
    out.push_str(r#"<section id="alerts"><h2>异常预警（突增）</h2>"#);
    if r.alerts.is_empty() {
        none(out, "本月无预警。");
        out.push_str("</section>");
        return;
    }
    let _ = write!(
        out,
        r#"<p class="note">本月 {} 条预警{}。</p><table><tr><th>时间</th><th>类别</th><th>地点</th><th class="n">来电</th><th class="n">预期</th><th class="n">p 值</th></tr>"#,
        r.alerts.len(),
        if r.alerts.len() > ALERTS_SHOWN {
            format!("，列出前 {ALERTS_SHOWN} 条")
        } else {
            String::new()
        }
    );
    for a in r.alerts.iter().take(ALERTS_SHOWN) {
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td class="n">{}</td><td class="n">{:.1}</td><td class="n">{:.1e}</td></tr>"#,
            local(r, a.at),
            category_name(r, &a.category),
            place(r, a.district.as_deref(), a.street.as_deref()),
            a.count,
            a.expected,
            a.p_value
        );
    }
    out.push_str("</table></section>");
}

fn input_section(out: &mut String, r: &Report) {
    let i = &r.input;
    let _ = write!(
        out,
        r#"<section id="input"><h2>输入数据</h2><p class="note">计入 {} 件工单；{} 件没有受理时间（received_at）未计入；{} 件不在本月及回看月份内；{} 行无法使用。</p>"#,
        i.tickets, i.untimed, i.skipped, i.bad
    );
    if !i.bad_lines.is_empty() {
        out.push_str(r#"<ul class="bad">"#);
        for (line, why) in &i.bad_lines {
            let _ = write!(out, "<li>第 {line} 行：{}</li>", escape(why));
        }
        if i.bad > i.bad_lines.len() as u64 {
            let _ = write!(
                out,
                "<li>……另有 {} 行</li>",
                i.bad - i.bad_lines.len() as u64
            );
        }
        out.push_str("</ul>");
    }
    out.push_str("</section>");
}
