//! `cert:expired|wrong-name|self-signed`: present a bad generated leaf certificate, as a client
//! behind a misconfigured or intercepting device would see one. Needs a generated certificate
//! (not `--cert`/`--key`).

use super::{ArgumentError, Behaviour, FaultKind, LeafBend};
use crate::tls::LeafPlan;
use time::Duration;

/// The only name a `cert:wrong-name` leaf carries.
pub const WRONG_NAME: &str = "wrong-name.invalid";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFault {
    /// Signed by the CA, names right, validity ended two days ago.
    Expired,
    /// Signed by the CA, valid, but only for [`WRONG_NAME`].
    WrongName,
    /// Names and validity right, but signed by its own key instead of the CA.
    SelfSigned,
}

impl CertFault {
    /// Every certificate fault, in `--help` order.
    pub const ALL: [CertFault; 3] = [
        CertFault::Expired,
        CertFault::WrongName,
        CertFault::SelfSigned,
    ];

    /// The argument that names this fault (`cert:expired`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CertFault::Expired => "expired",
            CertFault::WrongName => "wrong-name",
            CertFault::SelfSigned => "self-signed",
        }
    }

    /// Bends the planned leaf.
    fn bend(self, leaf: &mut LeafPlan) {
        match self {
            CertFault::Expired => {
                leaf.not_before = leaf.issued_at - Duration::days(90);
                leaf.not_after = leaf.issued_at - Duration::days(2);
            }
            CertFault::WrongName => leaf.names = vec![WRONG_NAME.to_string()],
            CertFault::SelfSigned => leaf.self_signed = true,
        }
    }
}

fn names() -> Vec<&'static str> {
    CertFault::ALL.map(CertFault::name).to_vec()
}

pub(super) fn kind() -> FaultKind {
    FaultKind::new("cert", names().join("|"), "a bad certificate", |arg| {
        CertFault::ALL
            .into_iter()
            .find(|c| c.name() == arg)
            .ok_or_else(|| ArgumentError::NotOneOf {
                given: arg.to_string(),
                known: names().join(", "),
            })
    })
}

impl Behaviour for CertFault {
    fn argument(&self) -> String {
        self.name().to_string()
    }

    fn certificate(&self) -> Option<LeafBend<'_>> {
        let fault = *self;
        Some(Box::new(move |leaf: &mut LeafPlan| fault.bend(leaf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls;

    #[test]
    fn every_cert_fault_still_makes_a_server_config() {
        let names: Vec<String> = tls::DEFAULT_HOSTNAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        for fault in CertFault::ALL {
            let bend = fault.certificate().unwrap();
            tls::generate(&names, Some(&*bend))
                .unwrap()
                .server_config()
                .unwrap();
        }
    }
}
