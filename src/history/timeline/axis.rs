//! The time axis: seconds since the run started mapped onto pixels, and its ticks.

/// Steps between ticks, in seconds: round numbers people read at a glance.
const STEPS: [f64; 21] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
    900.0, 1800.0, 3600.0, 7200.0, 21600.0,
];

/// Runs at least this long label their ticks m:ss rather than in seconds.
const MINUTES_FROM: f64 = 120.0;

/// The time axis of a chart: `span` seconds across `width` pixels starting at `left`.
pub struct Axis {
    left: f64,
    width: f64,
    span: f64,
    step: f64,
}

impl Axis {
    /// An axis for a run of `duration` seconds with at most about `max_ticks` ticks.
    pub fn new(left: f64, width: f64, duration: f64, max_ticks: usize) -> Axis {
        let duration = if duration.is_finite() && duration > 0.0 {
            duration
        } else {
            1.0
        };
        let wanted = duration / max_ticks.max(1) as f64;
        let step = STEPS
            .iter()
            .copied()
            .find(|s| *s >= wanted)
            .unwrap_or_else(|| (wanted / 21600.0).ceil() * 21600.0);
        // The axis ends on a tick, so the last bar never touches the edge unlabelled.
        let span = (duration / step).ceil() * step;
        Axis {
            left,
            width,
            span,
            step,
        }
    }

    /// The x coordinate of `secs` since the start, kept on the axis.
    pub fn x(&self, secs: f64) -> f64 {
        let secs = if secs.is_finite() {
            secs.clamp(0.0, self.span)
        } else {
            0.0
        };
        self.left + secs / self.span * self.width
    }

    /// The x coordinate of the axis's end.
    pub fn right(&self) -> f64 {
        self.left + self.width
    }

    /// Every tick: its time in seconds and its label.
    pub fn ticks(&self) -> Vec<(f64, String)> {
        let count = (self.span / self.step).round() as usize;
        (0..=count)
            .map(|i| {
                let secs = i as f64 * self.step;
                (secs, self.label(secs))
            })
            .collect()
    }

    /// `secs` as the axis writes it: `1.5s` for short runs, `2:05` (or `1:02:05`) for long.
    pub fn label(&self, secs: f64) -> String {
        if self.span < MINUTES_FROM {
            seconds(secs)
        } else {
            clock(secs)
        }
    }
}

/// `secs` in seconds with no more decimals than it needs: `0s`, `0.25s`, `1.5s`, `90s`.
pub fn seconds(secs: f64) -> String {
    let text = format!("{secs:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}s")
}

/// `secs` as `m:ss`, or `h:mm:ss` from an hour on, to the whole second.
fn clock(secs: f64) -> String {
    let total = secs.round() as u64;
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{seconds:02}")
    } else {
        format!("{minutes}:{seconds:02}")
    }
}

/// A duration as hover texts give it: seconds under two minutes, `m:ss` from there.
pub fn duration(secs: f64) -> String {
    if secs < MINUTES_FROM {
        seconds(secs)
    } else {
        clock(secs)
    }
}
