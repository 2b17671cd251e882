//! `--gateway NAME`: the hosts the service names in accept and request addresses instead of the
//! namespace (`g3-prod-sb.servicebus.windows.net` beside `contoso.servicebus.windows.net`, the
//! protocol guide's `wss://g63-prod-xxx-001-sb.servicebus.windows.net:443/$hc/...`). Like the
//! service's, each shares the namespace's parent domain, so a client that follows only hosts
//! under that domain (the probe does) still follows them, and an allow-list naming only the
//! namespace fails at the rendezvous as it would in Azure.

use relay_protocol::hc::Namespace;
use std::net::IpAddr;

/// The parent domain of a host name (`servicebus.windows.net` for
/// `contoso.servicebus.windows.net`), lower case; none for a single label or a top-level one.
fn parent(host: &str) -> Option<String> {
    host.split_once('.')
        .map(|(_, p)| p.to_ascii_lowercase())
        .filter(|p| p.contains('.'))
}

/// Checks every gateway against the namespace host; the error names the flag and says why.
/// When the namespace is only an address (no `--hostname`: with `--cert`, the namespace is the
/// name clients connect with), a gateway need only be a host name under a parent domain.
pub(crate) fn check(gateways: &[String], namespace: &str) -> Result<(), GatewayError> {
    let named = namespace
        .trim_matches(|c| c == '[' || c == ']')
        .parse::<IpAddr>()
        .is_err();
    for gateway in gateways {
        let fits = Namespace::new(gateway, None).is_ok()
            && gateway.parse::<IpAddr>().is_err()
            && parent(gateway).is_some()
            && (!named || parent(gateway) == parent(namespace));
        if !fits {
            return Err(GatewayError {
                gateway: gateway.clone(),
                namespace: namespace.to_string(),
            });
        }
    }
    Ok(())
}

/// A `--gateway` that does not live beside the namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--gateway {gateway}: a gateway is a host name under the namespace's parent domain \
     (the namespace is {namespace}; with --hostname contoso.servicebus.windows.net a \
     gateway is like g1-prod-sb.servicebus.windows.net)"
)]
pub struct GatewayError {
    pub gateway: String,
    pub namespace: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateways_live_beside_the_namespace() {
        let ns = "contoso.servicebus.windows.net";
        assert!(check(&["g1-prod-sb.servicebus.windows.net".into()], ns).is_ok());
        assert!(check(&[], "127.0.0.1").is_ok());
        for bad in [
            "g1.example.com",
            "198.18.0.1",
            "servicebus",
            "g1.windows.net",
        ] {
            let err = check(&[bad.into()], ns).unwrap_err().to_string();
            assert!(err.starts_with(&format!("--gateway {bad}: ")), "{err}");
        }
        assert!(check(&["g1.lab.test".into()], "127.0.0.1").is_ok());
        assert!(check(&["g1".into()], "127.0.0.1").is_err());
    }
}
