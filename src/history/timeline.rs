//! The timeline of a run as an SVG picture: a Gantt chart of hosts (grouped by stage) × time,
//! one bar per step coloured by its outcome, stages, batches, checks, rollbacks and a stopped
//! rollout marked, and a hover text on everything. Plain SVG 1.1 with no script and no font
//! to fetch, so any browser opens the file as it is.

mod axis;
mod chart;
mod group;
mod legend;
mod outcome;
mod reader;
mod row;
mod svg;

#[cfg(test)]
mod tests;

use axis::Axis;
use group::{Group, Line, LineKind};
use outcome::Outcome;
use reader::Reader;
use row::Row;
use svg::{Svg, Value};

use crate::history::TimedEvent;

/// Room around everything.
const MARGIN: f64 = 12.0;
/// The width of the time axis: fixed, so runs compare side by side; rows make the height.
const PLOT_WIDTH: f64 = 900.0;
const ROW_HEIGHT: f64 = 18.0;
const BAR_HEIGHT: f64 = 12.0;
/// A stage's header: its name, its batches and a stopped rollout are written in it.
const HEADER_HEIGHT: f64 = 22.0;
/// Where the rows start: under the title, the summary and the top axis.
const TOP: f64 = 76.0;
/// Host names longer than this are cut in the label column (the hover text has them whole).
const LABEL_CHARS: usize = 40;
/// The width of a character of the 12 px labels, near enough to size the label column.
const CHAR_WIDTH: f64 = 7.0;
/// A bar this narrow still shows: a step of a millisecond in an hour's run.
const MIN_BAR_WIDTH: f64 = 1.5;
/// Labels of batch lines closer than this to the previous label are left to the hover text.
const LABEL_GAP: f64 = 64.0;
const ROLLBACK_COLOUR: &str = "#7b4fa0";
const TEXT_COLOUR: &str = "#222222";
const FAINT_COLOUR: &str = "#777777";

/// The timeline of a run, titled `title`, from its `events` (as `--output json` prints
/// them, stamped with the seconds since the run started) as an SVG 1.1 document.
pub fn render(title: &str, events: &[TimedEvent]) -> String {
    let chart = Reader::read(events);
    let longest = chart
        .groups
        .iter()
        .flat_map(|g| g.rows.iter().map(|r| r.host.chars().count()))
        .max()
        .unwrap_or(0)
        .min(LABEL_CHARS + 1);
    let labels = (longest as f64 * CHAR_WIDTH + 24.0).clamp(120.0, 330.0);
    let left = MARGIN + labels;
    let axis = Axis::new(left, PLOT_WIDTH, chart.end, 12);
    let width = left + PLOT_WIDTH + MARGIN + 40.0;
    let rows: usize = chart.groups.iter().map(|g| g.rows.len()).sum();
    let bottom = TOP + chart.groups.len() as f64 * HEADER_HEIGHT + rows as f64 * ROW_HEIGHT;
    let bottom = if chart.groups.is_empty() {
        bottom + ROW_HEIGHT
    } else {
        bottom
    };
    let legend_top = bottom + 40.0;
    let height = legend_top + legend::height(width - 2.0 * MARGIN) + MARGIN;

    let mut svg = Svg::new(width, height);
    svg.title(title);
    svg.open("defs", &[]);
    svg.open(
        "pattern",
        &[
            ("id", "rollback".into()),
            ("width", 6.0.into()),
            ("height", 6.0.into()),
            ("patternUnits", "userSpaceOnUse".into()),
            ("patternTransform", "rotate(45)".into()),
        ],
    );
    svg.empty(
        "rect",
        &[
            ("width", 3.0.into()),
            ("height", 6.0.into()),
            ("fill", ROLLBACK_COLOUR.into()),
            ("fill-opacity", 0.5.into()),
        ],
    );
    svg.close("pattern");
    svg.close("defs");
    svg.empty(
        "rect",
        &[
            ("width", width.into()),
            ("height", height.into()),
            ("fill", "#ffffff".into()),
        ],
    );
    svg.text(
        MARGIN,
        24.0,
        &[("font-size", 16.0.into()), ("font-weight", "bold".into())],
        title,
    );
    svg.text(
        MARGIN,
        44.0,
        &[("fill", FAINT_COLOUR.into())],
        &chart.summary,
    );

    grid(&mut svg, &axis, bottom);
    ticks(&mut svg, &axis, TOP - 6.0, -1.0);
    ticks(&mut svg, &axis, bottom + 16.0, 1.0);
    let mut top = TOP;
    if chart.groups.is_empty() {
        svg.text(
            left + 4.0,
            top + 13.0,
            &[("fill", FAINT_COLOUR.into())],
            "no stage started",
        );
    }
    for group in &chart.groups {
        top = stage(&mut svg, &axis, group, top, width);
    }
    for mark in &chart.marks {
        line(&mut svg, &axis, mark, TOP - 4.0, bottom, TOP - 20.0);
    }
    legend::draw(&mut svg, MARGIN, legend_top, width - 2.0 * MARGIN);
    svg.finish()
}

