//! What the probe (probe.sh) measured on one host, read from its `key values…` lines.

use serde::Serialize;

/// One host's load. Fields a host could not give (a macOS without `vm_stat`, a sleep that
/// takes no fractions) are None and left out of the score's parts, never guessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Load {
    /// `uname -s`: "Linux", "Darwin", …
    pub os: String,
    pub cpus: u32,
    /// 1, 5 and 15 minute load averages.
    pub load: [f64; 3],
    /// Share of CPU time busy (not idle, not waiting for I/O) over the probe's 0.1 s.
    pub cpu_busy: Option<f64>,
    /// Share of memory in use: 1 − MemAvailable / MemTotal.
    pub mem_used: Option<f64>,
    pub mem_total_bytes: Option<u64>,
    /// Share of the root (macOS: data) volume in use, as `df` counts it.
    pub disk_used: Option<f64>,
    pub disk_free_bytes: Option<u64>,
    pub uptime_secs: Option<u64>,
}

impl Load {
    /// Reads the probe's output; None when it lacks the lines every host gives.
    pub fn parse(text: &str) -> Option<Load> {
        let mut os = None;
        let mut cpus = None;
        let mut load = None;
        let mut stats: Vec<Vec<u64>> = Vec::new();
        let mut busy_percent: Option<f64> = None;
        let (mut mem_total, mut mem_available) = (None, None);
        let mut disk: Option<[u64; 3]> = None;
        let mut uptime = None;
        for line in text.lines() {
            // `df -Pk` prints a header, then `FS 1024-blocks Used Available Capacity% MOUNT`;
            // the numbers are the three before the capacity, wherever spaces in the file
            // system's name put them.
            if let Some(values) = df_line(line) {
                disk = Some(values);
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let numbers = || rest.split_whitespace().map(str::parse::<f64>);
            match key {
                "os" if !rest.trim().is_empty() => os = Some(rest.trim().to_string()),
                "cpus" => cpus = rest.trim().parse::<u32>().ok().filter(|&n| n > 0),
                "load" => {
                    let values: Vec<f64> = numbers().take(3).filter_map(Result::ok).collect();
                    load = <[f64; 3]>::try_from(values).ok();
                }
                // `stat cpu user nice system idle iowait irq softirq steal …`
                "stat" => stats.push(
                    rest.split_whitespace()
                        .skip(1)
                        .filter_map(|n| n.parse().ok())
                        .collect(),
                ),
                "busy" => busy_percent = rest.trim().parse().ok(),
                "mem_total_kb" => mem_total = rest.trim().parse::<u64>().ok(),
                "mem_available_kb" => mem_available = rest.trim().parse::<u64>().ok(),
                "uptime" => uptime = rest.trim().parse::<f64>().ok().map(|s| s as u64),
                _ => {}
            }
        }
        let cpu_busy = match stats.as_slice() {
            [first, second] => busy_between(first, second),
            _ => busy_percent.map(|p| (p / 100.0).clamp(0.0, 1.0)),
        };
        let mem_used = match (mem_total, mem_available) {
            (Some(total), Some(available)) if total > 0 => {
                Some(1.0 - available.min(total) as f64 / total as f64)
            }
            _ => None,
        };
        // df's Use%: used over used + available, so blocks reserved for root count as full.
        let disk_used = disk.and_then(|[_, used, available]| {
            let usable = used + available;
            (usable > 0).then(|| used as f64 / usable as f64)
        });
        Some(Load {
            os: os?,
            cpus: cpus?,
            load: load?,
            cpu_busy,
            mem_used,
            mem_total_bytes: mem_total.map(|kb| kb * 1024),
            disk_used,
            disk_free_bytes: disk.map(|[_, _, available]| available * 1024),
            uptime_secs: uptime,
        })
    }

    /// The one-minute load average per core.
    pub fn load_per_cpu(&self) -> f64 {
        self.load[0] / f64::from(self.cpus.max(1))
    }
}

/// The 1 KiB blocks in all, used and available on a line of `df -Pk`, if it is one.
fn df_line(line: &str) -> Option<[u64; 3]> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let capacity = words.iter().position(|w| {
        w.len() > 1 && w.ends_with('%') && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit())
    })?;
    let numbers = words.get(capacity.checked_sub(3)?..capacity)?;
    let mut values = [0u64; 3];
    for (value, word) in values.iter_mut().zip(numbers) {
        *value = word.parse().ok()?;
    }
    Some(values)
}

