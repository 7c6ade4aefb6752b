//! The district map: polygons as SVG paths, filled by volume.
//!
//! Longitude and latitude are projected equirectangularly, longitude
//! scaled by the cosine of the map's middle latitude so that shapes keep
//! their proportions at Beijing's 40°N (a degree of longitude is 0.77 of a
//! degree of latitude there), then fitted to the view box. The fill runs
//! along a light-yellow-to-dark-red scale (ColorBrewer's YlOrRd, whose
//! lightness falls monotonically) linearly from the quietest district's
//! volume to the busiest's, so the busiest district is the darkest.

use std::fmt::Write;

use super::html::escape;
use crate::Region;

/// YlOrRd, light to dark.
const SCALE: [(u8, u8, u8); 9] = [
    (0xff, 0xff, 0xcc),
    (0xff, 0xed, 0xa0),
    (0xfe, 0xd9, 0x76),
    (0xfe, 0xb2, 0x4c),
    (0xfd, 0x8d, 0x3c),
    (0xfc, 0x4e, 0x2a),
    (0xe3, 0x1a, 0x1c),
    (0xbd, 0x00, 0x26),
    (0x80, 0x00, 0x26),
];

const WIDTH: f64 = 600.0;
const PAD: f64 = 16.0;
/// Room below the map for the legend.
const LEGEND: f64 = 64.0;

/// One district to draw.
pub(crate) struct Area<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub volume: u32,
    pub region: &'a Region,
}

/// The colour of `t` in 0–1 along the scale, as `#rrggbb`.
pub(super) fn colour(t: f64) -> String {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (SCALE.len() - 1) as f64;
    let i = (x.floor() as usize).min(SCALE.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (SCALE[i], SCALE[i + 1]);
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(a.0, b.0),
        mix(a.1, b.1),
        mix(a.2, b.2)
    )
}

struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    scale: f64,
}

