//! What `/proc` says about a process: its resident memory now and at its peak.

/// Resident set sizes in KiB (`VmRSS` and `VmHWM` of `/proc/PID/status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_kib: u64,
}

impl Memory {
    /// The memory of process `pid`; panics when `/proc` cannot tell (Linux only).
    pub fn of(pid: u32) -> Memory {
        Memory::try_of(pid).unwrap_or_else(|| panic!("no VmRSS/VmHWM in /proc/{pid}/status"))
    }

    /// The memory of process `pid`; `None` when `/proc` cannot tell (gone, or not Linux).
    pub fn try_of(pid: u32) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        };
        Some(Memory {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }

    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }
}
