//! The chart of a run (`bench/ratios*.svg`): per workload, one bar per implementation with
//! its median ratio to raw JS and a min-max whisker.

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::results::{impl_label, workload_label, Results};

const COLORS: &[(&str, RGBColor)] = &[
    ("raw-js-await", RGBColor(0x86, 0x8e, 0x96)),
    ("wasm-websocket", RGBColor(0xd9, 0x48, 0x0f)),
    ("wasm-websocket-feed", RGBColor(0xf5, 0x9f, 0x00)),
    ("wasm-websocket-64m", RGBColor(0xe6, 0x49, 0x80)),
    ("wasm-websocket-reconnecting", RGBColor(0x9c, 0x36, 0xb5)),
    ("wasm-websocket-hook", RGBColor(0x0c, 0xa6, 0x78)),
    ("gloo-net", RGBColor(0x1c, 0x7e, 0xd6)),
    ("ws_stream_wasm", RGBColor(0x2f, 0x9e, 0x44)),
];

fn color_of(imp: &str) -> RGBColor {
    COLORS
        .iter()
        .find(|(k, _)| *k == imp)
        .map_or(RGBColor(0x86, 0x8e, 0x96), |(_, c)| *c)
}

/// Pixels per bar; each workload gets one bar per implementation and a gap of one bar.
const BAR: u32 = 12;

/// The chart as an SVG document.
pub fn render(results: &Results, title: &str) -> Result<String> {
    let impls = results.compared();
    let rows = &results.rows;
    // One band of `slots` per workload: a bar per implementation, then the gap.
    let slots = impls.len() + 1;
    let max = rows
        .iter()
        .flat_map(|r| impls.iter().filter_map(|i| r.ratio(i)));
    let max = max.map(|s| s.max).fold(1.25f64, f64::max).min(4.0);
    let scale_max = (max * 4.0).ceil() / 4.0;
    // Empty slots above the bands hold the legend (one line per series, about 1.3 slots).
    let legend = (impls.len() + 2) * 4 / 3 + 1;
    let height = 90 + (rows.len() * slots + legend) as u32 * BAR;

    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (860, height)).into_drawing_area();
        area.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(290)
            .build_cartesian_2d(
                0f64..scale_max,
                (0..rows.len() * slots + legend).into_segmented(),
            )
            .map_err(plot_error)?;
        // A band's label at its middle bar; the first workload at the top.
        let label = |slot: &SegmentValue<usize>| match slot {
            SegmentValue::CenterOf(s) if s % slots == slots / 2 => {
                let row = rows
                    .len()
                    .checked_sub(1 + s / slots)
                    .and_then(|i| rows.get(i));
                // Trailing spaces keep the label off the axis (no tick marks there).
                row.map_or(String::new(), |r| format!("{}   ", workload_label(&r.key)))
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(rows.len() * slots + legend)
            .set_tick_mark_size(LabelAreaPosition::Left, 0)
            .y_label_formatter(&label)
            .x_labels((scale_max * 4.0) as usize + 1)
            .x_label_formatter(&|x| format!("{x:.2}x"))
            .x_desc("speed relative to raw JS (higher is better)")
            .draw()
            .map_err(plot_error)?;
        // Slot of implementation `k` in workload `i`, counted from the bottom; slot 0 of each
        // band is the gap.
        let slot = |i: usize, k: usize| (rows.len() - 1 - i) * slots + (impls.len() - k);
        let y = |s: usize| SegmentValue::Exact(s);
        for (k, imp) in impls.iter().enumerate() {
            let color = color_of(imp);
            let bars = rows
                .iter()
                .enumerate()
                .filter_map(|(i, row)| Some((slot(i, k), row.ratio(imp)?)));
            let bars: Vec<_> = bars.collect();
            chart
                .draw_series(bars.iter().map(|(s, r)| {
                    Rectangle::new([(0.0, y(*s)), (r.median, y(s + 1))], color.filled())
                }))
                .map_err(plot_error)?
                .label(impl_label(imp))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
                });
            let centre = |s: usize| SegmentValue::CenterOf(s);
            chart
                .draw_series(bars.iter().map(|(s, r)| {
                    PathElement::new(
                        [(r.min, centre(*s)), (r.max, centre(*s))],
                        BLACK.stroke_width(1),
                    )
                }))
                .map_err(plot_error)?;
            chart
                .draw_series(bars.iter().map(|(s, r)| {
                    let at = (r.max.max(r.median), centre(*s));
                    Text::new(
                        format!(" {:.2}x", r.median),
                        at,
                        ("sans-serif", 10).into_font(),
                    )
                }))
                .map_err(plot_error)?;
        }
        let vertical = |x: f64| [(x, y(0)), (x, y(rows.len() * slots))];
        chart
            .draw_series([PathElement::new(vertical(1.0), BLACK.stroke_width(2))])
            .map_err(plot_error)?
            .label("raw JS = 1.00x")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 10, y)], BLACK.stroke_width(2)));
        let red = RGBColor(0xc9, 0x2a, 0x2a);
        chart
            .draw_series([PathElement::new(vertical(0.95), red.stroke_width(1))])
            .map_err(plot_error)?
            .label("0.95x target")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 10, y)], red.stroke_width(1)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        area.present().map_err(plot_error)?;
    }
    Ok(svg)
}

fn plot_error(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing the chart: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_every_workload_and_implementation() {
        let svg = render(&super::super::results::tests::sample(), "t").unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        for text in [
            "ping-pong round trip, 16 B text",
            "receive flood, 20k x 16 B binary",
            "gloo-net",
            "0.90x",
            "raw JS = 1.00x",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
    }
}
