//! gateways: an Azure Relay namespace is a CNAME to a deployment whose traffic goes to gateway
//! hosts `g0-<deployment>-sb.<suffix>` ... `g127-...` (as Microsoft's GetNamespaceInfo.ps1
//! derives them). Every gateway address must be reachable on 443: an IP allow-list that has gone
//! stale shows up here and nowhere else.

use super::{Check, Ctx, Session};
use crate::net::connect;
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, GatewayAddress, GatewaysDetails};
use crate::target::Target;
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// How many gateway names a deployment can have.
pub const GATEWAYS: usize = 128;
/// Lookups and connections in flight at once.
pub const CONCURRENCY: usize = 16;
const PORT: u16 = 443;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Gateways,
    // 128 names looked up 16 at a time, then up to 256 addresses (TCP and TLS) 16 at a time.
    phase_deadlines: GATEWAYS.div_ceil(CONCURRENCY) as u32 + 2 * 256u32.div_ceil(CONCURRENCY as u32),
    failed: "a relay gateway failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let started = Instant::now();
    let Some(resolution) = &session.resolution else {
        return CheckResult::skipped(CheckName::Gateways, session.failed.unwrap_or("no address"));
    };
    if net.proxy_for(target).is_some() {
        return skipped_behind_proxy(target);
    }
    let Some(deployment) = deployment(&resolution.cname_chain) else {
        return CheckResult::new(
            CheckName::Gateways,
            Status::Warn,
            Outcome::NoRecords,
            format!("{} is not a CNAME to a relay deployment (ns-sb2-...), so its gateways cannot be derived", target.host),
            started.elapsed(),
        );
    };
    let names = gateway_names(&deployment, suffix(&target.host));
    let resolved = resolve_all(net, &names).await;
    check_addresses(net, target, &deployment, names.len(), resolved, started).await
}

/// The deployment behind a namespace: the first label of its `ns-sb2-` CNAME target, without
/// that prefix.
pub fn deployment(cname_chain: &[String]) -> Option<String> {
    let targets: Vec<&str> = cname_chain
        .iter()
        .filter_map(|link| link.split(" -> ").nth(1))
        .collect();
    targets
        .iter()
        .find_map(|t| t.split('.').next()?.strip_prefix("ns-sb2-"))
        .map(str::to_string)
}

/// `servicebus.windows.net` for `ns.servicebus.windows.net`.
pub fn suffix(host: &str) -> &str {
    host.split_once('.').map(|(_, rest)| rest).unwrap_or(host)
}

pub fn gateway_names(deployment: &str, suffix: &str) -> Vec<String> {
    (0..GATEWAYS)
        .map(|i| format!("g{i}-{deployment}-sb.{suffix}"))
        .collect()
}

