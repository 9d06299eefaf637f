//! `df.plot.<kind>(...)` charts drawn with plotters as SVG: a title, axis
//! labels, ticks, one colour per y series with a legend, and a note when the
//! data was reduced (first rows, sample) before drawing. The values arrive
//! already reduced by the engine; this module only draws.

use std::sync::Once;

use chrono::Datelike;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};

const WIDTH: u32 = 720;
const HEIGHT: u32 = 420;
const FONT: &str = "sans-serif";

/// The bundled DejaVu Sans, so labels measure and draw the same everywhere.
static FONT_DATA: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// What a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    Barh,
    Line,
    Area,
    Scatter,
    /// Bars over bins whose edges are the x values (one more than counts).
    Hist,
    /// One box per category; each series holds `[lower whisker, q1,
    /// median, q3, upper whisker, outliers...]`.
    Box,
    /// Slices of the first series, labelled by the categories.
    Pie,
}

impl ChartKind {
    pub fn parse(kind: &str) -> Option<ChartKind> {
        Some(match kind {
            "bar" => ChartKind::Bar,
            "barh" => ChartKind::Barh,
            "line" => ChartKind::Line,
            "area" => ChartKind::Area,
            "scatter" => ChartKind::Scatter,
            "hist" => ChartKind::Hist,
            "box" => ChartKind::Box,
            "pie" => ChartKind::Pie,
            _ => return None,
        })
    }
}

/// The data to draw: categories or numbers along x, one or more y series.
pub struct ChartSpec {
    pub kind: ChartKind,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Category names (bar, barh) or positions (line, area, scatter, hist edges).
    pub categories: Vec<String>,
    pub positions: Vec<f64>,
    /// Positions are instants (seconds since the epoch, wall-clock in the
    /// session zone): ticks read as dates and times.
    pub time_axis: bool,
    pub series: Vec<(String, Vec<f64>)>,
    pub note: Option<String>,
}

/// The chart as an SVG document.
pub fn render_svg(spec: &ChartSpec) -> Result<String, String> {
    REGISTER.call_once(|| {
        let _ = register_font(FONT, FontStyle::Normal, FONT_DATA);
    });
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, spec).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// The same chart as PNG (the `image/png` alternative for front ends and
/// exports without SVG).
pub fn render_png(spec: &ChartSpec) -> Result<Vec<u8>, String> {
    REGISTER.call_once(|| {
        let _ = register_font(FONT, FontStyle::Normal, FONT_DATA);
    });
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, spec).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn colour(i: usize) -> RGBColor {
    let (r, g, b) = Palette99::pick(i).to_rgba().rgb();
    RGBColor(r, g, b)
}

fn bounds(values: impl Iterator<Item = f64>, include_zero: bool) -> (f64, f64) {
    let (mut low, mut high) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    if include_zero {
        low = low.min(0.0);
        high = high.max(0.0);
    }
    if high <= low {
        high = low + 1.0;
    }
    let pad = (high - low) * 0.05;
    (
        if include_zero && low == 0.0 {
            0.0
        } else {
            low - pad
        },
        high + pad,
    )
}

type Area<DB> = DrawingArea<DB, plotters::coord::Shift>;

