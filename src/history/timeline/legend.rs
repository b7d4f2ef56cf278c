//! The legend under the chart: what each colour, line and marker means.

use super::group::LineKind;
use super::outcome::Outcome;
use super::svg::Svg;
use super::{BAR_HEIGHT, ROLLBACK_COLOUR, TEXT_COLOUR};

/// The room one entry takes across, and a line of entries down.
const ENTRY_WIDTH: f64 = 140.0;
const LINE_HEIGHT: f64 = 20.0;

/// What the legend explains besides the outcomes' colours.
#[derive(Clone, Copy)]
enum Entry {
    Outcome(Outcome),
    Rollback,
    CheckPassed,
    CheckFailed,
    StageStart,
    Line(LineKind),
}

/// The entries in order: the outcomes' colours first, then the rest.
fn entries() -> impl Iterator<Item = Entry> {
    Outcome::ALL.into_iter().map(Entry::Outcome).chain([
        Entry::Rollback,
        Entry::CheckPassed,
        Entry::CheckFailed,
        Entry::StageStart,
        Entry::Line(LineKind::Batch),
        Entry::Line(LineKind::Stopped),
        Entry::Line(LineKind::Cancel),
    ])
}

fn per_line(width: f64) -> usize {
    ((width / ENTRY_WIDTH).floor() as usize).max(1)
}

/// The height the legend takes in `width` pixels.
pub fn height(width: f64) -> f64 {
    entries().count().div_ceil(per_line(width)) as f64 * LINE_HEIGHT
}

/// The legend from (`left`, `top`), in lines of `width` pixels.
pub fn draw(svg: &mut Svg, left: f64, top: f64, width: f64) {
    let per_line = per_line(width);
    for (index, entry) in entries().enumerate() {
        let x = left + (index % per_line) as f64 * ENTRY_WIDTH;
        let y = top + (index / per_line) as f64 * LINE_HEIGHT;
        let middle = y + LINE_HEIGHT / 2.0;
        let swatch = [
            ("x", x.into()),
            ("y", (middle - BAR_HEIGHT / 2.0).into()),
            ("width", 18.0.into()),
            ("height", BAR_HEIGHT.into()),
        ];
        let label = match entry {
            Entry::Outcome(outcome) => {
                let mut attributes = swatch.to_vec();
                attributes.push(("fill", outcome.colour().into()));
                if outcome == Outcome::Unfinished {
                    attributes.extend([
                        ("stroke", "#777777".into()),
                        ("stroke-dasharray", "2 2".into()),
                    ]);
                }
                svg.empty("rect", &attributes);
                outcome.label()
            }
            Entry::Rollback => {
                let mut attributes = swatch.to_vec();
                attributes.extend([
                    ("fill", "url(#rollback)".into()),
                    ("stroke", ROLLBACK_COLOUR.into()),
                    ("stroke-dasharray", "3 2".into()),
                ]);
                svg.empty("rect", &attributes);
                "rollback"
            }
            Entry::CheckPassed => {
                check_marker(svg, x + 9.0, middle, true);
                "check passed"
            }
            Entry::CheckFailed => {
                check_marker(svg, x + 9.0, middle, false);
                "check gave up"
            }
            Entry::StageStart => {
                mark(svg, x + 9.0, middle, TEXT_COLOUR, None);
                "stage start"
            }
            Entry::Line(kind) => {
                mark(svg, x + 9.0, middle, kind.colour(), kind.dashes());
                kind.label()
            }
        };
        svg.text(
            x + 24.0,
            middle + 4.0,
            &[("fill", TEXT_COLOUR.into())],
            label,
        );
    }
}

/// A short vertical line centred on (`x`, `middle`), as stage and batch starts are drawn.
fn mark(svg: &mut Svg, x: f64, middle: f64, colour: &str, dashes: Option<&str>) {
    let mut attributes = vec![
        ("x1", x.into()),
        ("y1", (middle - 8.0).into()),
        ("x2", x.into()),
        ("y2", (middle + 8.0).into()),
        ("stroke", colour.into()),
        ("stroke-width", 2.0.into()),
    ];
    if let Some(dashes) = dashes {
        attributes.push(("stroke-dasharray", dashes.into()));
    }
    svg.empty("line", &attributes);
}

/// A check's marker centred on (`x`, `y`): a green dot when it passed, a red diamond when it
/// gave up (told apart by shape too, not by colour alone).
pub fn check_marker(svg: &mut Svg, x: f64, y: f64, ok: bool) {
    if ok {
        svg.empty(
            "circle",
            &[
                ("cx", x.into()),
                ("cy", y.into()),
                ("r", 4.0.into()),
                ("fill", Outcome::Ok.colour().into()),
                ("stroke", "#1e4d1a".into()),
            ],
        );
    } else {
        let points = [(x, y - 5.0), (x + 5.0, y), (x, y + 5.0), (x - 5.0, y)]
            .iter()
            .map(|(px, py)| format!("{},{}", super::svg::number(*px), super::svg::number(*py)))
            .collect::<Vec<_>>()
            .join(" ");
        svg.empty(
            "polygon",
            &[
                ("points", points.as_str().into()),
                ("fill", Outcome::Failed.colour().into()),
                ("stroke", "#5c0c0d".into()),
            ],
        );
    }
}