/// Every gateway name that resolves, with its addresses (lookups bounded in number and time).
async fn resolve_all(ctx: &NetContext, names: &[String]) -> Vec<(String, Vec<IpAddr>)> {
    futures_util::stream::iter(names.iter().cloned())
        .map(|name| async move {
            let answer = tokio::time::timeout(ctx.timeout, ctx.resolver.resolve(&name, PORT)).await;
            match answer {
                Ok(Ok(r)) => Some((name, r.addresses)),
                _ => None,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|x| async move { x })
        .collect()
        .await
}

async fn check_addresses(
    ctx: &NetContext,
    target: &Target,
    deployment: &str,
    gateway_count: usize,
    resolved: Vec<(String, Vec<IpAddr>)>,
    started: Instant,
) -> CheckResult {
    // Each distinct address once, under the first (lowest-numbered) gateway name that has it.
    let mut by_address: BTreeMap<IpAddr, String> = BTreeMap::new();
    let mut sorted = resolved.clone();
    sorted.sort_by_key(|(name, _)| gateway_number(name));
    for (name, addrs) in &sorted {
        for a in addrs {
            by_address.entry(*a).or_insert_with(|| name.clone());
        }
    }
    let checked: Vec<GatewayAddress> = futures_util::stream::iter(by_address)
        .map(|(addr, name)| async move { check_one(ctx, addr, name).await })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut addresses = checked;
    addresses.sort_by(|a, b| a.address.cmp(&b.address));
    let failed: Vec<&GatewayAddress> = addresses
        .iter()
        .filter(|a| a.outcome != Outcome::Ok)
        .collect();
    let details = GatewaysDetails {
        deployment: Some(deployment.to_string()),
        gateways_tried: gateway_count,
        gateways_resolved: resolved.len(),
        addresses: addresses.clone(),
    };
    let elapsed = started.elapsed();
    if resolved.is_empty() {
        return CheckResult::new(
            CheckName::Gateways,
            Status::Fail,
            Outcome::Nxdomain,
            format!(
                "none of the {gateway_count} gateway names of deployment {deployment} resolves"
            ),
            elapsed,
        )
        .with(Details::Gateways(details));
    }
    if failed.is_empty() {
        return CheckResult::new(
            CheckName::Gateways,
            Status::Pass,
            Outcome::Ok,
            format!(
                "{} gateway(s) of {} ({deployment}) at {} distinct address(es): all reachable on TCP {PORT} with TLS",
                resolved.len(),
                target.host,
                addresses.len()
            ),
            elapsed,
        )
        .with(Details::Gateways(details));
    }
    let list: Vec<String> = failed
        .iter()
        .take(8)
        .map(|a| format!("{} ({}) {}", a.gateway, a.address, a.outcome))
        .collect();
    let outcome = failed.first().map_or(Outcome::Unreachable, |a| a.outcome);
    CheckResult::new(
        CheckName::Gateways,
        Status::Fail,
        outcome,
        format!(
            "{} of {} gateway address(es) of {} fail: {}{}. The relay may hand the listener to any gateway: an allow-list by IP address must cover them all (Azure's ranges change weekly; allow the host names *.servicebus.windows.net instead)",
            failed.len(),
            addresses.len(),
            target.host,
            list.join(", "),
            if failed.len() > 8 { ", ..." } else { "" }
        ),
        elapsed,
    )
    .with(Details::Gateways(details))
}

fn gateway_number(name: &str) -> usize {
    name.trim_start_matches('g')
        .split('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// TCP 443 then a TLS handshake with the gateway's name, to one address.
async fn check_one(ctx: &NetContext, addr: IpAddr, name: String) -> GatewayAddress {
    let started = Instant::now();
    let socket = SocketAddr::new(addr, PORT);
    let outcome = match connect::connect(socket, ctx.timeout, &ctx.socket).await {
        Err(f) => f.outcome(),
        Ok(stream) => crate::net::tls::handshake_outcome(ctx, Box::new(stream), &name).await,
    };
    GatewayAddress {
        address: addr.to_string(),
        gateway: name,
        outcome,
        duration_ms: millis(started.elapsed()),
    }
}

/// Behind a proxy the client cannot reach gateway addresses itself: say so instead of guessing.
fn skipped_behind_proxy(target: &Target) -> CheckResult {
    CheckResult::skipped(
        CheckName::Gateways,
        &format!(
            "{} goes through a proxy, which resolves and reaches the gateways itself; run this check where direct egress exists (or with --no-proxy)",
            target.host
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_gateways_from_the_cname_chain() {
        let chain = vec![
            "ssprdedicatedsbprodscu.servicebus.windows.net -> ns-sb2-prod-sn3-012.cloudapp.net"
                .to_string(),
        ];
        let d = deployment(&chain).unwrap();
        assert_eq!(d, "prod-sn3-012");
        let names = gateway_names(&d, suffix("ssprdedicatedsbprodscu.servicebus.windows.net"));
        assert_eq!(names.len(), 128);
        assert_eq!(names[0], "g0-prod-sn3-012-sb.servicebus.windows.net");
        assert_eq!(names[127], "g127-prod-sn3-012-sb.servicebus.windows.net");
        assert_eq!(gateway_number(&names[42]), 42);
        assert!(deployment(&["a -> b.example".to_string()]).is_none());
    }
}
