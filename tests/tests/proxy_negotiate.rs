//! `--proxy-auth negotiate` for real: a real MIT KDC of a test realm, a Squid whose
//! `negotiate_kerberos_auth` helper holds the keytab of `HTTP/localhost`, and a client principal
//! whose ticket `kinit -k -t` puts in a credential cache of the test's own. The probe
//! authenticates with that cache, as the sync service does with its logon; every failure is
//! named in the user's words, and no token or ticket appears in any output.

use e2e::lab::{self, kdc::REALM, Kdc, Site, Squid, SquidConfig, SquidKerberos};
use e2e::probe_cli::{assert_matches_schema, run_command, ProbeRun};
use e2e::relay::Relay;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LIMIT: Duration = Duration::from_secs(60);

/// The realm, Squid's service keytab, and two client principals with their keytabs.
struct Realm {
    kdc: Kdc,
    http_keytab: PathBuf,
    agent: String,
    agent_keytab: PathBuf,
    stranger: String,
    stranger_keytab: PathBuf,
}

fn realm() -> Realm {
    let kdc = Kdc::start();
    let http_keytab = kdc.principal_keytab("HTTP/localhost");
    let agent_keytab = kdc.principal_keytab("agent");
    let stranger_keytab = kdc.principal_keytab("stranger");
    Realm {
        kdc,
        http_keytab,
        agent: format!("agent@{REALM}"),
        agent_keytab,
        stranger: format!("stranger@{REALM}"),
        stranger_keytab,
    }
}

/// A loopback Squid that takes Negotiate with the realm's keytab and lets `agent` through.
fn squid(realm: &Realm, config: SquidConfig) -> Squid {
    let kerberos = SquidKerberos {
        keytab: realm.http_keytab.clone(),
        krb5_conf: realm.kdc.krb5_conf(),
        allowed: vec![realm.agent.clone()],
    };
    Squid::start(
        &Site::Host,
        LOCALHOST,
        0,
        &config.kerberos(kerberos).dns_server(LOCALHOST),
    )
}

/// A credential cache with `principal`'s ticket.
fn ticket(realm: &Realm, keytab: &Path, principal: &str) -> PathBuf {
    let ccache = realm
        .kdc
        .dir()
        .join(format!("cc-{}", principal.replace('@', "_")));
    realm.kdc.kinit(keytab, principal, &ccache);
    ccache
}

/// The probe with `--proxy-auth negotiate` through `proxy`, with the realm's configuration
/// and `ccache` (wrapped in `wrapper` when given, e.g. faketime).
async fn probe(
    realm: &Realm,
    relay: &Relay,
    proxy: &str,
    ccache: &Path,
    wrapper: &[&str],
) -> ProbeRun {
    let probe = e2e::bins::probe();
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = tokio::process::Command::new(lab::tools::require(program));
            cmd.args(args).arg(&probe);
            cmd
        }
        None => tokio::process::Command::new(&probe),
    };
    cmd.env("KRB5_CONFIG", realm.kdc.krb5_conf())
        .env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
        .env_remove("KRB5_CLIENT_KTNAME")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy");
    let ca = relay.ca_file();
    let target = format!("relay://127.0.0.1:{}", relay.tls().port());
    let args = [
        "run",
        "--target",
        &target,
        "--ca-file",
        &ca,
        "--format",
        "json",
        "--quick",
        "-vv",
        "--proxy",
        proxy,
        "--proxy-auth",
        "negotiate",
    ];
    let run = run_command(cmd, &args, LIMIT).await;
    assert_matches_schema(&run.json());
    assert_no_token(&run);
    run
}

/// No SPNEGO token (base64 `YII...`), Kerberos ticket or NTLM message in any output: a long
/// base64 run (not hex, as a certificate fingerprint is) is taken as one.
fn assert_no_token(run: &ProbeRun) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let longest = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
            // Certificate fingerprints are hex: base64 is not.
            .filter(|w| !w.chars().all(|c| c.is_ascii_hexdigit()))
            .max_by_key(|w| w.len())
            .unwrap_or_default();
        assert!(
            longest.len() < 64 && !text.contains("YII") && !text.contains("TlRMTVNT"),
            "a token-like string in {name} ({longest}):\n{text}"
        );
    }
}

fn logon(run: &ProbeRun) -> serde_json::Value {
    run.check("proxy")["logon"].clone()
}

