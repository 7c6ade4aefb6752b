//! Scans of the registry's QR codes (一楼一码) in the generated stream.
//!
//! Of the QR-channel tickets the generator makes (coordinates only, no
//! address), [`SHARE`] carry the code of a building of the router's registry
//! — the sample registry with [`Router::beijing`](crate::Router::beijing) —
//! with a problem a resident reports from a stairwell (the lift, a leak,
//! the stairwell light …) and the phone's position a few metres from the
//! building. The choice is drawn from its own stream, seeded from the seed,
//! the day and the item: every other item is exactly what it was before
//! building codes were added, and the shares of coordinates, addresses,
//! channels and languages do not move.

use super::{Kind, Workload, ENDINGS, OPENINGS};
use crate::locate::buildings::BuildingId;
use crate::locate::crs::{gcj02_to_bd09, wgs84_to_gcj02};
use crate::rng::SplitMix64;
use crate::{Coordinates, Crs, Ticket};

/// The share of generated QR-channel tickets that scan a registry building:
/// with the 49 sample buildings and 70,000 tickets a day, about 150 scans,
/// three a building.
pub(super) const SHARE: f64 = 0.03;

/// What residents report from a building's QR code, by category.
#[rustfmt::skip]
pub(super) const KINDS: &[Kind] = &[
    Kind { code: "housing.elevator", weight: 30, phrases: &["楼里电梯又坏了，老人上下楼太难了", "电梯门关不上，一直在报警", "电梯运行的时候异响很大，大家都不敢坐"] },
    Kind { code: "housing.repair", weight: 25, phrases: &["顶楼漏水，一下雨屋里全是水", "楼道墙皮脱落，掉下来差点砸到人", "楼上漏水，我家天花板都泡坏了"] },
    Kind { code: "housing.property", weight: 20, phrases: &["楼道的声控灯坏了，跟物业报修三次都没人管", "物业服务太差，楼道好久没人打扫了", "物业费收了，楼里的事一件也不管"] },
    Kind { code: "utilities.water", weight: 10, phrases: &["楼里停水一天了，也没有通知", "家里自来水发黄，还有异味"] },
    Kind { code: "heating", weight: 8, phrases: &["这栋楼的暖气一直不热，屋里才十几度"] },
    Kind { code: "fire.safety", weight: 7, phrases: &["有人在楼道里给电动车充电，私拉电线，有火灾隐患", "楼道堆满杂物，消防通道都堵死了"] },
];

/// Makes `t` (item `i` of day `day`, a QR-channel ticket with coordinates
/// only) a scan of a registry building, for [`SHARE`] of such tickets.
pub(super) fn scan(w: &Workload, day: u32, i: usize, t: &mut Ticket) {
    let registry = w.router.buildings();
    let Some(crs) = t.coordinates.map(|c| c.crs) else {
        return;
    };
    if registry.is_empty() {
        return;
    }
    let mut rng =
        SplitMix64::new(w.seed ^ 0x51C0_DE5C_A115_0000 ^ (u64::from(day) << 32) ^ i as u64);
    if rng.next_f64() >= SHARE {
        return;
    }
    let b = registry.building(BuildingId(rng.below(registry.len()) as u32));
    let total: u32 = KINDS.iter().map(|k| k.weight).sum();
    let mut pick = rng.below(total as usize) as u32;
    let mut kind = &KINDS[0];
    for k in KINDS {
        if pick < k.weight {
            kind = k;
            break;
        }
        pick -= k.weight;
    }
    let phrase = kind.phrases[rng.below(kind.phrases.len())];
    let opening = OPENINGS[rng.below(OPENINGS.len())];
    let ending = ENDINGS[rng.below(ENDINGS.len())];
    t.text = format!("{opening}{phrase}{ending}");
    // The phone a few metres from the building (±0.0002° ≈ 20 m), kept in
    // the building's district; the building's own point otherwise.
    let district = b.district().as_usize();
    let jitter = |rng: &mut SplitMix64| (rng.next_f64() - 0.5) * 0.0004;
    let (mut lon, mut lat) = (b.lon() + jitter(&mut rng), b.lat() + jitter(&mut rng));
    if !w.lands_in(lon, lat, district) {
        (lon, lat) = (b.lon(), b.lat());
    }
    let (x, y) = match crs {
        Crs::Wgs84 => (lon, lat),
        Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
        Crs::Bd09 => {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            gcj02_to_bd09(x, y)
        }
    };
    t.coordinates = Some(Coordinates::new(x, y, crs));
    t.building = Some(b.code().to_string());
}
