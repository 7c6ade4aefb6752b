//! The report's charts, drawn with `plotters`' SVG backend.
//!
//! plotters lays text out with a crude estimate (it cannot know the
//! browser's font), so label areas are sized here by character count, and
//! the page's CSS gives every chart's text the Chinese font stack.

use jiff::civil::{Date, Weekday};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const BAR: RGBColor = RGBColor(0x2b, 0x6c, 0xb0);
const WEEKEND: RGBColor = RGBColor(0x90, 0xb8, 0xe0);
const PREVIOUS: RGBColor = RGBColor(0xd9, 0x5f, 0x0e);
const AXIS: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// The font family plotters writes; the page's CSS replaces it.
const FONT: &str = "sans-serif";

/// A chart could not be drawn; the page shows the message instead.
fn failed(width: u32, height: u32, e: impl std::fmt::Display) -> String {
    format!(
        r#"<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}"><text x="10" y="24">chart unavailable: {}</text></svg>"#,
        super::html::escape(&e.to_string())
    )
}

/// Tickets per day as bars (weekends lighter), with the previous month's
/// daily mean as a dashed line when known.
pub(super) fn daily(days: &[(Date, u32)], previous_mean: Option<f64>) -> String {
    let (width, height) = (960, 300);
    let mut svg = String::new();
    match draw_daily(&mut svg, (width, height), days, previous_mean) {
        Ok(()) => svg,
        Err(e) => failed(width, height, e),
    }
}

type Drawn = Result<(), Box<dyn std::error::Error>>;

fn draw_daily(
    svg: &mut String,
    (width, height): (u32, u32),
    days: &[(Date, u32)],
    previous_mean: Option<f64>,
) -> Drawn {
    {
        let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = days.len().max(1) as f64;
        let top = days
            .iter()
            .map(|(_, v)| f64::from(*v))
            .chain(previous_mean)
            .fold(1.0, f64::max)
            * 1.12;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(12)
            .margin_right(20)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..n + 0.5, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(days.len())
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .y_labels(6)
            .y_label_formatter(&|y| format!("{}", y.round() as i64))
            .label_style((FONT, 14).into_font().color(&AXIS))
            .draw()?;
        chart.draw_series(days.iter().enumerate().map(|(i, (date, v))| {
            let x = i as f64 + 1.0;
            let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
            let colour = if weekend { WEEKEND } else { BAR };
            Rectangle::new(
                [(x - 0.38, 0.0), (x + 0.38, f64::from(*v))],
                colour.filled(),
            )
        }))?;
        if let Some(mean) = previous_mean {
            chart.draw_series(DashedLineSeries::new(
                [(0.5, mean), (n + 0.5, mean)],
                8,
                5,
                PREVIOUS.stroke_width(2),
            ))?;
        }
        root.present()?;
    }
    Ok(())
}

/// Horizontal bars, one per `(label, value, previous)`, busiest on top;
/// the previous month's value, when known, as a thin orange tick.
pub(super) fn bars(rows: &[(String, u32, Option<u32>)], width: u32) -> String {
    let height = 40 + 26 * rows.len().max(1) as u32;
    let label_chars = rows
        .iter()
        .map(|(l, ..)| l.chars().count())
        .max()
        .unwrap_or(4);
    let mut svg = String::new();
    match draw_bars(&mut svg, (width, height), rows, label_chars) {
        Ok(()) => svg,
        Err(e) => failed(width, height, e),
    }
}

fn draw_bars(
    svg: &mut String,
    (width, height): (u32, u32),
    rows: &[(String, u32, Option<u32>)],
    label_chars: usize,
) -> Drawn {
    {
        let root = SVGBackend::with_string(svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = rows.len().max(1) as f64;
        let top = rows
            .iter()
            .flat_map(|(_, v, p)| [f64::from(*v), f64::from(p.unwrap_or(0))])
            .fold(1.0, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .margin_top(8)
            .margin_right(24)
            .x_label_area_size(28)
            .y_label_area_size(16 + 15 * label_chars as u32)
            .build_cartesian_2d(0.0..top, 0.0..n)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .axis_style(AXIS)
            .x_labels(5)
            .x_label_formatter(&|x| format!("{}", x.round() as i64))
            .y_labels(0)
            .label_style((FONT, 14).into_font().color(&AXIS))
            .draw()?;
        // Labels are drawn by hand, beside each bar's middle: plotters'
        // key points need not fall there.
        let area = chart.plotting_area();
        for (i, (name, v, previous)) in rows.iter().enumerate() {
            let y0 = n - i as f64 - 1.0;
            area.draw(&Rectangle::new(
                [(0.0, y0 + 0.18), (f64::from(*v), y0 + 0.82)],
                BAR.filled(),
            ))?;
            area.draw(&Text::new(
                v.to_string(),
                (f64::from(*v) + top * 0.01, y0 + 0.5),
                (FONT, 13)
                    .into_font()
                    .color(&AXIS)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
            if let Some(p) = previous {
                area.draw(&PathElement::new(
                    [(f64::from(*p), y0 + 0.08), (f64::from(*p), y0 + 0.92)],
                    PREVIOUS.stroke_width(3),
                ))?;
            }
            let (px, py) = chart.backend_coord(&(0.0, y0 + 0.5));
            root.draw(&Text::new(
                name.clone(),
                (px - 8, py),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
        }
        root.present()?;
    }
    Ok(())
}
