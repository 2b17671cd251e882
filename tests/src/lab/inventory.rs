//! What lab resources exist right now: namespaces, links of the host namespace and processes
//! whose command line names a lab temp dir. Used by the stale cleanup and the leftover test.

use super::names::PREFIX;

/// Names of lab namespaces (any owner).
pub fn namespaces() -> Vec<String> {
    let out = std::process::Command::new(super::tools::require("ip"))
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with(PREFIX))
        .map(str::to_string)
        .collect()
}

/// Names of links in the host namespace with the lab prefix (any owner).
pub fn host_links() -> Vec<String> {
    std::fs::read_dir("/sys/class/net")
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with(PREFIX) || n.starts_with("lab"))
                .collect()
        })
        .unwrap_or_default()
}

/// `(pid, command line)` of every process whose command line mentions a lab name.
pub fn processes() -> Vec<(i32, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(&format!("{PREFIX}-")) {
            found.push((pid, cmdline.trim().to_string()));
        }
    }
    found
}

/// Pids of the live (non-zombie) children of this process.
pub fn children() -> Vec<i32> {
    let me = std::process::id().to_string();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        if fields.next() == Some(me.as_str()) && state != "Z" {
            found.push(pid);
        }
    }
    found
}
