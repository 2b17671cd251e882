//! pdc: writeback resets passwords on the domain's PDC emulator. Find it (DNS SRV
//! `_ldap._tcp.pdc._msdcs.DOMAIN`) and the other domain controllers (`_ldap._tcp.dc._msdcs`),
//! then check the ports Active Directory needs on each.

use super::{Check, Ctx, Session};
use crate::net::connect;
use crate::net::resolve::{ResolveFailure, SrvTarget};
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::result::{
    millis, CheckName, CheckResult, ControllerResult, ControllerRole, Details, PdcDetails,
    PortResult,
};
use crate::target::Target;
use std::net::SocketAddr;
use std::time::Instant;

/// The ports checked on every domain controller, with what they carry.
pub const PORTS: [(u16, &str); 8] = [
    (389, "LDAP"),
    (636, "LDAPS"),
    (88, "Kerberos"),
    (464, "kpasswd"),
    (445, "SMB"),
    (135, "RPC endpoint mapper"),
    (3268, "global catalog"),
    (3269, "global catalog over TLS"),
];
/// Without these on the PDC emulator, writeback cannot set a password.
const REQUIRED_ON_PDC: [u16; 3] = [389, 88, 464];
/// Ports that speak TLS from the first byte: their handshake is reported too.
const TLS_PORTS: [u16; 2] = [636, 3269];

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Pdc,
    // SRV lookups, the controllers' names, connect, TLS.
    phase_deadlines: 4,
    failed: "the domain controllers failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, _session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let started = Instant::now();
    let domain = &target.host;
    let pdc_name = format!("_ldap._tcp.pdc._msdcs.{domain}");
    let dc_name = format!("_ldap._tcp.dc._msdcs.{domain}");
    let lookup = |name: String| async move {
        tokio::time::timeout(net.timeout, net.resolver.srv(&name))
            .await
            .unwrap_or(Err(ResolveFailure::Timeout))
    };
    let (pdc, dcs) = tokio::join!(lookup(pdc_name.clone()), lookup(dc_name));
    let pdc = match pdc {
        Ok(p) => p,
        Err(failure) => {
            let outcome = failure.outcome();
            return CheckResult::new(
                CheckName::Pdc,
                Status::Fail,
                outcome,
                format!(
                    "no PDC emulator found: {pdc_name} ({outcome}) via {}. Writeback must reach the PDC emulator; use the domain's DNS servers (--dns-server)",
                    net.resolver.servers
                ),
                started.elapsed(),
            );
        }
    };
    // The resolver answers a non-empty list or an error; an empty one reads as no records.
    let Some(pdc) = pdc.first().cloned() else {
        return CheckResult::new(
            CheckName::Pdc,
            Status::Fail,
            Outcome::NoRecords,
            format!("no PDC emulator found: {pdc_name} has no SRV record"),
            started.elapsed(),
        );
    };
    let pdc_host = pdc.host.to_ascii_lowercase();
    let mut hosts: Vec<(String, ControllerRole)> =
        vec![(pdc_host.clone(), ControllerRole::PdcEmulator)];
    for dc in dcs.unwrap_or_default() {
        let host = dc.host.to_ascii_lowercase();
        if !hosts.iter().any(|(h, _)| *h == host) {
            hosts.push((host, ControllerRole::DomainController));
        }
    }
    let checks = hosts
        .iter()
        .map(|(host, role)| check_controller(net, host.clone(), *role));
    let controllers = futures_util::future::join_all(checks).await;
    judge(&pdc, controllers, started)
}

async fn check_controller(
    ctx: &NetContext,
    host: String,
    role: ControllerRole,
) -> ControllerResult {
    let answer = tokio::time::timeout(ctx.timeout, ctx.resolver.resolve(&host, 389)).await;
    let Some(ip) = answer
        .ok()
        .and_then(Result::ok)
        .and_then(|r| r.addresses.first().copied())
    else {
        return ControllerResult {
            host,
            role,
            address: None,
            ports: Vec::new(),
        };
    };
    let ports = futures_util::future::join_all(PORTS.iter().map(|(port, service)| {
        let addr = SocketAddr::new(ip, *port);
        let host = host.clone();
        async move {
            let t = Instant::now();
            let (outcome, tls) = match connect::connect(addr, ctx.timeout, &ctx.socket).await {
                Err(f) => (f.outcome(), None),
                Ok(stream) if TLS_PORTS.contains(port) => {
                    let tls =
                        crate::net::tls::handshake_outcome(ctx, Box::new(stream), &host).await;
                    (Outcome::Connected, Some(tls))
                }
                Ok(_) => (Outcome::Connected, None),
            };
            PortResult {
                port: *port,
                service: service.to_string(),
                outcome,
                tls,
                duration_ms: millis(t.elapsed()),
            }
        }
    }))
    .await;
    ControllerResult {
        host,
        role,
        address: Some(ip.to_string()),
        ports,
    }
}

fn judge(pdc: &SrvTarget, controllers: Vec<ControllerResult>, started: Instant) -> CheckResult {
    let elapsed = started.elapsed();
    let details = PdcDetails {
        pdc_emulator: pdc.host.clone(),
        controllers: controllers.clone(),
    };
    let pdc_result = &controllers[0];
    if pdc_result.address.is_none() {
        return CheckResult::new(
            CheckName::Pdc,
            Status::Fail,
            Outcome::Nxdomain,
            format!(
                "the PDC emulator {} does not resolve to an address",
                pdc.host
            ),
            elapsed,
        )
        .with(Details::Pdc(details));
    }
    let missing: Vec<&PortResult> = pdc_result
        .ports
        .iter()
        .filter(|p| REQUIRED_ON_PDC.contains(&p.port) && p.outcome != Outcome::Connected)
        .collect();
    if let Some(first) = missing.first() {
        let list: Vec<String> = missing
            .iter()
            .map(|p| format!("{} {} ({})", p.service, p.port, p.outcome))
            .collect();
        return CheckResult::new(
            CheckName::Pdc,
            Status::Fail,
            first.outcome,
            format!(
                "the PDC emulator {} is not reachable on {}. Writeback sets passwords on the PDC emulator with LDAP, Kerberos and kpasswd: allow TCP 389, 88 and 464 from the sync server to it",
                pdc.host,
                list.join(", ")
            ),
            elapsed,
        )
        .with(Details::Pdc(details));
    }
    let other: Vec<String> = controllers
        .iter()
        .flat_map(|c| {
            c.ports
                .iter()
                .filter(|p| p.outcome != Outcome::Connected)
                .map(move |p| format!("{} {} {}", c.host, p.port, p.outcome))
        })
        .collect();
    let status = if other.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    let mut message = format!(
        "the PDC emulator {} answers on LDAP, Kerberos and kpasswd; {} domain controller(s) checked",
        pdc.host,
        controllers.len()
    );
    if !other.is_empty() {
        message.push_str(&format!("; not reachable: {}", other.join(", ")));
    }
    CheckResult::new(CheckName::Pdc, status, Outcome::Connected, message, elapsed)
        .with(Details::Pdc(details))
}
