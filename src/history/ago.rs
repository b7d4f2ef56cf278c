//! How long ago something happened, in the one unit people read at a glance.

use std::time::Duration;

/// `elapsed` as `42s ago`, `5m ago`, `2h ago` or `3d ago`, rounded down.
pub fn ago(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match secs {
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86_400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_is_rounded_down() {
        let cases = [
            (0, "0s ago"),
            (59, "59s ago"),
            (60, "1m ago"),
            (3599, "59m ago"),
            (3600, "1h ago"),
            (2 * 3600 + 1799, "2h ago"),
            (86_399, "23h ago"),
            (86_400, "1d ago"),
            (90 * 86_400 + 5, "90d ago"),
        ];
        for (secs, text) in cases {
            assert_eq!(ago(Duration::from_secs(secs)), text, "{secs}s");
        }
    }

    #[test]
    fn parts_of_a_second_do_not_count() {
        assert_eq!(ago(Duration::from_millis(119_999)), "1m ago");
    }
}
