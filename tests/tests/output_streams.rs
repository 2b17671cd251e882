//! Where the probe's output goes: a closed pipe on stdout (`probe ... | head`) or on stderr ends
//! every command quietly with its usual exit code, never a panic; logs honour `RUST_LOG`
//! (`PROBE_LOG` first) and carry no colour codes when stderr is not a terminal.

use e2e::probe_cli::run_command;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);

/// The write end of a pipe whose read end is already closed: every write fails with EPIPE.
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors are ours and used once each.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

/// Runs the probe with stdout (and, with `stderr_too`, stderr) on a closed pipe; the exit code
/// and what stderr said.
async fn with_closed_pipe(args: &[&str], stderr_too: bool) -> (i32, String) {
    let mut cmd = tokio::process::Command::new(e2e::bins::probe());
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .kill_on_drop(true);
    if stderr_too {
        cmd.stderr(closed_pipe());
    } else {
        cmd.stderr(Stdio::piped());
    }
    let out = tokio::time::timeout(LIMIT, cmd.spawn().expect("spawn").wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("probe {args:?} did not end"))
        .expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_every_command_quietly() {
    let refused = format!("tcp://127.0.0.1:{}", e2e::report_tools::closed_port());
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("run.json");
    let json = e2e::probe_cli::run(&["run", "--target", &refused, "--format", "json"], LIMIT).await;
    assert_eq!(json.code, 1, "{}", json.stderr);
    std::fs::write(&result, &json.stdout).unwrap();
    let result = result.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["run", "--target", &refused, "--format", "human"], 1),
        (vec!["run", "--target", &refused, "--format", "json"], 1),
        (vec!["run", "--target", &refused, "--format", "junit"], 1),
        (vec!["report", result], 0),
        (vec!["report", result, "--format", "html"], 0),
        (vec!["man"], 0),
        (vec!["completions", "bash"], 0),
        (vec!["completions", "zsh"], 0),
        (vec!["scenarios"], 0),
        (vec!["--help"], 0),
        (vec!["run", "--help"], 0),
        (vec!["--version"], 0),
        (vec!["demo", "--format", "json"], 0),
        (vec!["run", "no-such-scenario"], 2),
        (vec!["report", "/nonexistent/run.json"], 2),
    ];
    let runs = cases.iter().map(|(args, code)| async move {
        for stderr_too in [false, true] {
            let (got, stderr) = with_closed_pipe(args, stderr_too).await;
            assert_eq!(
                got, *code,
                "probe {args:?} (stderr closed too: {stderr_too}): exit {got}\n{stderr}"
            );
            assert!(
                !stderr.contains("panicked")
                    && !stderr.contains("Broken pipe")
                    && !stderr.contains("BrokenPipe"),
                "probe {args:?}: {stderr}"
            );
        }
    });
    futures_util::future::join_all(runs).await;
}

#[tokio::test]
async fn logs_honour_rust_log_under_probe_log_and_have_no_colour_codes_in_a_file() {
    let refused = format!("tcp://127.0.0.1:{}", e2e::report_tools::closed_port());
    let args = ["run", "--target", refused.as_str(), "--format", "json"];
    let logged = |env: Vec<(&'static str, &'static str)>| {
        let mut cmd = tokio::process::Command::new(e2e::bins::probe());
        cmd.env_remove("RUST_LOG").env_remove("PROBE_LOG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_command(cmd, &args, LIMIT)
    };
    let rust_log = logged(vec![("RUST_LOG", "info")]).await;
    assert!(
        rust_log.stderr.contains("checking"),
        "RUST_LOG=info shows info lines:\n{}",
        rust_log.stderr
    );
    assert!(
        !rust_log.stderr.contains('\u{1b}'),
        "colour codes in a log that is not a terminal:\n{:?}",
        rust_log.stderr
    );
    let both = logged(vec![("RUST_LOG", "info"), ("PROBE_LOG", "error")]).await;
    assert!(
        !both.stderr.contains("checking"),
        "PROBE_LOG takes precedence over RUST_LOG:\n{}",
        both.stderr
    );
    let probe_log = logged(vec![("PROBE_LOG", "debug")]).await;
    assert!(
        probe_log.stderr.contains("checking"),
        "{}",
        probe_log.stderr
    );
    assert!(
        !probe_log.stderr.contains('\u{1b}'),
        "{:?}",
        probe_log.stderr
    );
    let quiet = logged(vec![]).await;
    assert!(!quiet.stderr.contains("checking"), "{}", quiet.stderr);
    let help = e2e::probe_cli::run(&["--help"], LIMIT).await;
    assert!(
        help.stdout.contains("RUST_LOG") && help.stdout.contains("PROBE_LOG"),
        "{}",
        help.stdout
    );
}

#[tokio::test]
async fn serve_with_closed_output_streams_keeps_serving_and_stops_cleanly() {
    let port = e2e::report_tools::closed_port();
    let listen = format!("127.0.0.1:{port}");
    let refused = format!("tcp://127.0.0.1:{}", e2e::report_tools::closed_port());
    let mut child = tokio::process::Command::new(e2e::bins::probe())
        .args([
            "serve",
            "--listen",
            &listen,
            "--interval",
            "1s",
            "--target",
            &refused,
            "--quick",
        ])
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(closed_pipe())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn probe serve");
    // Serving: /metrics answers (bounded wait for the listener, then for a finished run).
    let started = std::time::Instant::now();
    loop {
        if tokio::net::TcpStream::connect(&listen).await.is_ok() {
            let r = e2e::report_tools::http_get(&listen, "/metrics", Duration::from_secs(5)).await;
            if r.body.contains("probe_success") {
                break;
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("probe serve exited with {status} while its output streams were closed");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "probe serve never served a run"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = child.id().expect("pid") as i32;
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("probe serve exits after SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}