/// The busy share between two /proc/stat `cpu` samples: everything but idle and iowait.
fn busy_between(first: &[u64], second: &[u64]) -> Option<f64> {
    // user nice system idle iowait irq softirq steal; guest time is already in user.
    let total = |s: &[u64]| s.iter().take(8).sum::<u64>();
    let idle = |s: &[u64]| s.get(3).copied().unwrap_or(0) + s.get(4).copied().unwrap_or(0);
    let elapsed = total(second).checked_sub(total(first))?;
    let idle = idle(second).checked_sub(idle(first))?;
    (elapsed > 0).then(|| (elapsed.saturating_sub(idle)) as f64 / elapsed as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX: &str = "os Linux
stat cpu  4705 150 1120 16250 520 0 35 0 0 0
cpus 4
load 0.52 0.58 0.59 1/123 4567
mem_total_kb 8000000
mem_available_kb 6000000
uptime 35231.17
Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/sda1        102400000 40960000  56320000      43% /
stat cpu  4725 150 1130 16300 520 0 35 0 0 0
done
";

    #[test]
    fn a_linux_answer() {
        let load = Load::parse(LINUX).expect("parses");
        assert_eq!(load.os, "Linux");
        assert_eq!(load.cpus, 4);
        assert_eq!(load.load, [0.52, 0.58, 0.59]);
        // 30 busy ticks of 80.
        assert_eq!(load.cpu_busy, Some(30.0 / 80.0));
        assert_eq!(load.mem_used, Some(0.25));
        assert_eq!(load.mem_total_bytes, Some(8_192_000_000));
        assert_eq!(load.disk_used, Some(40960000.0 / 97280000.0));
        assert_eq!(load.disk_free_bytes, Some(56320000 * 1024));
        assert_eq!(load.uptime_secs, Some(35231));
        assert_eq!(load.load_per_cpu(), 0.13);
    }

    #[test]
    fn a_macos_answer() {
        let text = "os Darwin
cpus 8
load  1.93 2.10 2.27
mem_total_kb 16777216
mem_available_kb 4194304
busy 160.0
uptime 86400
Filesystem    1024-blocks      Used Available Capacity  Mounted on
/dev/disk3s5    488245288 200000000 288245288    41%    /System/Volumes/Data
done
";
        let load = Load::parse(text).expect("parses");
        assert_eq!(load.cpus, 8);
        assert_eq!(load.load, [1.93, 2.10, 2.27]);
        assert_eq!(load.cpu_busy, Some(1.0));
        assert_eq!(load.mem_used, Some(0.75));
    }

    #[test]
    fn missing_parts_are_left_out_not_guessed() {
        // One CPU sample (no fractional sleep), no MemAvailable (Linux before 3.14), no df.
        let text = "os Linux\nstat cpu 1 2 3 4 5 6 7 8\ncpus 2\nload 1 1 1\nmem_total_kb 100\n";
        let load = Load::parse(text).expect("parses");
        assert_eq!(load.cpu_busy, None);
        assert_eq!(load.mem_used, None);
        assert_eq!(load.disk_used, None);
    }

    #[test]
    fn a_file_system_name_with_spaces_does_not_shift_the_numbers() {
        assert_eq!(
            df_line("map auto_home  0 0 0 100% /System/Volumes/Data/home"),
            Some([0, 0, 0])
        );
        assert_eq!(
            df_line("//nas/My Share 1000 400 600 40% /mnt/share"),
            Some([1000, 400, 600])
        );
        let header = "Filesystem 1024-blocks Used Available Capacity Mounted on";
        assert_eq!(df_line(header), None);
        assert_eq!(df_line("load 1 1 1"), None);
    }

    #[test]
    fn an_answer_without_cpus_or_load_is_no_answer() {
        assert_eq!(Load::parse("os Linux\nload 1 1 1\n"), None);
        assert_eq!(Load::parse("os Linux\ncpus 2\nload 1 x 1\n"), None);
        assert_eq!(Load::parse("garbage"), None);
    }
}