impl Projection {
    fn fit(areas: &[Area<'_>]) -> (Projection, f64) {
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for a in areas {
            let b = a.region.bbox();
            bbox = [
                bbox[0].min(b[0]),
                bbox[1].min(b[1]),
                bbox[2].max(b[2]),
                bbox[3].max(b[3]),
            ];
        }
        let k = ((bbox[1] + bbox[3]) / 2.0).to_radians().cos().max(0.05);
        let w = ((bbox[2] - bbox[0]) * k).max(1e-9);
        let h = (bbox[3] - bbox[1]).max(1e-9);
        let scale = (WIDTH - 2.0 * PAD) / w;
        let height = (h * scale).min(WIDTH * 1.5) + 2.0 * PAD;
        let scale = scale.min((height - 2.0 * PAD) / h);
        (
            Projection {
                lon0: bbox[0],
                lat1: bbox[3],
                k,
                scale,
            },
            height,
        )
    }

    fn xy(&self, p: [f64; 2]) -> (f64, f64) {
        (
            PAD + (p[0] - self.lon0) * self.k * self.scale,
            PAD + (self.lat1 - p[1]) * self.scale,
        )
    }
}

/// The path data of a region, dropping vertices closer than 0.4 px to the
/// previous one kept (the page does not need them).
fn path(region: &Region, proj: &Projection) -> String {
    let mut d = String::new();
    for ring in region.rings() {
        let mut last: Option<(f64, f64)> = None;
        let mut kept = 0;
        for &p in ring {
            let (x, y) = proj.xy(p);
            if last.is_some_and(|(lx, ly)| (x - lx).hypot(y - ly) < 0.4) {
                continue;
            }
            let _ = write!(d, "{}{x:.1},{y:.1}", if kept == 0 { "M" } else { "L" });
            last = Some((x, y));
            kept += 1;
        }
        if kept > 0 {
            d.push('Z');
        }
    }
    d
}

/// Where to write a district's name: the area-weighted centroid of its
/// largest polygon's outline.
fn anchor(region: &Region, proj: &Projection) -> (f64, f64, f64) {
    let mut best = (0.0, 0.0, 0.0);
    for polygon in region.polygons() {
        let ring: Vec<(f64, f64)> = polygon.exterior().iter().map(|&p| proj.xy(p)).collect();
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for (i, p) in ring.iter().enumerate() {
            let q = ring[(i + 1) % ring.len()];
            let cross = p.0 * q.1 - q.0 * p.1;
            a += cross;
            cx += (p.0 + q.0) * cross;
            cy += (p.1 + q.1) * cross;
        }
        if a.abs() > best.2 {
            best = (cx / (3.0 * a), cy / (3.0 * a), a.abs() / 2.0);
        }
    }
    best
}

/// The map as an SVG element; each district one `<path id="d-CODE">`.
pub(crate) fn map(areas: &[Area<'_>]) -> String {
    if areas.is_empty() {
        return String::new();
    }
    let (proj, height) = Projection::fit(areas);
    let total_height = height + LEGEND;
    let lo = areas.iter().map(|a| a.volume).min().unwrap_or(0);
    let hi = areas.iter().map(|a| a.volume).max().unwrap_or(0);
    let t = |v: u32| {
        if hi > lo {
            f64::from(v - lo) / f64::from(hi - lo)
        } else {
            0.5
        }
    };
    let mut svg = format!(
        r#"<svg class="map" width="{WIDTH}" height="{total_height:.0}" viewBox="0 0 {WIDTH} {total_height:.0}" role="img" aria-label="各区工单量地图">"#
    );
    svg.push_str(r##"<defs><linearGradient id="map-scale" x1="0" x2="1" y1="0" y2="0">"##);
    for (i, c) in SCALE.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<stop offset="{:.3}" stop-color="#{:02x}{:02x}{:02x}"/>"##,
            i as f64 / (SCALE.len() - 1) as f64,
            c.0,
            c.1,
            c.2
        );
    }
    svg.push_str("</linearGradient></defs>");
    for a in areas {
        let _ = write!(
            svg,
            r##"<path id="d-{code}" class="district" fill="{fill}" fill-rule="evenodd" stroke="#ffffff" stroke-width="1.2" d="{d}"><title>{name}：{v} 件</title></path>"##,
            code = escape(a.code),
            fill = colour(t(a.volume)),
            d = path(a.region, &proj),
            name = escape(a.name),
            v = a.volume,
        );
    }
    labels(&mut svg, areas, &proj, t);
    legend(&mut svg, height, lo, hi);
    svg.push_str("</svg>");
    svg
}

/// Names and volumes, biggest districts first; a label that would overlap
/// one already placed moves to the nearest free spot around its anchor
/// (8 directions, growing distance), with a leader line back to it.
fn labels(svg: &mut String, areas: &[Area<'_>], proj: &Projection, t: impl Fn(u32) -> f64) {
    let mut order: Vec<(usize, (f64, f64, f64))> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| (i, anchor(a.region, proj)))
        .collect();
    order.sort_by(|a, b| b.1 .2.total_cmp(&a.1 .2));
    let mut placed: Vec<[f64; 4]> = Vec::new();
    for (i, (x, y, _)) in order {
        let a = &areas[i];
        let (w, h) = (13.0 * a.name.chars().count() as f64 + 4.0, 28.0);
        let free = |cx: f64, cy: f64| {
            !placed.iter().any(|b| {
                cx - w / 2.0 < b[2]
                    && b[0] < cx + w / 2.0
                    && cy - h / 2.0 < b[3]
                    && b[1] < cy + h / 2.0
            })
        };
        let spot = std::iter::once((x, y))
            .chain((1..=8).flat_map(|step| {
                let r = 14.0 * f64::from(step);
                (0..8).map(move |k| {
                    let angle = std::f64::consts::FRAC_PI_4 * f64::from(k);
                    (x + r * 1.6 * angle.cos(), y + r * angle.sin())
                })
            }))
            .find(|&(cx, cy)| free(cx, cy))
            .unwrap_or((x, y));
        let (lx, ly) = spot;
        if (lx - x).hypot(ly - y) > 0.5 {
            // From the anchor to the nearest point of the label's box.
            let ex = x.clamp(lx - w / 2.0, lx + w / 2.0);
            let ey = y.clamp(ly - h / 2.0, ly + h / 2.0);
            let _ = write!(
                svg,
                r##"<line x1="{x:.1}" y1="{y:.1}" x2="{ex:.1}" y2="{ey:.1}" stroke="#333333" stroke-width="0.8"/><circle cx="{x:.1}" cy="{y:.1}" r="2" fill="#333333"/>"##
            );
        }
        placed.push([lx - w / 2.0, ly - h / 2.0, lx + w / 2.0, ly + h / 2.0]);
        // Moved labels sit on other districts: dark ink on a white halo.
        let dark = t(a.volume) > 0.55 && spot == (x, y);
        let (ink, halo) = if dark {
            ("#ffffff", "#5a0018")
        } else {
            ("#1a1a1a", "#ffffff")
        };
        let _ = write!(
            svg,
            r##"<text class="map-label" x="{lx:.1}" y="{:.1}" text-anchor="middle" font-size="13" fill="{ink}" stroke="{halo}" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{}</text><text class="map-label" x="{lx:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="{ink}" stroke="{halo}" stroke-width="3" stroke-linejoin="round" paint-order="stroke">{}</text>"##,
            ly - 1.0,
            escape(a.name),
            ly + 12.0,
            a.volume
        );
    }
}

fn legend(svg: &mut String, top: f64, lo: u32, hi: u32) {
    let (x, y, w, h) = (PAD + 40.0, top + 12.0, 320.0, 14.0);
    let _ = write!(
        svg,
        r##"<text x="{PAD}" y="{:.1}" font-size="12" fill="#333333">工单量</text><rect x="{x}" y="{y:.1}" width="{w}" height="{h}" fill="url(#map-scale)" stroke="#999999" stroke-width="0.5"/>"##,
        y + 11.0
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let v = f64::from(lo) + (f64::from(hi) - f64::from(lo)) * f;
        let tx = x + w * f;
        let _ = write!(
            svg,
            r##"<line x1="{tx:.1}" y1="{:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#666666"/><text x="{tx:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#333333">{}</text>"##,
            y + h,
            y + h + 4.0,
            y + h + 17.0,
            v.round() as i64
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_darkens_monotonically() {
        let lum = |c: &str| {
            let v = u32::from_str_radix(&c[1..], 16).unwrap();
            let (r, g, b) = ((v >> 16) & 255, (v >> 8) & 255, v & 255);
            0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
        };
        let steps: Vec<f64> = (0..=100)
            .map(|i| lum(&colour(f64::from(i) / 100.0)))
            .collect();
        assert!(steps.windows(2).all(|w| w[1] <= w[0]), "{steps:?}");
        assert_eq!(colour(0.0), "#ffffcc");
        assert_eq!(colour(1.0), "#800026");
        assert_eq!(colour(f64::NAN), "#ffffcc");
    }
}