fn draw<DB>(root: &Area<DB>, spec: &ChartSpec) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (root, footer) = match &spec.note {
        Some(_) => root.split_vertically(HEIGHT - 20),
        None => (root.clone(), root.clone().shrink((0, 0), (0, 0))),
    };
    if let Some(note) = &spec.note {
        footer.draw(&Text::new(
            note.clone(),
            (10, 2),
            (FONT, 12).into_font().color(&RGBColor(117, 117, 117)),
        ))?;
    }
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&spec.title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(y_label_area(&root, spec));
    let all_y = || spec.series.iter().flat_map(|(_, v)| v.iter().copied());
    match spec.kind {
        ChartKind::Pie => draw_pie(&root, spec)?,
        ChartKind::Bar | ChartKind::Barh => {
            // Categories sit at 0, 1, 2, ...; each series takes a slice of
            // the 0.8-wide band around its category.
            let n = spec.categories.len().max(1) as f64;
            let (low, high) = bounds(all_y(), true);
            let width = 0.8 / spec.series.len().max(1) as f64;
            let label = |v: &f64| category_at(&spec.categories, *v);
            let labels = spec.categories.len().clamp(1, 30);
            let bar = |i: usize, s: usize, v: f64| {
                let start = i as f64 - 0.4 + s as f64 * width;
                (start, start + width, 0.0f64.max(low), v)
            };
            // Barh is Bar with the axes swapped.
            let horizontal = spec.kind == ChartKind::Barh;
            let at = |category: f64, value: f64| {
                if horizontal {
                    (value, category)
                } else {
                    (category, value)
                }
            };
            let (x_range, y_range) = if horizontal {
                (low..high, -0.5..n - 0.5)
            } else {
                (-0.5..n - 0.5, low..high)
            };
            let mut chart = builder.build_cartesian_2d(x_range, y_range)?;
            let mut mesh = chart.configure_mesh();
            if horizontal {
                mesh.disable_y_mesh()
                    .x_desc(&spec.y_label)
                    .y_desc(&spec.x_label)
                    .y_labels(labels)
                    .y_label_formatter(&label)
                    .x_label_formatter(&value_tick);
            } else {
                mesh.disable_x_mesh()
                    .x_desc(&spec.x_label)
                    .y_desc(&spec.y_label)
                    .x_labels(labels)
                    .x_label_formatter(&label)
                    .y_label_formatter(&value_tick);
            }
            mesh.draw()?;
            for (s, (name, values)) in spec.series.iter().enumerate() {
                let fill = colour(s);
                chart
                    .draw_series(values.iter().enumerate().map(|(i, v)| {
                        let (start, end, base, top) = bar(i, s, *v);
                        Rectangle::new([at(start, base), at(end, top)], fill.filled())
                    }))?
                    .label(name)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 10, y + 5)], fill.filled())
                    });
            }
            legend(&mut chart, spec)?;
        }
        ChartKind::Box => {
            let n = spec.series.len().max(1) as f64;
            let (low, high) = bounds(all_y(), false);
            let names: Vec<String> = spec.series.iter().map(|(name, _)| name.clone()).collect();
            let label = |v: &f64| category_at(&names, *v);
            let mut chart = builder.build_cartesian_2d(-0.5..n - 0.5, low..high)?;
            let mut mesh = chart.configure_mesh();
            mesh.disable_x_mesh()
                .x_desc(&spec.x_label)
                .y_desc(&spec.y_label)
                .x_labels(names.len().clamp(1, 30))
                .x_label_formatter(&label)
                .y_label_formatter(&value_tick);
            mesh.draw()?;
            for (i, (_, values)) in spec.series.iter().enumerate() {
                let [lower, q1, median, q3, upper] = match values.get(..5) {
                    Some(&[a, b, c, d, e]) => [a, b, c, d, e],
                    _ => continue,
                };
                let x = i as f64;
                let style = colour(i);
                chart.draw_series([Rectangle::new(
                    [(x - 0.3, q1), (x + 0.3, q3)],
                    style.mix(0.3).filled(),
                )])?;
                chart.draw_series([Rectangle::new(
                    [(x - 0.3, q1), (x + 0.3, q3)],
                    style.stroke_width(1),
                )])?;
                let lines = [
                    vec![(x - 0.3, median), (x + 0.3, median)],
                    vec![(x, q3), (x, upper)],
                    vec![(x, q1), (x, lower)],
                    vec![(x - 0.15, upper), (x + 0.15, upper)],
                    vec![(x - 0.15, lower), (x + 0.15, lower)],
                ];
                for line in lines {
                    chart.draw_series(LineSeries::new(line, style.stroke_width(2)))?;
                }
                chart.draw_series(
                    values[5..]
                        .iter()
                        .map(|v| Circle::new((x, *v), 3, style.stroke_width(1))),
                )?;
            }
        }
        ChartKind::Line | ChartKind::Area | ChartKind::Scatter | ChartKind::Hist => {
            let (x_low, x_high) = bounds(spec.positions.iter().copied(), false);
            let include_zero = matches!(spec.kind, ChartKind::Area | ChartKind::Hist);
            let (low, high) = bounds(all_y(), include_zero);
            let mut chart = builder.build_cartesian_2d(x_low..x_high, low..high)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&spec.x_label)
                .y_desc(&spec.y_label)
                .y_label_formatter(&value_tick)
                .x_label_formatter(&value_tick);
            if spec.time_axis {
                // plotters places ticks at round numbers of seconds; round
                // instants are drawn below instead.
                mesh.x_labels(0);
            }
            mesh.draw()?;
            if spec.time_axis {
                let grid = RGBColor(235, 235, 235);
                // Within the data, not the padded axis, so edge labels fit.
                let (first, last) = spec
                    .positions
                    .iter()
                    .filter(|p| p.is_finite())
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                        (lo.min(*p), hi.max(*p))
                    });
                let ticks = time_ticks(first, last);
                for (at, _) in &ticks {
                    chart.draw_series(LineSeries::new([(*at, low), (*at, high)], grid))?;
                }
                let font = (FONT, 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top));
                for (at, label) in ticks {
                    let (x, y) = chart.backend_coord(&(at, low));
                    root.draw(&PathElement::new([(x, y), (x, y + 5)], BLACK))?;
                    root.draw(&Text::new(label, (x, y + 7), font.clone()))?;
                }
            }
            for (s, (name, values)) in spec.series.iter().enumerate() {
                let style = colour(s);
                let points: Vec<(f64, f64)> = spec
                    .positions
                    .iter()
                    .copied()
                    .zip(values.iter().copied())
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .collect();
                let drawn = match spec.kind {
                    ChartKind::Line => {
                        chart.draw_series(LineSeries::new(points, style.stroke_width(2)))?
                    }
                    ChartKind::Area => chart.draw_series(
                        AreaSeries::new(points, 0.0, style.mix(0.3))
                            .border_style(style.stroke_width(2)),
                    )?,
                    ChartKind::Scatter => chart.draw_series(
                        points
                            .into_iter()
                            .map(|p| Circle::new(p, 3, style.filled())),
                    )?,
                    _ => chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
                        let (left, right) = (*spec.positions.get(i)?, *spec.positions.get(i + 1)?);
                        Some(Rectangle::new(
                            [(left, 0.0), (right, *v)],
                            style.mix(0.8).filled(),
                        ))
                    }))?,
                };
                drawn.label(name).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], style.filled())
                });
            }
            legend(&mut chart, spec)?;
        }
    }
    Ok(())
}

