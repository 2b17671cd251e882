//! The connection a target's checks pass along, phase by phase.

use crate::net::io::Io;
use crate::net::resolve::Resolution;
use crate::net::tls::CertInfo;
use serde::Serialize;
use std::net::SocketAddr;
use tokio_rustls::client::TlsStream;

/// State handed from one check to the next. A check takes what it needs (`take()`), so a phase
/// that failed leaves nothing for the next one, which then reports itself skipped.
#[derive(Default)]
pub struct Session {
    pub resolution: Option<Resolution>,
    pub tcp: Option<(SocketAddr, Io)>,
    pub tls: Option<TlsStream<Io>>,
    pub chain: Vec<CertInfo>,
    pub phases: Phases,
    /// The name of the first phase that failed, for the skip messages of the later ones.
    pub failed: Option<&'static str>,
}

/// Phase durations of one pass, in milliseconds, named as in blackbox_exporter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Phases {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy_connect: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<f64>,
}

impl Phases {
    /// `(name, value)` of every phase that was measured, in order.
    pub fn measured(&self) -> Vec<(&'static str, f64)> {
        [
            ("resolve", self.resolve),
            ("connect", self.connect),
            ("proxy_connect", self.proxy_connect),
            ("tls", self.tls),
            ("processing", self.processing),
            ("transfer", self.transfer),
        ]
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n, v)))
        .collect()
    }
}
