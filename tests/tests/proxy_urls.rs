//! Proxy URLs as users write them: a password never appears in an error about a URL that
//! does not parse (from `--proxy`, a scenario or `HTTPS_PROXY`), and user and password are
//! percent-decoded (`+` stays `+`, as in curl), which a local proxy that records the
//! `Proxy-Authorization` header it was sent proves on the wire.

use base64_decode::decode;
use e2e::hostile::{header, Hostile};
use e2e::probe_cli::{run_command, ProbeRun};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const SECRET: &str = "Pw-s3cret";

mod base64_decode {
    /// Standard base64 (with padding) to bytes; `None` on anything else.
    pub fn decode(text: &str) -> Option<Vec<u8>> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = Vec::new();
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in text.trim_end_matches('=').bytes() {
            let v = ALPHABET.iter().position(|a| *a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }
}

async fn probe_with(args: &[&str], env: &[(&str, &str)]) -> ProbeRun {
    let mut cmd = tokio::process::Command::new(e2e::bins::probe());
    cmd.env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run_command(cmd, args, LIMIT).await
}

fn assert_secret_kept(what: &str, run: &ProbeRun) {
    assert_eq!(run.code, 2, "{what}: {}{}", run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(SECRET),
            "{what}: the password is shown:\n{text}"
        );
        // Nor any part of it after a character that ends the authority early.
        assert!(
            !text.contains("s3cret"),
            "{what}: part of the password is shown:\n{text}"
        );
    }
}

#[tokio::test]
async fn a_proxy_url_that_does_not_parse_never_shows_its_password() {
    let bad = [
        format!("user:{SECRET}@127.0.0.1:99999"),
        format!("http://user:{SECRET}@127.0.0.1:99999"),
        "http://user:Pw/s3cret@127.0.0.1:3128".to_string(),
        "http://user:Pw#s3cret@127.0.0.1:3128".to_string(),
        "http://user:Pw?s3cret@127.0.0.1:3128".to_string(),
        "http://user:1234/s3cret@127.0.0.1:3128".to_string(),
        format!("http://user:{SECRET}@[::1:3128"),
        format!("socks5://user:{SECRET}@127.0.0.1:1080"),
    ];
    for url in &bad {
        let flag = probe_with(
            &[
                "run",
                "--target",
                "tcp://127.0.0.1:9",
                "--proxy",
                url,
                "--quick",
            ],
            &[],
        )
        .await;
        assert_secret_kept(&format!("--proxy {url}"), &flag);
        let env = probe_with(
            &["run", "--target", "tcp://127.0.0.1:9", "--quick"],
            &[("HTTPS_PROXY", url)],
        )
        .await;
        assert_secret_kept(&format!("HTTPS_PROXY={url}"), &env);
        assert!(
            env.stderr.contains("HTTPS_PROXY"),
            "names the variable: {}",
            env.stderr
        );
    }
    // The same in a scenario file.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "name = \"s\"\nproxy = \"http://user:Pw/s3cret@127.0.0.1:3128\"\n[[targets]]\nname = \"t\"\nurl = \"tcp://127.0.0.1:9\"\n",
    )
    .unwrap();
    let run = probe_with(&["scenarios", scenario.to_str().unwrap()], &[]).await;
    assert_secret_kept("scenario proxy", &run);
    assert!(
        run.stderr.contains("proxy"),
        "names the field: {}",
        run.stderr
    );
}

#[tokio::test]
async fn a_target_url_that_does_not_parse_never_shows_its_credentials() {
    let url = format!("https://user:{SECRET}@relay.example:99999/");
    let run = probe_with(&["run", "--target", &url, "--quick"], &[]).await;
    assert_secret_kept("--target", &run);
}

#[tokio::test]
async fn user_and_password_are_percent_decoded_and_plus_stays_plus() {
    let proxy = Hostile::recording_proxy().await;
    // `+` literal and encoded, an encoded space, `/`, `@` and `:`.
    let url = format!(
        "http://svc%40corp+x:a+b%2Bc%20d%2Fe%3Af@127.0.0.1:{}",
        proxy.port
    );
    let run = probe_with(
        &[
            "run",
            "--target",
            "https://127.0.0.1:9/",
            "--proxy",
            &url,
            "--quick",
            "--format",
            "json",
            "--timeout",
            "5",
        ],
        &[],
    )
    .await;
    assert_eq!(
        run.check("proxy")["outcome"],
        "proxy_auth_required",
        "{}",
        run.stdout
    );
    let heads = proxy.seen.heads();
    let head = heads.first().expect("the probe asked the proxy");
    let auth = header(head, "proxy-authorization").expect("credentials sent");
    let encoded = auth.strip_prefix("Basic ").expect("basic auth");
    let decoded = String::from_utf8(decode(encoded).expect("base64")).unwrap();
    assert_eq!(decoded, "svc@corp+x:a+b+c d/e:f");
    assert!(!run.stdout.contains("a+b") && !run.stderr.contains("a+b"));
}
