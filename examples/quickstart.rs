//! A dozen realistic tickets routed with the embedded Beijing data.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Each ticket is printed with its decision: category, jurisdiction, agency,
//! priority, deadline, language service, and the reasons behind it.

use hotline_router::{Channel, Crs, Router, Ticket};

fn main() {
    let started = std::time::Instant::now();
    let router = Router::beijing();
    println!(
        "Built the Beijing router in {:.1} ms: {} categories, {} districts, {} streets, {} communities, {} agencies, {} sample buildings (一楼一码).\n",
        started.elapsed().as_secs_f64() * 1e3,
        router.categories().len(),
        router.jurisdictions().districts().len(),
        router.jurisdictions().streets().len(),
        router.jurisdictions().communities().len(),
        router.rules().agencies().len(),
        router.buildings().len(),
    );
    let at = "2024-11-20T08:30:00+08:00".parse().expect("a valid time");
    let tickets = vec![
        Ticket::new(
            "BJ-001",
            "家里暖气片一直不热，屋里才十五度，老人孩子都冻感冒了",
        )
        .with_address("朝阳区呼家楼街道东大桥社区"),
        Ticket::new("BJ-002", "楼道里一股煤气味，怀疑燃气泄漏，请马上派人来")
            .with_coordinates(116.3254, 39.9931, Crs::Gcj02)
            .with_channel(Channel::App),
        Ticket::new("BJ-003", "小区旧改什么时候开始？说了两年了还没动静").with_address("西城区"),
        Ticket::new(
            "BJ-004",
            "有辆车堵在我家门口一上午了，打电话也不接，麻烦帮忙挪车",
        )
        .with_address("海淀区学院路街道"),
        Ticket::new("BJ-005", "楼上每天晚上十二点还在装修，电钻声音吵得睡不着").with_coordinates(
            116.4074,
            39.9042,
            Crs::Wgs84,
        ),
        Ticket::new("BJ-006", "公司拖欠我们三个月工资，老板一直躲着不见人").with_address("通州区"),
        Ticket::new(
            "BJ-007",
            "My residence permit expires next month, where do I apply for an extension?",
        )
        .with_channel(Channel::Web),
        Ticket::new(
            "BJ-008",
            "J'ai perdu ma valise à l'aéroport de Pékin-Daxing hier soir.",
        ),
        Ticket::new("BJ-009", "小区里垃圾好几天没人清了，味道很大").with_address("昌平区太平庄"),
        Ticket::new("BJ-010", "我们企业想了解一下高新技术企业认定的惠企政策")
            .with_address("大兴区北京经济技术开发区")
            .with_channel(Channel::Enterprise),
        // Scanned from the QR code on the building (一楼一码): located by its code.
        Ticket::new("BJ-011", "电梯突然停了，有人被困在里面，快来人")
            .with_coordinates(116.4716, 39.9142, Crs::Bd09)
            .with_channel(Channel::Qr)
            .with_building("110105003050-03"),
        Ticket::new(
            "BJ-012",
            "Gostaria de saber como renovar o meu visto de trabalho.",
        ),
    ];
    for ticket in tickets {
        let ticket = ticket.with_received_at(at);
        println!("── {} ── {}", ticket.id, ticket.text);
        match router.route(&ticket) {
            Ok(d) => {
                let j = router.jurisdictions();
                let place = match (d.location().district(), d.location().street()) {
                    (_, Some(s)) => format!(
                        "{} {}",
                        j.district(j.street(s).district()).name(),
                        j.street(s).name()
                    ),
                    (Some(dist), None) => j.district(dist).name().to_string(),
                    (None, None) => "unknown".to_string(),
                };
                let agency = router.rules().agency(d.agency());
                println!(
                    "   {} → {} ({}) | {} | {} | deadline {} | {} {}",
                    d.category().name(),
                    agency.code(),
                    agency.name(),
                    place,
                    d.priority().as_str(),
                    d.deadline_local(),
                    d.language().code(),
                    d.language().service().as_str(),
                );
                for reason in d.explain() {
                    println!("     · {reason}");
                }
            }
            Err(e) => println!("   error: {e}"),
        }
        println!();
    }
}
