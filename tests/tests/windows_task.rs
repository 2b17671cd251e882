//! The Windows scheduled task of docs/deploy-watch.md under Wine: its task XML, read from the
//! docs themselves (only the watch's arguments adapted to this test's loopback mock-relay), is
//! registered with `schtasks /Create /XML`, started, watched, stopped with Ctrl-C, started again
//! and ended at once as `schtasks /End` ends it, and deleted with `schtasks /Delete`.
//!
//! What Wine 8 offers, found by trying it and read in its sources: `schtasks` implements only
//! `/Create /XML` and `/Delete` (`/Run`, `/End` and `/Query` print a fixme and do nothing, and
//! exit 0). Its Task Scheduler 2.0 (`taskschd`, which `schtasks` and the `Schedule.Service`
//! object of a script both use) parses the settings of a definition but not its triggers,
//! principal or actions (`read_triggers`, `read_actions`: stubs): the task it stores keeps the
//! description and settings and has an empty `<Exec/>`. `IRegisteredTask::Run` and `Stop` are
//! stubs too, and nothing fires a boot trigger. So no scheduler under Wine can start this task.
//!
//! What stands in for the start is `wine_aid run-action`: `CreateProcess` on the action exactly as
//! the docs' XML writes it (`"Command" Arguments`, in `WorkingDirectory`), which is what Task
//! Scheduler does when the boot trigger fires or `schtasks /Run` asks. The stop is the
//! console's Ctrl-C (Wine turns SIGINT to a Windows process into `CTRL_C_EVENT`), one of the
//! stops `probe/src/stop_signal.rs` handles. `schtasks /End` on Windows is a hard kill instead
//! (TerminateProcess); Wine's `taskkill /F` does the same, and the events written so far must
//! survive it. On a real Windows host the commands in the docs are the test.

use e2e::relay::Relay;
use e2e::report_tools::http_get_with;
use e2e::watch_events::{self as ev, of};
use e2e::windows::{self, win_path, Wine};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const TASK: &str = "probe-watch";
const LIMIT: Duration = Duration::from_secs(60);
const PASSWORD: &str = "scrape me";

/// The Exec action of a task definition, as the XML writes it (entities decoded).
struct Exec {
    command: String,
    arguments: String,
    working_directory: String,
}

/// The task XML of the docs' "Windows: a scheduled task at startup" section.
fn docs_task_xml() -> String {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy-watch.md");
    let text = std::fs::read_to_string(&docs).expect("read docs/deploy-watch.md");
    let section = text
        .split_once("## Windows: a scheduled task at startup")
        .expect("the docs have a Windows scheduled task section")
        .1;
    let xml = section
        .split_once("```xml\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("the Windows section has a task XML block")
        .0;
    format!("{xml}\n")
}

fn exec_of(xml: &str) -> Exec {
    let doc = roxmltree::Document::parse(xml).expect("the task XML parses");
    let text = |name: &str| -> String {
        doc.descendants()
            .find(|n| n.has_tag_name(name) && n.ancestors().any(|a| a.has_tag_name("Exec")))
            .and_then(|n| n.text())
            .unwrap_or_else(|| panic!("the task's Exec action has no {name}"))
            .to_string()
    };
    Exec {
        command: text("Command"),
        arguments: text("Arguments"),
        working_directory: text("WorkingDirectory"),
    }
}

/// The docs' XML with the watch's arguments adapted: the exporter on a free loopback port
/// instead of 0.0.0.0:9465, and the test's relay as the target (the docs take theirs from
/// `PROBE_HYBRID_CONNECTION`), pushed every second, with a `--for` that ends a watch the Ctrl-C
/// missed. The command, working directory, web config and events file stay as written.
fn adapt(xml: &str, extra: &str) -> String {
    let arguments = exec_of(xml).arguments;
    let listen = "--listen 0.0.0.0:9465";
    assert!(
        arguments.starts_with("watch ") && arguments.contains(listen),
        "the docs' task runs `probe watch {listen}`: {arguments}"
    );
    let adapted = format!(
        "{} {extra}",
        arguments.replace(listen, "--listen 127.0.0.1:0")
    );
    assert!(!adapted.contains(['&', '<', '>']), "{adapted}");
    let from = format!("<Arguments>{arguments}</Arguments>");
    assert!(xml.contains(&from), "the Arguments are written plainly");
    xml.replace(&from, &format!("<Arguments>{adapted}</Arguments>"))
}

/// The file as Task Scheduler exports it and the docs save it: UTF-16 little-endian with a BOM.
fn utf16_file(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// The value of an option in the Arguments (`--events "C:\..."` → `C:\...`).
fn option<'a>(arguments: &'a str, flag: &str) -> &'a str {
    let rest = arguments
        .split_once(&format!("{flag} "))
        .unwrap_or_else(|| panic!("no {flag} in {arguments}"))
        .1;
    match rest.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').expect("a closing quote").0,
        None => rest.split_whitespace().next().unwrap_or_default(),
    }
}