/// Light vertical lines at the ticks, behind everything else.
fn grid(svg: &mut Svg, axis: &Axis, bottom: f64) {
    for (secs, _) in axis.ticks() {
        let x = axis.x(secs);
        svg.empty(
            "line",
            &[
                ("x1", x.into()),
                ("y1", TOP.into()),
                ("x2", x.into()),
                ("y2", bottom.into()),
                ("stroke", "#e4e4e4".into()),
            ],
        );
    }
}

/// The tick labels along a horizontal line at `y`, above it (`side` -1) or below (1).
fn ticks(svg: &mut Svg, axis: &Axis, y: f64, side: f64) {
    let (start, end) = (axis.x(0.0), axis.right());
    svg.empty(
        "line",
        &[
            ("x1", start.into()),
            ("y1", y.into()),
            ("x2", end.into()),
            ("y2", y.into()),
            ("stroke", FAINT_COLOUR.into()),
        ],
    );
    for (secs, label) in axis.ticks() {
        let x = axis.x(secs);
        svg.empty(
            "line",
            &[
                ("x1", x.into()),
                ("y1", y.into()),
                ("x2", x.into()),
                ("y2", (y + 4.0 * side).into()),
                ("stroke", FAINT_COLOUR.into()),
            ],
        );
        let baseline = if side < 0.0 { y - 6.0 } else { y + 16.0 };
        svg.text(
            x,
            baseline,
            &[
                ("text-anchor", "middle".into()),
                ("font-size", 10.0.into()),
                ("fill", FAINT_COLOUR.into()),
            ],
            &label,
        );
    }
}

/// A stage's header and its rows from `top`; returns where the next stage starts.
fn stage(svg: &mut Svg, axis: &Axis, group: &Group, top: f64, width: f64) -> f64 {
    let rows_top = top + HEADER_HEIGHT;
    let bottom = rows_top + group.rows.len() as f64 * ROW_HEIGHT;
    svg.open("g", &[]);
    svg.title(&group.hover);
    svg.empty(
        "rect",
        &[
            ("x", MARGIN.into()),
            ("y", (top + 2.0).into()),
            ("width", (width - 2.0 * MARGIN).into()),
            ("height", (HEADER_HEIGHT - 4.0).into()),
            ("fill", "#e8edf3".into()),
        ],
    );
    let name = match &group.skipped {
        Some(reason) => format!("{} (skipped: {reason})", group.stage),
        None => group.stage.clone(),
    };
    svg.text(
        MARGIN + 4.0,
        top + 15.0,
        &[("font-weight", "bold".into()), ("fill", TEXT_COLOUR.into())],
        &cut(&name, LABEL_CHARS * 2),
    );
    svg.close("g");
    if let Some(started) = group.started {
        // The stage's span shaded over its rows, from its start to its end.
        let end = group.finished.unwrap_or(f64::MAX);
        let (x1, x2) = (axis.x(started), axis.x(end));
        svg.empty(
            "rect",
            &[
                ("x", x1.into()),
                ("y", rows_top.into()),
                ("width", (x2 - x1).max(MIN_BAR_WIDTH).into()),
                ("height", (bottom - rows_top).into()),
                ("fill", "#f3f6fa".into()),
            ],
        );
        svg.empty(
            "line",
            &[
                ("x1", x1.into()),
                ("y1", (top + 2.0).into()),
                ("x2", x1.into()),
                ("y2", bottom.into()),
                ("stroke", TEXT_COLOUR.into()),
                ("stroke-width", 1.5.into()),
            ],
        );
    }
    for (index, row) in group.rows.iter().enumerate() {
        host(svg, axis, row, rows_top + index as f64 * ROW_HEIGHT, index);
    }
    let mut last_label = f64::MIN;
    for mark in &group.lines {
        let x = axis.x(mark.at);
        // A stop is always labelled; batch labels give way when they would overlap.
        let label_y = if mark.kind == LineKind::Stopped || x - last_label >= LABEL_GAP {
            last_label = x;
            top + 15.0
        } else {
            f64::NAN
        };
        line(svg, axis, mark, top + 2.0, bottom, label_y);
    }
    bottom
}

