//! What `/proc` says about a process: its resident memory now and at its peak, its CPU time,
//! and what it holds open (descriptors, threads, TCP sockets).

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

/// User + system CPU seconds of `pids` (all their threads), from `/proc/PID/stat`; a process
/// that is gone counts nothing.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    // SAFETY: sysconf with a valid name has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
        .filter_map(|stat| {
            // Fields after the command name (which may hold spaces) start at state (3rd).
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = fields.get(11)?.parse().ok()?;
            let stime: f64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) / ticks)
        })
        .sum()
}

/// What a process holds at one moment: open descriptors, threads, resident memory, and its own
/// TCP sockets (the descriptors that are sockets, found in its network namespace's TCP tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holdings {
    pub fds: usize,
    pub threads: usize,
    pub rss_kib: u64,
    pub tcp_sockets: usize,
}

impl Holdings {
    /// What process `pid` holds now; `None` when it is gone (or this is not Linux).
    pub fn of(pid: u32) -> Option<Holdings> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| -> Option<u64> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        };
        let mut fds = 0;
        let mut sockets = std::collections::HashSet::new();
        for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
            fds += 1;
            let link = std::fs::read_link(entry.path()).unwrap_or_default();
            let inode = link
                .to_str()
                .and_then(|l| l.strip_prefix("socket:["))
                .and_then(|l| l.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok());
            sockets.extend(inode);
        }
        // The tables of the process's own network namespace; the tenth column is the inode.
        let tcp_sockets = ["tcp", "tcp6"]
            .iter()
            .filter_map(|t| std::fs::read_to_string(format!("/proc/{pid}/net/{t}")).ok())
            .flat_map(|table| {
                table
                    .lines()
                    .skip(1)
                    .filter_map(|l| l.split_whitespace().nth(9)?.parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .filter(|inode| *inode != 0 && sockets.contains(inode))
            .count();
        Some(Holdings {
            fds,
            threads: field("Threads:")? as usize,
            rss_kib: field("VmRSS:")?,
            tcp_sockets,
        })
    }

    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_spent_cpu_time() {
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(cpu_seconds(&[std::process::id()]) > 0.0);
        assert_eq!(cpu_seconds(&[u32::MAX]), 0.0);
    }

    #[test]
    fn this_process_holds_its_descriptors_threads_and_tcp_sockets() {
        let before = Holdings::of(std::process::id()).expect("holdings");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let worker =
            std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(300)));
        let during = Holdings::of(std::process::id()).expect("holdings");
        assert!(during.fds > before.fds, "{before:?} {during:?}");
        assert!(
            during.tcp_sockets > before.tcp_sockets,
            "{before:?} {during:?}"
        );
        assert!(during.threads > before.threads, "{before:?} {during:?}");
        assert!(during.rss_kib > 0);
        drop(listener);
        worker.join().expect("worker");
        assert_eq!(Holdings::of(u32::MAX), None);
    }
}