/// A pie of the first series' values (negative and missing ones left
/// out), each slice labelled with its category and share.
fn draw_pie<DB>(root: &Area<DB>, spec: &ChartSpec) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let area = root.titled(&spec.title, (FONT, 18))?;
    let (width, height) = area.dim_in_pixel();
    let values = spec
        .series
        .first()
        .map(|(_, v)| v.as_slice())
        .unwrap_or(&[]);
    let (mut sizes, mut labels, mut colours) = (Vec::new(), Vec::new(), Vec::new());
    for (i, (value, label)) in values.iter().zip(&spec.categories).enumerate() {
        if value.is_finite() && *value > 0.0 {
            sizes.push(*value);
            labels.push(label.clone());
            colours.push(colour(i));
        }
    }
    if sizes.is_empty() {
        return Ok(());
    }
    let centre = (width as i32 / 2, height as i32 / 2);
    let radius = f64::from(width.min(height)) * 0.36;
    let mut pie = Pie::new(&centre, &radius, &sizes, &colours, &labels);
    pie.start_angle(-90.0);
    pie.label_style((FONT, 13).into_font().color(&BLACK));
    pie.percentages((FONT, 12).into_font().color(&WHITE));
    area.draw(&pie)?;
    Ok(())
}

/// The category whose slot is at `position` (0, 1, 2, ...); between slots
/// there is no label.
/// Room left of the plot for the y tick labels: a horizontal bar chart's
/// category names get as much as the longest needs, up to two fifths of
/// the width.
fn y_label_area<DB: DrawingBackend>(root: &Area<DB>, spec: &ChartSpec) -> u32 {
    const DEFAULT: u32 = 64;
    if spec.kind != ChartKind::Barh {
        return DEFAULT;
    }
    let font = (FONT, 12).into_font().color(&BLACK);
    let widest = spec
        .categories
        .iter()
        .filter_map(|name| root.estimate_text_size(name, &font).ok())
        .map(|(width, _)| width)
        .max()
        .unwrap_or(0);
    (widest + 36).clamp(DEFAULT, WIDTH * 2 / 5)
}

