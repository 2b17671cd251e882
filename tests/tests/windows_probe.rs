//! The probe as the sync server runs it: `probe.exe` (x86_64-pc-windows-gnu) under Wine,
//! against the Linux mock-relay on loopback, its reports compared field by field with the Linux
//! binary's on the same target; and the Windows sources read where Windows keeps them (the
//! registry's WinHTTP value, machine.config under %WINDIR%, the certificate store).

use e2e::probe_cli::{run, ProbeRun};
use e2e::relay::Relay;
use e2e::windows::{self, win_path, Wine};
use serde_json::{json, Value};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// What must not depend on the platform: verdicts, statuses, outcomes and what was seen, not
/// timings or paths.
fn essentials(report: &Value) -> Value {
    let targets: Vec<Value> = report["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let checks: Vec<Value> = t["checks"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let chain: Vec<&Value> = c["chain"]
                        .as_array()
                        .map(|a| a.iter().map(|cert| &cert["subject"]).collect())
                        .unwrap_or_default();
                    json!({
                        "check": c["check"], "status": c["status"], "outcome": c["outcome"],
                        "tls_version": c["tls_version"], "alpn": c["alpn"], "chain": chain,
                        "status_code": c["status_code"],
                    })
                })
                .collect();
            let idle = &t["idle"];
            let probes: Vec<Value> = idle["probes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| json!([p["idle_s"], p["direction"], p["outcome"]]))
                        .collect()
                })
                .unwrap_or_default();
            // The demo's relays listen on ports of their own each run.
            let url = t["url"].as_str().unwrap_or_default();
            let url = url.rsplit_once(':').map_or(url, |(base, _)| base);
            json!({
                "name": t["name"], "url": url, "kind": t["kind"], "required": t["required"],
                "direct": t["direct"], "verdict": t["verdict"], "checks": checks,
                "idle": {
                    "required_s": idle["required_s"], "survived_s": idle["survived_s"],
                    "failed_s": idle["failed_s"], "failure": idle["failure"],
                    "verdict": idle["verdict"], "step_s": idle["step_s"], "probes": probes,
                    "control": idle["control"]["outcome"],
                },
            })
        })
        .collect();
    json!({
        "schema": report["schema"], "scenario": report["scenario"], "cloud": report["cloud"],
        "verdict": report["verdict"], "proxy": report["proxy"], "targets": targets,
    })
}

fn assert_same_report(windows: &ProbeRun, linux: &ProbeRun) {
    assert_eq!(
        (windows.code, essentials(&windows.json())),
        (linux.code, essentials(&linux.json())),
        "probe.exe (left) and the Linux probe (right) disagree\nprobe.exe stderr:\n{}",
        windows.stderr
    );
}

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn help_and_scenarios_match_the_linux_binary() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let started = std::time::Instant::now();
    let help = wine.probe(&["--help"], LIMIT).await;
    eprintln!(
        "windows: first probe.exe in a fresh prefix took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let linux = run(&["--help"], LIMIT).await;
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert_eq!(help.stdout.replace("probe.exe", "probe"), linux.stdout);
    assert!(help.stderr.is_empty(), "Wine said: {}", help.stderr);

    let scenarios = wine.probe(&["scenarios"], LIMIT).await;
    let linux = run(&["scenarios"], LIMIT).await;
    assert_eq!((scenarios.code, &scenarios.stdout), (0, &linux.stdout));

    let bad = wine.probe(&["run", "--timeout", "0"], LIMIT).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--timeout"), "{}", bad.stderr);
}

/// What a compared run points at: the demo's own relays, or a mock-relay on loopback (then
/// each binary gets `run --target URL --ca-file CA`, the CA in its own platform's path form).
#[derive(Clone, Copy, PartialEq)]
enum Against {
    Demo,
    Relay,
}

/// probe.exe's run and the Linux binary's, already found to agree ([`assert_same_report`]).
struct Compared {
    windows: ProbeRun,
    /// The relay's CA as probe.exe was given it (against a relay).
    ca_windows: String,
}