/// The task's action, started by `wine_aid run-action`, once it listens.
struct Started {
    aid: tokio::process::Child,
    stdout: tokio::process::ChildStdout,
    /// The exporter's address, from the watch's line on stderr.
    addr: String,
    /// Standard error up to that line, and the rest of it once the watch ends.
    said: String,
    rest_of_stderr: tokio::task::JoinHandle<String>,
}

impl Started {
    async fn start(wine: &Wine, exec: &Exec) -> Started {
        let mut aid = wine.aid_command();
        aid.args([
            "run-action",
            &exec.command,
            &exec.arguments,
            &exec.working_directory,
        ])
        .env_remove("PROBE_HYBRID_CONNECTION")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut aid = aid.spawn().expect("start wine_aid run-action");
        let stdout = aid.stdout.take().unwrap();
        let mut stderr = BufReader::new(aid.stderr.take().unwrap());
        let mut said = String::new();
        let addr = tokio::time::timeout(LIMIT, async {
            loop {
                let mut line = String::new();
                if stderr.read_line(&mut line).await.unwrap_or(0) == 0 {
                    panic!("the watch ended before it listened:\n{said}");
                }
                said.push_str(&line);
                if let Some(rest) = line.split_once("listening on http://") {
                    break rest.1.split_whitespace().next().unwrap().to_string();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the watch did not listen within {LIMIT:?}:\n{said}"));
        let rest_of_stderr = tokio::spawn(async move {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest).await;
            rest
        });
        Started {
            aid,
            stdout,
            addr,
            said,
            rest_of_stderr,
        }
    }

    /// Waits for the end: the exit code, standard output and standard error.
    async fn ended(mut self) -> (Option<i32>, String, String) {
        let status = tokio::time::timeout(LIMIT, self.aid.wait())
            .await
            .expect("the watch ended within a minute of its stop")
            .expect("wait for wine_aid");
        let mut out = String::new();
        self.stdout.read_to_string(&mut out).await.unwrap();
        self.said.push_str(&self.rest_of_stderr.await.unwrap());
        (status.code(), out, self.said)
    }
}

/// Waits until the events file holds `n` delivered pushes; returns its events.
async fn wait_delivered(events: &Path, n: usize) -> Vec<serde_json::Value> {
    let events = events.to_path_buf();
    tokio::task::spawn_blocking(move || {
        ev::wait_for(&events, LIMIT, |e| {
            of(e, "push", None)
                .iter()
                .filter(|p| p["outcome"] == "delivered")
                .count()
                >= n
        })
    })
    .await
    .unwrap()
}

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn the_docs_task_registers_runs_stops_on_ctrl_c_and_deletes_under_wine() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let relay = Relay::serve(&[]).await;
    let ca = win_path(Path::new(&relay.ca_file()));
    let docs_xml = docs_task_xml();
    let xml = adapt(
        &docs_xml,
        &format!(
            "--target relay://127.0.0.1:{} --ca-file \"{ca}\" --timeout 2 --push-every 1s --for 120s",
            relay.tls().port()
        ),
    );
    let exec = exec_of(&xml);
    let docs_exec = exec_of(&docs_xml);
    assert_eq!(
        (&exec.command, &exec.working_directory),
        (&docs_exec.command, &docs_exec.working_directory)
    );

    // Installed where the docs put it; the web config and events where the arguments say.
    let install = wine.c_path(&exec.command);
    std::fs::create_dir_all(install.parent().unwrap()).unwrap();
    std::fs::copy(&tools.probe_exe, &install).expect("install probe.exe");
    std::fs::create_dir_all(wine.c_path(&exec.working_directory)).unwrap();
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    std::fs::write(
        wine.c_path(option(&exec.arguments, "--web-config")),
        format!("basic_auth_users:\n  prometheus: {hash}\n"),
    )
    .unwrap();
    let events = wine.c_path(option(&exec.arguments, "--events"));
    let xml_file = wine.drive_c().join("probe-watch.xml");
    std::fs::write(&xml_file, utf16_file(&xml)).unwrap();

    // Registered: Wine keeps the definition in system32\Tasks, with the settings it parses.
    let create = wine
        .schtasks(&["/Create", "/TN", TASK, "/XML", &win_path(&xml_file), "/F"])
        .await;
    assert_eq!(create.code, 0, "schtasks /Create: {}", create.stderr);
    let stored = wine.c_path(&format!("C:\\windows\\system32\\tasks\\{TASK}"));
    let registered = std::fs::read_to_string(&stored)
        .unwrap_or_else(|e| panic!("no registered task at {}: {e}", stored.display()));
    for kept in [
        "<Description>Relay path watch",
        "<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>",
        "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
    ] {
        assert!(
            registered.contains(kept),
            "the registered task has {kept}:\n{registered}"
        );
    }

    // Started as the scheduler starts an Exec action.
    let watch = Started::start(&wine, &exec).await;

    // It runs: pushes delivered through the relay, written as they happen and served on
    // /metrics behind the web config's basic auth.
    let written = wait_delivered(&events, 2).await;
    let target = of(&written, "push", None)[0]["target"]
        .as_str()
        .unwrap()
        .to_string();
    let anonymous = http_get_with(&watch.addr, "/metrics", &[], LIMIT).await;
    assert_eq!(
        anonymous.status, 401,
        "the web config's basic auth guards /metrics"
    );
    let credentials = {
        use base64::Engine;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("prometheus:{PASSWORD}"));
        format!("Basic {token}")
    };
    let metrics = http_get_with(
        &watch.addr,
        "/metrics",
        &[("Authorization", credentials.as_str())],
        LIMIT,
    )
    .await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    let delivered = metrics.body.lines().any(|l| {
        l.starts_with("probe_watch_pushes_total{")
            && l.contains("outcome=\"delivered\"")
            && !l.ends_with(" 0")
    });
    assert!(
        delivered,
        "/metrics counts delivered pushes:\n{}",
        metrics.body
    );

    // Stopped with Ctrl-C: the summary, exit 0 (no incident), and the events hold the run.
    let pid = wine
        .linux_pid(&exec.command)
        .unwrap_or_else(|| panic!("no {} running in the prefix", exec.command));
    // SAFETY: a signal to a process this test started (through Wine), found by its prefix.
    assert_eq!(
        unsafe { libc::kill(pid, libc::SIGINT) },
        0,
        "SIGINT to {pid}"
    );
    let (code, summary, said) = watch.ended().await;
    assert_eq!(
        code,
        Some(0),
        "no incident: exit 0\nstdout:\n{summary}\nstderr:\n{said}"
    );
    assert!(
        summary.contains("probe watch: stopped (Ctrl-C)") && summary.contains(&target),
        "the summary says why it stopped and names {target}:\n{summary}"
    );
    let run = ev::read(&events);
    assert!(
        of(&run, "push", Some(&target)).len() >= 2,
        "{}",
        std::fs::read_to_string(&events).unwrap_or_default()
    );
    ev::assert_counts_add_up(&run, &target);

    // What `schtasks /End` does on Windows, a hard stop (TerminateProcess, here by Wine's
    // `taskkill /F`): no summary, and the events file still holds every push of the run.
    let restarted = Started::start(&wine, &exec).await;
    let pushes_before = of(&run, "push", Some(&target)).len();
    let delivered_before = of(&run, "push", None)
        .iter()
        .filter(|p| p["outcome"] == "delivered")
        .count();
    wait_delivered(&events, delivered_before + 1).await;
    let kill = wine.taskkill(&["/F", "/IM", "probe.exe"]).await;
    assert_eq!(kill.code, 0, "taskkill /F: {}{}", kill.stdout, kill.stderr);
    let (_, summary, said) = restarted.ended().await;
    assert!(
        !summary.contains("probe watch: stopped"),
        "a hard stop prints no summary: {summary}\n{said}"
    );
    let after = ev::read(&events);
    assert!(of(&after, "push", Some(&target)).len() > pushes_before);
    assert_eq!(
        of(&after, "stopped", Some(&target)).len(),
        1,
        "only the Ctrl-C stop wrote its totals"
    );

    // Deleted: schtasks /Delete removes the registration.
    let delete = wine.schtasks(&["/Delete", "/TN", TASK, "/F"]).await;
    assert_eq!(delete.code, 0, "schtasks /Delete: {}", delete.stderr);
    assert!(!stored.exists(), "{} is gone", stored.display());
}
