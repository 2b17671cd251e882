//! The Windows sources read from files, by the Linux binary, as a network team does with what
//! the sync server's admin sends over: a `reg export` of the WinHTTP key (UTF-16, as reg.exe
//! writes it), a machine.config, and an event export for `--namespace-from`. Nothing leaves
//! loopback: names are pinned with `--resolve` and DNS goes to a loopback port that answers
//! nothing.

use e2e::probe_cli::{run, ProbeRun};
use e2e::relay::Relay;
use std::path::Path;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// `reg export "HKLM\...\Connections" winhttp.reg` after `netsh winhttp set proxy PROXY BYPASS`:
/// UTF-16LE with a byte-order mark, the value's bytes as Windows writes them (flags 0x3).
fn reg_export(proxy: &str, bypass: &str) -> Vec<u8> {
    let mut blob = vec![0x18, 0, 0, 0, 7, 0, 0, 0, 0x03, 0, 0, 0];
    for s in [proxy, bypass] {
        blob.extend_from_slice(&(s.len() as u32).to_le_bytes());
        blob.extend_from_slice(s.as_bytes());
    }
    let hex: Vec<String> = blob.iter().map(|b| format!("{b:02x}")).collect();
    let mut lines = String::from("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n\"WinHttpSettings\"=hex:");
    for (i, chunk) in hex.chunks(20).enumerate() {
        if i > 0 {
            lines.push_str(",\\\r\n  ");
        }
        lines.push_str(&chunk.join(","));
    }
    lines.push_str("\r\n\r\n");
    utf16_with_bom(&lines)
}

fn utf16_with_bom(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn probe_relay(relay: &Relay, extra: &[&str]) -> ProbeRun {
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = relay.ca_file();
    let mut args = vec!["run", "--target", &url, "--ca-file", &ca, "--quick"];
    args.extend(["--format", "json", "--timeout", "5"]);
    args.extend(extra);
    run(&args, LIMIT).await
}

#[tokio::test]
async fn a_winhttp_reg_export_chooses_the_proxy_and_its_bypass_list() {
    let relay = Relay::serve(&[]).await;
    let dead = format!("127.0.0.1:{}", free_port());
    let reg = relay.path("winhttp.reg");
    std::fs::write(&reg, reg_export(&dead, "<local>;*.corp.example")).unwrap();
    let reg = reg.display().to_string();
    let through = probe_relay(&relay, &["--proxy-from-winhttp", &reg]).await;
    assert_eq!(through.code, 1, "{}", through.stdout);
    assert_eq!(through.json()["proxy"], format!("http://{dead}"));
    let tcp = through.check("tcp");
    assert_eq!(tcp["outcome"], "refused", "{tcp:#}");
    let message = tcp["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "this is the proxy http://{dead}, from WinHTTP ({reg})"
        )),
        "{message}"
    );
    let notes = through.json()["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "proxy server(s) {dead}, bypass list <local>;*.corp.example"
        )),
        "{notes}"
    );

    std::fs::write(relay.path("bypass.reg"), reg_export(&dead, "127.0.0.1")).unwrap();
    let bypass = relay.path("bypass.reg").display().to_string();
    let direct = probe_relay(&relay, &["--proxy-from-winhttp", &bypass]).await;
    assert_eq!(direct.code, 0, "{}", direct.stdout);
}

#[tokio::test]
async fn machine_config_decides_and_winhttp_is_shown_beside_it() {
    let relay = Relay::serve(&[]).await;
    let dead = format!("127.0.0.1:{}", free_port());
    std::fs::write(relay.path("winhttp.reg"), reg_export(&dead, "")).unwrap();
    std::fs::write(
        relay.path("machine.config"),
        r#"<configuration><system.net><defaultProxy><proxy usesystemdefault="false" bypassonlocal="true"/></defaultProxy></system.net></configuration>"#,
    )
    .unwrap();
    let (reg, config) = (
        relay.path("winhttp.reg").display().to_string(),
        relay.path("machine.config").display().to_string(),
    );
    let run = probe_relay(
        &relay,
        &[
            "--proxy-from-machine-config",
            &config,
            "--proxy-from-winhttp",
            &reg,
        ],
    )
    .await;
    assert_eq!(run.code, 0, "machine.config says direct: {}", run.stdout);
    assert!(run.json()["proxy"].is_null());
    let notes = run.json()["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "machine.config and WinHTTP disagree: {config} says direct, WinHTTP ({reg}) says proxy {dead}"
        )),
        "{notes}"
    );
}