/// Runs `args` in probe.exe under Wine and in the Linux probe at once, and asserts that their
/// reports agree.
async fn compare(tools: &'static windows::Toolchain, against: Against, args: &[&str]) -> Compared {
    let wine = Wine::new(tools);
    let relay = match against {
        Against::Relay => Some(Relay::serve(&[]).await),
        Against::Demo => None,
    };
    let url = relay
        .as_ref()
        .map(|r| format!("relay://127.0.0.1:{}", r.tls().port()))
        .unwrap_or_default();
    let ca = relay.as_ref().map(Relay::ca_file).unwrap_or_default();
    let ca_windows = win_path(std::path::Path::new(&ca));
    let with_target = |ca: &str| -> Vec<String> {
        let target = ["run", "--target", &url, "--ca-file", ca];
        let target = if against == Against::Relay {
            &target[..]
        } else {
            &[]
        };
        target.iter().chain(args).map(|a| a.to_string()).collect()
    };
    let (win_args, linux_args) = (with_target(&ca_windows), with_target(&ca));
    let win_args: Vec<&str> = win_args.iter().map(String::as_str).collect();
    let linux_args: Vec<&str> = linux_args.iter().map(String::as_str).collect();
    let (windows, linux) = tokio::join!(wine.probe(&win_args, LIMIT), run(&linux_args, LIMIT));
    assert_same_report(&windows, &linux);
    Compared {
        windows,
        ca_windows,
    }
}

/// One test per comparison, each its own test by name: what the runs point at, the arguments,
/// and what else probe.exe's report must show.
macro_rules! comparison_tests {
    ($($name:ident: $against:expr, [$($arg:literal),* $(,)?] => $then:expr;)*) => {$(
        #[e2e::lab::needs(windows)]
        #[tokio::test]
        async fn $name() {
            let Some(tools) = windows::require() else {
                return;
            };
            let compared = compare(tools, $against, &[$($arg),*]).await;
            let then: fn(&Compared) = $then;
            then(&compared);
        }
    )*};
}

comparison_tests! {
    demo_json_matches_the_linux_binary: Against::Demo, ["demo", "--format", "json"] => |c| {
        let idle = &c.windows.json()["targets"][0]["idle"];
        assert_eq!(idle["failure"], "silent_drop", "{idle:#}");
    };
    a_relay_run_matches_the_linux_binary_in_json:
        Against::Relay, ["--quick", "--format", "json"] => |c| {
        e2e::probe_cli::assert_matches_schema(&c.windows.json());
        assert_eq!(c.windows.code, 0, "{}", c.windows.stdout);
        let tls = c.windows.check("tls");
        assert!(
            tls["message"]
                .as_str()
                .unwrap()
                .contains(&format!("--ca-file {}", c.ca_windows)),
            "the anchor's store is named: {tls:#}"
        );
    };
    an_idle_ladder_matches_the_linux_binary: Against::Relay, [
        "--idle", "2", "--idle-min", "1", "--idle-max", "3", "--idle-step", "1", "--format", "json",
    ] => |c| {
        let idle = &c.windows.json()["targets"][0]["idle"];
        assert_eq!(
            (idle["verdict"].as_str(), idle["survived_s"].as_f64()),
            (Some("pass"), Some(3.0)),
            "{idle:#}"
        );
    };
}

