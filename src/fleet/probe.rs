//! Measures one host over its open connection: one POSIX `sh` script (probe.sh), no agent.

use std::time::Duration;

use super::load::Load;
use crate::transport::Connection;

const SCRIPT: &str = include_str!("probe.sh");
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
    /// (the load average per core stands for the CPU) and no timed round trip.
    Quick,
}

/// Runs the probe on `connection`. The error says, in a few words, why there is no load.
pub async fn probe(connection: &Connection, sample: Sample) -> Result<Probed, String> {
    let (captured, round_trip) = match sample {
        // The script goes over stdin, so no login shell (fish, csh) ever parses it; `sh`
        // reads it as it runs, and the line it reads for the round trip comes after it.
        Sample::Busy => {
            connection
                .capture_timed("sh -s busy", SCRIPT.as_bytes(), ANSWER_LIMIT)
                .await
        }
        // The login shell runs the script itself, one process fewer; a login shell that
        // cannot (fish, csh) answers with nothing usable, and `sh` reads it from stdin.
        Sample::Quick => match connection.capture(SCRIPT, None, ANSWER_LIMIT).await {
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
        },
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
