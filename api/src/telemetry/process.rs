//! The metrics every Prometheus client library exports about its process (`process_*`,
//! same names and units, so the usual dashboards and alerts work), and `shop_build_info`.
//!
//! Read from `/proc/self` at scrape time, so they are Linux-only: elsewhere they are left
//! out, as the official clients do.

use std::{fmt::Write, path::Path};

/// The kernel reports CPU times and the start time in clock ticks of USER_HZ, which is
/// part of its ABI and 100 on every architecture Rust targets on Linux (reading it with
/// `sysconf` would need `unsafe`, which this crate forbids).
const TICKS_PER_SECOND: f64 = 100.0;

/// The process as `/proc` shows it now.
#[derive(Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub open_fds: u64,
    pub max_fds: Option<u64>,
    pub start_time_seconds: f64,
}

impl ProcessStats {
    /// `None` where there is no `/proc` (not Linux) or it cannot be read.
    pub fn read() -> Option<Self> {
        let proc = Path::new("/proc");
        let stat = std::fs::read_to_string(proc.join("self/stat")).ok()?;
        let status = std::fs::read_to_string(proc.join("self/status")).ok()?;
        let boot_time = std::fs::read_to_string(proc.join("stat"))
            .ok()
            .and_then(|text| boot_time(&text))?;
        let open_fds = u64::try_from(std::fs::read_dir(proc.join("self/fd")).ok()?.count())
            .unwrap_or(u64::MAX);
        let max_fds = std::fs::read_to_string(proc.join("self/limits"))
            .ok()
            .and_then(|text| max_open_files(&text));
        let (cpu_ticks, start_ticks) = cpu_and_start_ticks(&stat)?;
        Some(Self {
            cpu_seconds: cpu_ticks as f64 / TICKS_PER_SECOND,
            resident_bytes: status_kib(&status, "VmRSS:")? * 1024,
            virtual_bytes: status_kib(&status, "VmSize:")? * 1024,
            open_fds,
            max_fds,
            start_time_seconds: boot_time as f64 + start_ticks as f64 / TICKS_PER_SECOND,
        })
    }

    /// Appends the `process_*` families in the text format.
    pub fn render(&self, text: &mut String) {
        family(
            text,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            self.cpu_seconds,
        );
        family(
            text,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            self.resident_bytes as f64,
        );
        family(
            text,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            self.virtual_bytes as f64,
        );
        family(
            text,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            self.open_fds as f64,
        );
        if let Some(max) = self.max_fds {
            family(
                text,
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                max as f64,
            );
        }
        family(
            text,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            self.start_time_seconds,
        );
    }
}

/// Appends `shop_build_info`: always 1, its labels saying which build this is.
pub fn render_build_info(text: &mut String) {
    let _ = writeln!(
        text,
        "# HELP shop_build_info The version and git commit of the running shop (always 1)\n\
         # TYPE shop_build_info gauge\n\
         shop_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION"),
        env!("SHOP_GIT_COMMIT"),
    );
}

fn family(text: &mut String, name: &str, kind: &str, help: &str, value: f64) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"
    );
}

/// Fields 14 and 15 (utime, stime) summed, and field 22 (starttime) of `/proc/self/stat`.
/// Counted after the command name, which is in parentheses and may itself hold spaces
/// and parentheses: the last `)` ends it.
fn cpu_and_start_ticks(stat: &str) -> Option<(u64, u64)> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name come field 3 (state) onwards.
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    Some((field(14)? + field(15)?, field(22)?))
}

/// A `kB` line of `/proc/self/status`, e.g. `VmRSS: 10240 kB` (a tab after the colon).
fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The `btime` line of `/proc/stat`: when the machine booted, in seconds since the epoch.
fn boot_time(stat: &str) -> Option<u64> {
    stat.lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The soft limit of `Max open files` in `/proc/self/limits`; `None` when unlimited.
fn max_open_files(limits: &str) -> Option<u64> {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_start_times_are_read_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 8 0 12345 \
                    1000 200 18446744073709551615";

        assert_eq!(cpu_and_start_ticks(stat), Some((300, 12345)));
    }

    #[test]
    fn status_limits_and_boot_time_lines_are_parsed() {
        let status = "Name:\tshop\nVmSize:\t  204800 kB\nVmRSS:\t   10240 kB\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";

        assert_eq!(status_kib(status, "VmRSS:"), Some(10_240));
        assert_eq!(status_kib(status, "VmSize:"), Some(204_800));
        assert_eq!(max_open_files(limits), Some(1024));
        assert_eq!(
            boot_time("cpu 1 2 3\nbtime 1700000000\n"),
            Some(1_700_000_000)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_read_on_linux() {
        let stats = ProcessStats::read().expect("/proc is readable");

        assert!(stats.resident_bytes > 0 && stats.open_fds > 0);
        assert!(stats.start_time_seconds > 1_600_000_000.0);
    }
}