/// `--format human` on a pipe: the Linux binary's lines, and no colour (no terminal, NO_COLOR
/// unset).
#[e2e::lab::needs(windows)]
#[tokio::test]
async fn a_relay_run_in_human_has_the_linux_lines_and_no_colour_on_a_pipe() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = relay.ca_file();
    let ca_windows = win_path(std::path::Path::new(&ca));
    let args = |ca: &str| -> Vec<String> {
        [
            "run",
            "--target",
            &url,
            "--ca-file",
            ca,
            "--quick",
            "--format",
            "human",
        ]
        .map(String::from)
        .to_vec()
    };
    let mut cmd = wine.command(&tools.probe_exe);
    cmd.env_remove("NO_COLOR").args(args(&ca_windows));
    let out = tokio::time::timeout(LIMIT, cmd.output())
        .await
        .expect("probe.exe --format human finished")
        .expect("probe.exe ran");
    let human = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{human}");
    assert!(!human.contains('\u{1b}'), "colour on a pipe: {human:?}");
    let linux_args = args(&ca);
    let linux_args: Vec<&str> = linux_args.iter().map(String::as_str).collect();
    let linux_human = run(&linux_args, LIMIT).await;
    let shape = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect()
    };
    assert_eq!(shape(&human), shape(&linux_human.stdout), "{human}");
    assert!(human.contains("verdict: PASS"), "{human}");
}