fn category_at(names: &[String], position: f64) -> String {
    let slot = position.round();
    if (position - slot).abs() < 1e-6 && slot >= 0.0 {
        names.get(slot as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// A tick on a time axis: the date, with the time of day when the axis
/// spans less than a few days.
/// A value axis tick as people write numbers: `7000` not `7000.0`,
/// `12,500`, `0.25`, `1.5M`.
fn value_tick(v: &f64) -> String {
    let v = *v;
    let magnitude = v.abs();
    if magnitude >= 1e6 {
        let (scaled, suffix) = if magnitude >= 1e9 {
            (v / 1e9, "B")
        } else {
            (v / 1e6, "M")
        };
        return format!("{}{suffix}", trim_decimals(&format!("{scaled:.2}")));
    }
    let text = trim_decimals(&format!("{v:.6}"));
    if magnitude < 10_000.0 || text.contains('.') {
        return text;
    }
    let digits = text.trim_start_matches('-');
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if v < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

fn trim_decimals(text: &str) -> String {
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".into()
        } else {
            trimmed.into()
        }
    } else {
        text.into()
    }
}

/// At most this many labelled instants on a time axis.
const MAX_TIME_TICKS: f64 = 6.0;

/// Round instants between `low` and `high` (seconds of wall-clock time) for
/// a time axis, each with its label: whole seconds, minutes, hours, days,
/// weeks (from Monday), months or years, the finest step that keeps the
/// labels apart.
fn time_ticks(low: f64, high: f64) -> Vec<(f64, String)> {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 3600;
    const DAY: i64 = 86_400;
    const STEPS: [i64; 16] = [
        1,
        5,
        15,
        30,
        MINUTE,
        5 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
    ];
    let label = |seconds: i64, format: &str| {
        chrono::DateTime::from_timestamp(seconds, 0)
            .map(|at| at.naive_utc().format(format).to_string())
            .unwrap_or_default()
    };
    let span = high - low;
    if let Some(&step) = STEPS
        .iter()
        .find(|step| span / **step as f64 <= MAX_TIME_TICKS)
    {
        let format = match step {
            s if s < MINUTE => "%Y-%m-%d %H:%M:%S",
            s if s < DAY => "%Y-%m-%d %H:%M",
            _ => "%Y-%m-%d",
        };
        // Weeks start on Mondays (1970-01-05 was one).
        let origin = if step >= 7 * DAY { 4 * DAY } else { 0 };
        let first = ((low - origin as f64) / step as f64).ceil() as i64 * step + origin;
        return (0..)
            .map(|i| first + i * step)
            .take_while(|at| (*at as f64) <= high)
            .map(|at| (at as f64, label(at, format)))
            .collect();
    }
    let month_of = |seconds: f64| {
        chrono::DateTime::from_timestamp(seconds.floor() as i64, 0)
            .map(|at| i64::from(at.year()) * 12 + i64::from(at.month0()))
    };
    let (Some(first_month), Some(last_month)) = (month_of(low), month_of(high)) else {
        return Vec::new();
    };
    let months = [1, 3, 6, 12, 24, 60, 120, 600]
        .into_iter()
        .find(|m| (last_month - first_month) as f64 / *m as f64 <= MAX_TIME_TICKS)
        .unwrap_or(1200);
    let format = if months >= 12 { "%Y" } else { "%Y-%m" };
    (first_month..=last_month + 1)
        .filter(|m| m.rem_euclid(months) == 0)
        .filter_map(|m| {
            let start = chrono::NaiveDate::from_ymd_opt(
                (m.div_euclid(12)) as i32,
                (m.rem_euclid(12) + 1) as u32,
                1,
            )?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp();
            ((start as f64) >= low && (start as f64) <= high)
                .then(|| (start as f64, label(start, format)))
        })
        .collect()
}

fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    spec: &ChartSpec,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: plotters::coord::ranged1d::Ranged,
    Y: plotters::coord::ranged1d::Ranged,
{
    if spec.series.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 12))
            .draw()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_read_as_written_numbers() {
        let ticks: Vec<String> = [
            7000.0,
            12_500.0,
            0.25,
            -0.0,
            1_500_000.0,
            2.0e9,
            -45_000.0,
            3.1,
        ]
        .iter()
        .map(value_tick)
        .collect();
        assert_eq!(
            ticks,
            ["7000", "12,500", "0.25", "0", "1.5M", "2B", "-45,000", "3.1"]
        );
    }

    #[test]
    fn a_line_chart_has_its_title_axis_labels_legend_and_note() {
        let svg = render_svg(&ChartSpec {
            kind: ChartKind::Line,
            title: "trips by hour".into(),
            x_label: "hour".into(),
            y_label: "trips".into(),
            categories: vec![],
            positions: vec![0.0, 1.0, 2.0],
            time_axis: false,
            series: vec![
                ("green".into(), vec![3.0, 5.0, 4.0]),
                ("yellow".into(), vec![7.0, 6.0, 9.0]),
            ],
            note: Some("showing the first 3 rows".into()),
        })
        .unwrap();
        for text in [
            "trips by hour",
            "hour",
            "trips",
            "green",
            "yellow",
            "showing the first 3 rows",
        ] {
            assert!(
                svg.contains(&format!("\n{text}\n</text>")),
                "{text} missing"
            );
        }
        assert!(svg.matches("<polyline").count() >= 2);
    }

    #[test]
    fn time_axes_tick_at_round_instants() {
        let labels = |low: f64, high: f64| -> Vec<String> {
            time_ticks(low, high).into_iter().map(|(_, l)| l).collect()
        };
        let jan1 = 1_609_459_200.0;
        assert_eq!(
            labels(jan1 + 600.0, jan1 + 47.0 * 3600.0),
            ["2021-01-01 12:00", "2021-01-02 00:00", "2021-01-02 12:00"]
        );
        assert_eq!(
            labels(jan1, jan1 + 30.0 * 86_400.0),
            ["2021-01-04", "2021-01-11", "2021-01-18", "2021-01-25"]
        );
        assert_eq!(
            labels(jan1, jan1 + 570.0 * 86_400.0),
            ["2021-01", "2021-04", "2021-07", "2021-10", "2022-01", "2022-04", "2022-07"]
        );
        assert_eq!(
            labels(jan1 + 5.0, jan1 + 25.0),
            [
                "2021-01-01 00:00:05",
                "2021-01-01 00:00:10",
                "2021-01-01 00:00:15",
                "2021-01-01 00:00:20",
                "2021-01-01 00:00:25"
            ]
        );
    }
}
