//! Measures one host over its open connection: one POSIX `sh` script (probe.sh), no agent.

use std::time::Duration;

use super::load::Load;
use crate::transport::Connection;

const SCRIPT: &str = include_str!("probe.sh");
/// Linux only, builtins only: placement's probe (quick_probe.sh).
const QUICK: &str = include_str!("quick_probe.sh");
/// What placement adds to the quick probe when it has no recent figure for the disk.
const QUICK_DISK: &str = "df -Pk / 2>/dev/null\n";
/// The time between the two CPU samples of `tsync status`'s probe.
const CPU_SAMPLE: Duration = Duration::from_millis(100);
/// The probe prints a few hundred bytes; anything much longer is not the probe talking.
const ANSWER_LIMIT: usize = 64 * 1024;

/// What one probe found: the host's load and one round trip over the connection.
#[derive(Debug, Clone)]
pub struct Probed {
    pub load: Load,
    pub round_trip: Option<Duration>,
}

/// Whether the probe samples the CPU's busy share, which takes it 0.1 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sample {
    /// For `tsync status`: the busy share too, and the timed round trip.
    Busy,
    /// For placement, which must cost a run as little as one more command: no CPU sample
    /// (the load average per core stands for the CPU), no timed round trip, and the disk
    /// only when `disk` (a start of `df`, where everything else is read by builtins).
    Quick { disk: bool },
}

/// Runs the probe on `connection`. The error says, in a few words, why there is no load.
pub async fn probe(connection: &Connection, sample: Sample) -> Result<Probed, String> {
    let (captured, round_trip) = match sample {
        // The login shell runs the script, one process fewer, and stdin carries only the
        // line of the round trip. A login shell that cannot (fish, csh) answers with
        // nothing usable, and `sh` reads the script from stdin, the line after it.
        Sample::Busy => {
            let command = format!("set -- busy\n{}", without_comments(SCRIPT));
            let first = connection
                .capture_timed(&command, b"", CPU_SAMPLE, ANSWER_LIMIT)
                .await;
            match first {
                Ok((captured, round_trip))
                    if Load::parse(&String::from_utf8_lossy(&captured.stdout)).is_some() =>
                {
                    Ok((captured, round_trip))
                }
                Ok(_) => {
                    connection
                        .capture_timed("sh -s busy", SCRIPT.as_bytes(), CPU_SAMPLE, ANSWER_LIMIT)
                        .await
                }
                Err(e) => Err(e),
            }
        }
        // The login shell runs the script itself, one process fewer; a login shell that
        // cannot (fish, csh), or a host that is not Linux, answers with nothing usable, and
        // `sh` reads the full probe from stdin.
        Sample::Quick { disk } => {
            let quick = without_comments(QUICK);
            let command = match disk {
                true => format!("{quick}{QUICK_DISK}"),
                false => quick,
            };
            match connection.capture(&command, None, ANSWER_LIMIT).await {
                Ok(captured) => match Load::parse(&String::from_utf8_lossy(&captured.stdout)) {
                    Some(load) => {
                        return Ok(Probed {
                            load,
                            round_trip: None,
                        });
                    }
                    None => connection
                        .capture("sh -s", Some(SCRIPT.as_bytes()), ANSWER_LIMIT)
                        .await
                        .map(|captured| (captured, None)),
                },
                Err(e) => Err(e),
            }
        }
    }
    .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&captured.stdout);
    match Load::parse(&text) {
        Some(load) => Ok(Probed { load, round_trip }),
        None => Err(match captured.exit_code {
            Some(0) | None if captured.stderr.is_empty() => {
                "the load probe gave no usable answer".to_string()
            }
            _ => format!(
                "the load probe failed: {}",
                captured.stderr.lines().last().unwrap_or("no message")
            ),
        }),
    }
}

/// `script` without its comment lines: they are for whoever reads probe.sh, and a login
/// shell given the script as its command line would read them on every host each time.
fn without_comments(script: &str) -> String {
    let mut kept = String::with_capacity(script.len());
    for line in script.lines() {
        if !line.trim_start().starts_with('#') {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_lines_are_left_out_and_the_rest_kept_as_it_is() {
        let script =
            "# why\nread -r l < /proc/loadavg # not a comment line\n    # indented\necho \"#1\"\n";
        assert_eq!(
            without_comments(script),
            "read -r l < /proc/loadavg # not a comment line\necho \"#1\"\n"
        );
        // The scripts keep every line that does something.
        assert!(without_comments(QUICK).contains("MemAvailable:"));
        assert!(!without_comments(SCRIPT).contains("# "));
    }
}