/// The registry value and machine.config path an administrator's tools write.
const CONNECTIONS: &str =
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections";

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn winhttp_and_machine_config_are_read_from_where_windows_keeps_them() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = win_path(std::path::Path::new(&relay.ca_file()));
    // A port nothing listens on: a proxy there refuses, so whether the probe used it shows.
    let dead_proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("127.0.0.1:{}", dead_proxy.local_addr().unwrap().port());
    drop(dead_proxy);
    let probe = |extra: &'static [&'static str]| {
        let mut args = vec!["run", "--target", &url, "--ca-file", &ca, "--quick"];
        args.extend(["--format", "json", "--timeout", "5"]);
        args.extend(extra);
        let wine = &wine;
        async move { wine.probe(&args, LIMIT).await }
    };

    // netsh winhttp set proxy 127.0.0.1:PORT "<local>" (Wine's own WinHTTP writes the value).
    wine.aid(&["set-winhttp", &dead, "<local>"]).await;
    let through = probe(&["--proxy-from-winhttp"]).await;
    assert_eq!(through.code, 1, "{}", through.stdout);
    assert_eq!(through.json()["proxy"], format!("http://{dead}"));
    let tcp = through.check("tcp");
    assert_eq!(tcp["outcome"], "refused", "{tcp:#}");
    let message = tcp["message"].as_str().unwrap();
    assert!(
        message.contains(r"from WinHTTP (HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections\WinHttpSettings)"),
        "{message}"
    );

    // A bypass list naming the target: WinHTTP goes direct.
    wine.aid(&["set-winhttp", &dead, "<local>;127.0.0.*"]).await;
    let bypassed = probe(&["--proxy-from-winhttp"]).await;
    assert_eq!(bypassed.code, 0, "{}", bypassed.stdout);
    assert!(bypassed.json()["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["check"] != "proxy"));

    // machine.config at its default path says direct; WinHTTP still names a proxy: the run
    // follows machine.config, as the sync service does, and the notes show both.
    let config_dir = wine
        .drive_c()
        .join("windows/Microsoft.NET/Framework64/v4.0.30319/Config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("machine.config"),
        r#"<?xml version="1.0"?><configuration><system.net><defaultProxy useDefaultCredentials="true"/></system.net></configuration>"#,
    )
    .unwrap();
    let machine = probe(&["--proxy-from-machine-config"]).await;
    assert_eq!(machine.code, 0, "{}", machine.stdout);
    assert!(machine.json()["proxy"].is_null());
    let notes = machine.json()["notes"].to_string();
    assert!(
        notes.contains(r"Microsoft.NET\\Framework64\\v4.0.30319\\Config\\machine.config"),
        "{notes}"
    );
    assert!(
        notes.contains("machine.config and WinHTTP disagree")
            && notes.contains(&format!("says proxy {dead}")),
        "{notes}"
    );

    // netsh winhttp reset proxy, as Windows writes it (Microsoft's direct-access bytes, KB
    // 4494447), through Wine's reg.exe: now they agree, and the note is gone.
    let reg = wine
        .reg(&[
            "add",
            CONNECTIONS,
            "/v",
            "WinHttpSettings",
            "/t",
            "REG_BINARY",
            "/d",
            "1800000000000000010000000000000000000000",
            "/f",
        ])
        .await;
    assert_eq!(reg.code, 0, "{}", reg.stderr);
    let agree = probe(&["--proxy-from-machine-config"]).await;
    assert!(
        !agree.json()["notes"].to_string().contains("disagree"),
        "{}",
        agree.stdout
    );
    let direct = probe(&["--proxy-from-winhttp"]).await;
    assert_eq!(direct.code, 0, "{}", direct.stdout);
    assert!(direct.json()["notes"]
        .to_string()
        .contains("direct access (no proxy server)"));
}

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn a_ca_in_the_windows_certificate_store_is_trusted_and_named() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let args = ["run", "--target", &url, "--quick", "--format", "json"];

    let before = wine.probe(&args, LIMIT).await;
    assert_eq!(
        before.check("tls")["outcome"],
        "untrusted",
        "{}",
        before.stdout
    );

    // certutil -addstore Root mock-relay-ca.cer
    use rustls_pki_types::pem::PemObject;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(relay.ca_pem().as_bytes())
        .expect("the relay's CA is PEM");
    let cer = relay.path("mock-relay-ca.cer");
    std::fs::write(&cer, der.as_ref()).unwrap();
    wine.aid(&["add-root", &win_path(&cer)]).await;

    let after = wine.probe(&args, LIMIT).await;
    let tls = after.check("tls");
    assert_eq!(
        (tls["status"].as_str(), tls["outcome"].as_str()),
        (Some("pass"), Some("ok")),
        "{tls:#}"
    );
    let store = "by an anchor from the Windows certificate store";
    assert!(tls["message"].as_str().unwrap().contains(store), "{tls:#}");

    // The same CA re-signing what should be Microsoft's: an inspecting proxy whose CA the
    // server trusts. The report says so, and where that trust comes from.
    let scenario = relay.path("inspected.toml");
    std::fs::write(
        &scenario,
        format!("name = \"inspected\"\n\n[[targets]]\nname = \"relay behind inspection\"\nurl = \"{url}\"\nexpect_issuer = [\"Microsoft\", \"DigiCert\"]\n"),
    )
    .unwrap();
    let inspected = wine
        .probe(
            &["run", &win_path(&scenario), "--quick", "--format", "json"],
            LIMIT,
        )
        .await;
    let tls = inspected.check("tls");
    assert_eq!(tls["outcome"], "intercepted", "{tls:#}");
    let message = tls["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("trusted here {store}"))
            && message.contains("CN=mock-relay test CA"),
        "{message}"
    );
}

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn namespace_from_reads_a_utf16_event_export_or_exits_2() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "Log Name: Application\r\nnothing here\r\n").unwrap();
    let run = wine
        .probe(&["run", "--namespace-from", &win_path(&empty)], LIMIT)
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--namespace-from") && run.stderr.contains("31034"),
        "{}",
        run.stderr
    );
    let missing = wine
        .probe(
            &["run", "--namespace-from", r"C:\no\such\events.txt"],
            LIMIT,
        )
        .await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("cannot read it"),
        "{}",
        missing.stderr
    );
}

#[e2e::lab::needs(windows)]
#[tokio::test]
async fn mock_relay_exe_under_wine_serves_the_linux_probe() {
    let Some(tools) = windows::require() else {
        return;
    };
    let wine = Wine::new(tools);
    let relay = Relay::serve_via(wine.command(&tools.mock_relay_exe), &[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = relay.ca_file();
    let args = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--idle",
        "2",
        "--idle-min",
        "1",
        "--idle-max",
        "3",
        "--idle-step",
        "1",
        "--format",
        "json",
    ];
    let linux = run(&args, LIMIT).await;
    assert_eq!(linux.code, 0, "{}", linux.stdout);
    let idle = &linux.json()["targets"][0]["idle"];
    assert_eq!(idle["survived_s"].as_f64(), Some(3.0), "{idle:#}");
    // The pushes came from the Windows build: its log has them.
    relay
        .wait_for_log(&["pushed", "idle_s=3"], Duration::from_secs(10))
        .await;
}
