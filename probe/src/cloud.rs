//! The Microsoft clouds a writeback deployment can live in.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    ValueEnum,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Cloud {
    /// Microsoft Entra ID worldwide (`*.servicebus.windows.net`).
    Public,
    /// US Government (`*.servicebus.usgovcloudapi.net`).
    Usgov,
    /// China, operated by 21Vianet (`*.servicebus.chinacloudapi.cn`).
    China,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The DNS suffix of Azure Relay (Service Bus) namespaces in this cloud.
    pub fn relay_suffix(self) -> &'static str {
        match self {
            Cloud::Public => "servicebus.windows.net",
            Cloud::Usgov => "servicebus.usgovcloudapi.net",
            Cloud::China => "servicebus.chinacloudapi.cn",
        }
    }

    /// The endpoints writeback's traffic goes to in this cloud, as firewall and proxy rules
    /// name them.
    pub fn writeback_wildcards(self) -> &'static [&'static str] {
        match self {
            Cloud::Public => &[
                "*.servicebus.windows.net",
                "*.passwordreset.microsoftonline.com",
            ],
            Cloud::Usgov => &[
                "*.servicebus.usgovcloudapi.net",
                "*.passwordreset.microsoftonline.us",
            ],
            // 21Vianet's password reset host is not in the public documentation at hand.
            Cloud::China => &[
                "*.servicebus.chinacloudapi.cn",
                "the password reset endpoint",
            ],
        }
    }

    /// A namespace's host name: a bare name gets this cloud's suffix.
    pub fn namespace_host(self, name: &str) -> String {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.contains('.') {
            name
        } else {
            format!("{name}.{}", self.relay_suffix())
        }
    }

    pub fn parse(s: &str) -> Option<Cloud> {
        [Cloud::Public, Cloud::Usgov, Cloud::China]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}
