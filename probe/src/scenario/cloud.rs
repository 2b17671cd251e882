//! The Microsoft clouds a writeback deployment can live in.

use clap::ValueEnum;
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            Cloud::Public => "public",
            Cloud::Usgov => "usgov",
            Cloud::China => "china",
        }
    }

    pub fn parse(s: &str) -> Option<Cloud> {
        [Cloud::Public, Cloud::Usgov, Cloud::China]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
