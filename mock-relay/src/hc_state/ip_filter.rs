//! `--deny-ip CIDR`: the namespace's IP filter. A client from a denied address is refused as
//! Azure messaging refuses a filtered address: 401 "Ip has been prevented to connect to the
//! endpoint." (Service Bus and Event Hubs answer so; the Relay documentation gives no answer
//! of its own).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The service's words for a filtered address.
pub(crate) const DENIED: &str = "Ip has been prevented to connect to the endpoint.";
/// And its status.
pub(crate) const DENIED_STATUS: u16 = 401;

/// An address block: `198.18.0.0/15`, `2001:db8::/32`, or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `addr` is in the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                prefix_match(&net.octets(), &a.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                prefix_match(&net.octets(), &a.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_match(net: &[u8], addr: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if net[..full] != addr[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    net[full] & mask == addr[full] & mask
}

/// Why a `--deny-ip` value is not a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("'{0}' is not an IP address")]
    Address(String),
    #[error("prefix length '{0}' is not a number from 0 to {1}")]
    Prefix(String, u8),
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = text
            .split_once('/')
            .map_or((text, None), |(a, p)| (a, Some(p)));
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| CidrError::Address(addr.to_string()))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| CidrError::Prefix(p.to_string(), max))?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_contain_what_they_should() {
        let lab: Cidr = "198.18.0.0/15".parse().unwrap();
        assert!(lab.contains("198.19.255.1".parse().unwrap()));
        assert!(!lab.contains("198.20.0.1".parse().unwrap()));
        assert!(lab.contains("::ffff:198.18.0.9".parse().unwrap()));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(
            one.contains("127.0.0.1".parse().unwrap())
                && !one.contains("127.0.0.2".parse().unwrap())
        );
        let v6: Cidr = "2001:db8::/33".parse().unwrap();
        assert!(v6.contains("2001:db8:7fff::1".parse().unwrap()));
        assert!(!v6.contains("2001:db8:8000::1".parse().unwrap()));
        assert!("0.0.0.0/0"
            .parse::<Cidr>()
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn bad_blocks_say_what_is_wrong() {
        assert_eq!(
            "10.0.0.0/33".parse::<Cidr>().unwrap_err().to_string(),
            "prefix length '33' is not a number from 0 to 32"
        );
        assert_eq!(
            "nope/8".parse::<Cidr>().unwrap_err().to_string(),
            "'nope' is not an IP address"
        );
    }
}
