//! The common cause of each kind of failure a whole segment shows, and none when they differ.

use super::*;
use crate::result::fixture::*;

fn names(d: &Diagnosis) -> Vec<&str> {
    d.targets.iter().map(String::as_str).collect()
}

#[test]
fn no_public_dns_says_so_and_points_at_forwarding_or_the_proxy() {
    let run = run_of(vec![
        dns_timeout("sspr-relay-scu"),
        dns_timeout("sspr-relay-ncu"),
        dns_timeout("passwordreset"),
    ]);
    let d = run.diagnosis.expect("a common cause");
    assert_eq!((d.phase, d.outcome), (CheckName::Dns, Outcome::Timeout));
    assert_eq!(
        names(&d),
        ["sspr-relay-scu", "sspr-relay-ncu", "passwordreset"]
    );
    assert_eq!(d.cause, "this machine resolves no public names");
    assert!(
        d.next_step.contains("forward public names"),
        "{}",
        d.next_step
    );
    assert!(d.next_step.contains("--proxy"), "{}", d.next_step);
    assert_eq!(
        d.summary(),
        "this machine resolves no public names; dns timeout on all 3 failed targets (sspr-relay-scu, sspr-relay-ncu, passwordreset)"
    );
}

#[test]
fn a_name_that_alone_does_not_resolve_is_not_called_a_missing_public_dns() {
    let run = run_of(vec![
        dns_timeout("sspr-relay-scu"),
        target_passing("passwordreset"),
    ]);
    let d = run.diagnosis.expect("a common cause");
    assert!(
        d.cause.contains("these names do not resolve"),
        "{}",
        d.cause
    );
    assert_eq!(names(&d), ["sspr-relay-scu"]);
}

#[test]
fn tcp_timeouts_everywhere_are_a_firewall_dropping_443() {
    let run = run_of(vec![tcp_timeout("a"), tcp_timeout("b")]);
    let d = run.diagnosis.expect("a common cause");
    assert_eq!((d.phase, d.outcome), (CheckName::Tcp, Outcome::Timeout));
    assert!(d.cause.contains("TCP 443 time out"), "{}", d.cause);
    assert!(d.cause.contains("a firewall drops them"), "{}", d.cause);
    assert!(
        d.next_step.contains(
            "outbound TCP 443 to *.servicebus.windows.net and *.passwordreset.microsoftonline.com"
        ),
        "{}",
        d.next_step
    );
}

#[test]
fn interception_everywhere_names_the_issuer_and_the_bypass_to_ask_for() {
    let issuer = "CN=Contoso Inspection CA, O=Contoso";
    let run = run_of(vec![
        tls_intercepted("a", issuer),
        tls_intercepted("b", issuer),
    ]);
    let d = run.diagnosis.expect("a common cause");
    assert_eq!((d.phase, d.outcome), (CheckName::Tls, Outcome::Intercepted));
    assert!(d.cause.contains(&format!("`{issuer}`")), "{}", d.cause);
    assert!(
        d.next_step
            .contains("inspection bypass for *.servicebus.windows.net"),
        "{}",
        d.next_step
    );
    assert!(d.next_step.contains(issuer), "{}", d.next_step);
}

#[test]
fn idle_cutoffs_everywhere_say_where_and_what_to_raise() {
    let mut t = target_failing(
        "relay",
        CheckResult::new(
            CheckName::Idle,
            Status::Fail,
            Outcome::SilentDrop,
            "idle connections die",
            std::time::Duration::from_secs(300),
        ),
        "unused",
    );
    let mut idle = crate::result::tests::idle();
    idle.survived_s = Some(crate::seconds::Seconds::new(225));
    idle.failed_s = Some(crate::seconds::Seconds::new(240));
    idle.failure = Some(Outcome::SilentDrop);
    t.idle = Some(idle);
    let d = run_of(vec![t]).diagnosis.expect("a common cause");
    assert_eq!((d.phase, d.outcome), (CheckName::Idle, Outcome::SilentDrop));
    assert!(d.cause.contains("between 225 and 240 s"), "{}", d.cause);
    assert!(
        d.next_step.contains("Azure Load Balancer"),
        "{}",
        d.next_step
    );
}

#[test]
fn different_failures_or_none_have_no_common_cause() {
    assert_eq!(
        run_of(vec![dns_timeout("a"), tcp_timeout("b")]).diagnosis,
        None
    );
    assert_eq!(run_of(vec![target_passing("a")]).diagnosis, None);
    // The same check with another outcome is another cause.
    let mut refused = tcp_timeout("b");
    refused.checks[1].outcome = Outcome::Refused;
    assert_eq!(run_of(vec![tcp_timeout("a"), refused]).diagnosis, None);
}