#[tokio::test]
async fn bad_windows_source_files_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.reg");
    std::fs::write(
        &garbage,
        utf16_with_bom("\"WinHttpSettings\"=hex:18,00,00\r\n"),
    )
    .unwrap();
    let missing = dir.path().join("missing.reg");
    let nothing = dir.path().join("nothing.txt");
    std::fs::write(&nothing, "The service started.").unwrap();
    let cases: [(Vec<&str>, &[&str]); 5] = [
        (
            vec!["--proxy-from-winhttp", garbage.to_str().unwrap()],
            &[
                "--proxy-from-winhttp",
                "not a WinHttpSettings value",
                "3 bytes",
            ],
        ),
        (
            vec!["--proxy-from-winhttp", missing.to_str().unwrap()],
            &["--proxy-from-winhttp", "cannot read it"],
        ),
        (
            vec!["--proxy-from-winhttp"],
            &["--proxy-from-winhttp", "reg export"],
        ),
        (
            vec!["--namespace-from", missing.to_str().unwrap()],
            &["--namespace-from", "cannot read it"],
        ),
        (
            vec!["--namespace-from", nothing.to_str().unwrap()],
            &[
                "--namespace-from",
                "no relay namespace",
                ".servicebus.windows.net",
                "31019, 31034, 32002 and 32011",
                "PasswordResetService",
            ],
        ),
    ];
    for (flags, wanted) in cases {
        let mut args = vec!["run", "--quick"];
        args.extend(flags.iter().copied());
        let run = run(&args, LIMIT).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        for w in wanted {
            assert!(
                run.stderr.contains(w),
                "{args:?}: `{w}` not in {}",
                run.stderr
            );
        }
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn namespace_from_checks_every_namespace_an_event_export_names() {
    let dir = tempfile::tempdir().unwrap();
    // An Event Viewer text export (UTF-16) of two writeback events: one names its relay in
    // full, the other by its bare label.
    let events = "Log Name:      Application\r\nSource:        PasswordResetService\r\nEvent ID:      31034\r\nDescription:\r\nAn error occurred on the listener for endpoint sb://ssprdedicatedsbprodfra-1.servicebus.windows.net/e2e/: The remote certificate is invalid.\r\n\r\nLog Name:      Application\r\nSource:        PasswordResetService\r\nEvent ID:      31019\r\nDescription:\r\nServiceBus listener ssprdedicatedsbprodams-2 was reconnected.\r\n";
    let export = dir.path().join("writeback-events.txt");
    std::fs::write(&export, utf16_with_bom(events)).unwrap();
    let scenario = dir.path().join("empty.toml");
    std::fs::write(&scenario, "name = \"namespace-from\"\n").unwrap();
    // DNS goes to a loopback port with nobody behind it; the two names are pinned.
    let silent_dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = silent_dns.local_addr().unwrap().to_string();
    let hosts = [
        "ssprdedicatedsbprodfra-1.servicebus.windows.net",
        "ssprdedicatedsbprodams-2.servicebus.windows.net",
    ];
    let pins: Vec<String> = hosts.iter().map(|h| format!("{h}:443:127.0.0.1")).collect();
    let (export, scenario) = (export.display().to_string(), scenario.display().to_string());
    let mut args = vec![
        "run",
        &scenario,
        "--namespace-from",
        &export,
        "--dns-server",
        &dns,
        "--quick",
        "--timeout",
        "2",
        "--format",
        "json",
    ];
    for pin in &pins {
        args.extend(["--resolve", pin]);
    }
    let run = run(&args, LIMIT).await;
    let json = run.json();
    let names: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        hosts.map(|h| format!("relay namespace {h}")),
        "{}",
        run.stdout
    );
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("2 relay namespace(s) found and checked"),
        "{notes}"
    );
    assert!(Path::new(&export).exists());
}