/// A marked moment: a vertical line from `top` to `bottom` and its label at `label_y`
/// (none when that is NaN), with its hover text.
fn line(svg: &mut Svg, axis: &Axis, mark: &Line, top: f64, bottom: f64, label_y: f64) {
    let x = axis.x(mark.at);
    let colour = mark.kind.colour();
    svg.open("g", &[]);
    svg.title(&mark.hover);
    let mut attributes = vec![
        ("x1", Value::from(x)),
        ("y1", top.into()),
        ("x2", x.into()),
        ("y2", bottom.into()),
        ("stroke", colour.into()),
    ];
    match mark.kind.dashes() {
        Some(dashes) => attributes.push(("stroke-dasharray", dashes.into())),
        None => attributes.push(("stroke-width", 2.0.into())),
    }
    svg.empty("line", &attributes);
    if !label_y.is_nan() {
        svg.text(
            x + 3.0,
            label_y,
            &[("font-size", 10.0.into()), ("fill", colour.into())],
            &mark.label,
        );
    }
    svg.close("g");
}

/// One host's row at `top`: its label, rollbacks, bars and checks.
fn host(svg: &mut Svg, axis: &Axis, row: &Row, top: f64, index: usize) {
    if index % 2 == 1 {
        svg.empty(
            "rect",
            &[
                ("x", MARGIN.into()),
                ("y", top.into()),
                ("width", (axis.right() - MARGIN).into()),
                ("height", ROW_HEIGHT.into()),
                ("fill", "#000000".into()),
                ("fill-opacity", 0.03.into()),
            ],
        );
    }
    let middle = top + ROW_HEIGHT / 2.0;
    let mut label = vec![
        ("x", Value::from(MARGIN + 10.0)),
        ("y", (top + 13.0).into()),
    ];
    if row.failed {
        label.extend([
            ("fill", Outcome::Failed.colour().into()),
            ("font-weight", "bold".into()),
        ]);
    }
    svg.open("text", &label);
    svg.title(&row.hover);
    svg.text_content(&cut(&row.host, LABEL_CHARS));
    svg.close("text");
    if let Some(note) = row.note {
        let x = axis.x(row.start.unwrap_or(0.0)) + 4.0;
        svg.text(
            x,
            top + 13.0,
            &[
                ("font-size", 10.0.into()),
                ("font-style", "italic".into()),
                ("fill", FAINT_COLOUR.into()),
            ],
            note,
        );
    }
    for span in &row.rollbacks {
        let (x1, x2) = (axis.x(span.from), axis.x(span.to.unwrap_or(span.from)));
        svg.with_title(
            "rect",
            &[
                ("x", x1.into()),
                ("y", (top + 1.0).into()),
                ("width", (x2 - x1).max(MIN_BAR_WIDTH).into()),
                ("height", (ROW_HEIGHT - 2.0).into()),
                ("fill", "url(#rollback)".into()),
                ("stroke", ROLLBACK_COLOUR.into()),
                ("stroke-dasharray", "3 2".into()),
            ],
            &span.hover,
        );
    }
    for bar in &row.bars {
        let (x1, x2) = (axis.x(bar.from), axis.x(bar.to));
        let mut attributes = vec![
            ("x", Value::from(x1)),
            ("y", (top + (ROW_HEIGHT - BAR_HEIGHT) / 2.0).into()),
            ("width", (x2 - x1).max(MIN_BAR_WIDTH).into()),
            ("height", BAR_HEIGHT.into()),
            ("fill", bar.outcome.colour().into()),
        ];
        if bar.rollback {
            attributes.extend([
                ("stroke", ROLLBACK_COLOUR.into()),
                ("stroke-width", 1.5.into()),
            ]);
        } else if bar.outcome == Outcome::Unfinished {
            attributes.extend([
                ("stroke", FAINT_COLOUR.into()),
                ("stroke-dasharray", "2 2".into()),
            ]);
        }
        svg.with_title("rect", &attributes, &bar.hover);
    }
    for check in &row.checks {
        let (x1, x2) = (axis.x(check.from), axis.x(check.at));
        let colour = if check.ok {
            Outcome::Ok.colour()
        } else {
            Outcome::Failed.colour()
        };
        svg.open("g", &[]);
        svg.title(&check.hover);
        if x2 - x1 > 1.0 {
            svg.empty(
                "line",
                &[
                    ("x1", x1.into()),
                    ("y1", middle.into()),
                    ("x2", x2.into()),
                    ("y2", middle.into()),
                    ("stroke", colour.into()),
                ],
            );
        }
        legend::check_marker(svg, x2, middle, check.ok);
        svg.close("g");
    }
}

/// `text` cut to `chars` characters, with an ellipsis when it was longer.
fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut short: String = text.chars().take(chars.saturating_sub(1)).collect();
    short.push('…');
    short
}
