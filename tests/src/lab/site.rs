//! Where a lab process runs and where its sockets live: the host's own network (loopback) or a
//! lab network namespace.

use std::process::Command;

/// The network a command or a piece of Rust code runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// The test process's own network (for loopback services).
    Host,
    /// The lab namespace of this name (see [`super::Netns`]).
    Netns(String),
}

impl Site {
    /// `program` as a command in this site: `ip netns exec NAME program` for a namespace
    /// (`ip` execs the program, so the child pid is the program's pid).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match self {
            Site::Host => Command::new(program),
            Site::Netns(name) => {
                let mut cmd = Command::new(super::tools::require("ip"));
                cmd.args(["netns", "exec", name]).arg(program);
                cmd
            }
        }
    }

    /// Runs `f` on a thread inside this site's network namespace and returns its result.
    ///
    /// Sockets created by `f` stay in that namespace for their whole life, so a listener or a
    /// connected stream made here can be returned and used from any thread (or handed to tokio).
    /// A panic in `f` is re-raised on the caller's thread.
    pub fn enter<R: Send, F: FnOnce() -> R + Send>(&self, f: F) -> R {
        let Site::Netns(name) = self else {
            return f();
        };
        let ns = std::fs::File::open(format!("/run/netns/{name}"))
            .unwrap_or_else(|e| panic!("open namespace {name}: {e}"));
        std::thread::scope(|s| {
            let worker = s.spawn(move || {
                use std::os::fd::AsRawFd;
                // SAFETY: `ns` is an open namespace file; setns only affects this thread,
                // which ends when `f` returns.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(
                    rc,
                    0,
                    "setns into {name}: {}",
                    std::io::Error::last_os_error()
                );
                f()
            });
            worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Runs a command in this site to completion and returns its stdout; panics on failure.
    pub fn run(&self, program: &str, args: &[&str]) -> String {
        let out = self
            .command(super::tools::require(program))
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("spawn {program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} in {self:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