#[e2e::lab::needs(lab, squid, negotiate_kerberos_auth, kdc)]
#[tokio::test]
async fn a_valid_ticket_passes_and_names_the_principal_spn_and_kerberos() {
    if !lab::require(&[
        "squid",
        "negotiate_kerberos_auth",
        "krb5kdc",
        "kadmin.local",
        "kinit",
    ]) {
        return;
    }
    let realm = realm();
    // Offered beside NTLM and Basic: Negotiate is still chosen, and Kerberos inside it.
    let squid = squid(
        &realm,
        SquidConfig::default().ntlm().user("basic-user", "pw"),
    );
    let relay = Relay::serve(&[]).await;
    let ccache = ticket(&realm, &realm.agent_keytab, &realm.agent);
    let proxy = format!("http://localhost:{}", squid.addr.port());
    let run = probe(&realm, &relay, &proxy, &ccache, &[]).await;
    let p = run.check("proxy");
    assert_eq!(
        p["outcome"],
        "connected",
        "{p}\n{}\n{}\n{}",
        run.stderr,
        squid.logs(),
        realm.kdc.log()
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let l = logon(&run);
    assert_eq!(l["identity"], realm.agent.as_str(), "{p}");
    assert_eq!(l["spn"], "HTTP/localhost", "{p}");
    assert_eq!(l["mechanism"], "Kerberos", "{p}");
    assert_eq!(l["scheme"], "Negotiate", "{p}");
    let message = p["message"].as_str().unwrap();
    assert!(
        message.contains("Negotiate accepted: Kerberos as agent@LAB.TEST for HTTP/localhost"),
        "{message}"
    );
    let log = squid.access_log_with(|l| l.contains("agent@"), Duration::from_secs(10));
    assert!(log.contains(&realm.agent), "{log}");
}

#[e2e::lab::needs(lab, squid, negotiate_kerberos_auth, kdc, faketime)]
#[tokio::test]
async fn each_failure_is_named_in_the_users_words() {
    if !lab::require(&[
        "squid",
        "negotiate_kerberos_auth",
        "krb5kdc",
        "kadmin.local",
        "kinit",
        "faketime",
    ]) {
        return;
    }
    let mut realm = realm();
    let squid = squid(&realm, SquidConfig::default().ntlm());
    let relay = Relay::serve(&[]).await;
    let by_name = format!("http://localhost:{}", squid.addr.port());
    let agent = ticket(&realm, &realm.agent_keytab, &realm.agent);
    let stranger = ticket(&realm, &realm.stranger_keytab, &realm.stranger);
    let empty = realm.kdc.dir().join("no-such-ccache");

    let cases: [Case<'_>; 4] = [
        (
            "no ticket",
            &by_name,
            &empty,
            &[],
            "no_credentials",
            "kinit",
        ),
        (
            "a principal the ACL refuses",
            &by_name,
            &stranger,
            &[],
            "identity_refused",
            "refused stranger@LAB.TEST (Kerberos token for HTTP/localhost)",
        ),
        (
            "the proxy by an address with no SPN",
            &format!("http://127.0.0.1:{}", squid.addr.port()),
            &agent,
            &[],
            "no_spn",
            "HTTP/127.0.0.1",
        ),
        (
            "clock skew",
            &by_name,
            &agent,
            &["faketime", "-f", "+1h"],
            "clock_skew",
            "clocks differ",
        ),
    ];
    for (case, proxy, ccache, wrapper, cause, words) in cases {
        let run = probe(&realm, &relay, proxy, ccache, wrapper).await;
        check_failure(&run, case, cause, words, &squid, &realm.kdc);
    }
    // The KDC down: a fresh cache, so no service ticket is cached from before.
    let fresh = ticket(&realm, &realm.agent_keytab, &realm.agent);
    std::fs::rename(&fresh, realm.kdc.dir().join("cc-fresh")).unwrap();
    realm.kdc.stop();
    let run = probe(
        &realm,
        &relay,
        &by_name,
        &realm.kdc.dir().join("cc-fresh"),
        &[],
    )
    .await;
    check_failure(
        &run,
        "the KDC down",
        "kdc_unreachable",
        "no KDC",
        &squid,
        &realm.kdc,
    );
}

/// A failing case: its name, the proxy URL, the credential cache, a wrapper of the probe
/// (faketime), the cause expected and words of the message.
type Case<'a> = (&'a str, &'a str, &'a Path, &'a [&'a str], &'a str, &'a str);

fn check_failure(run: &ProbeRun, case: &str, cause: &str, words: &str, squid: &Squid, kdc: &Kdc) {
    let p = run.check("proxy");
    assert_eq!(
        p["outcome"],
        "proxy_auth_required",
        "{case}: {p}\n{}\n{}",
        squid.logs(),
        kdc.log()
    );
    assert_eq!(run.code, 1, "{case}: {}", run.stderr);
    assert_eq!(logon(run)["cause"], cause, "{case}: {p}");
    let message = p["message"].as_str().unwrap();
    assert!(message.contains(words), "{case}: {message}");
    assert!(
        message.contains("exempt the writeback endpoints"),
        "{case}: {message}"
    );
    assert_eq!(
        p["auth_schemes"],
        serde_json::json!(["Negotiate", "NTLM"]),
        "{case}: {p}"
    );
}
