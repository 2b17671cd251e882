//! What the network layer found, in the result document's own types: `net` keeps its types to
//! itself, so a change there cannot silently change `probe.result/v1` (each mapping names
//! every field, and a field added on either side does not compile until it is decided here).

use crate::net;
use crate::result;

impl From<net::cert::CertInfo> for result::CertInfo {
    fn from(cert: net::cert::CertInfo) -> Self {
        let net::cert::CertInfo {
            subject,
            issuer,
            sans,
            not_before,
            not_after,
            sha256,
            crl_urls,
            ocsp_urls,
            ca_issuer_urls,
        } = cert;
        result::CertInfo {
            subject,
            issuer,
            sans,
            not_before,
            not_after,
            sha256,
            crl_urls,
            ocsp_urls,
            ca_issuer_urls,
        }
    }
}

impl From<net::resolve::AnswerSource> for result::AnswerSource {
    fn from(source: net::resolve::AnswerSource) -> Self {
        match source {
            net::resolve::AnswerSource::Dns => result::AnswerSource::Dns,
            net::resolve::AnswerSource::Override => result::AnswerSource::Override,
            net::resolve::AnswerSource::Literal => result::AnswerSource::Literal,
        }
    }
}

impl From<net::tcp_info::TcpEvidence> for result::TcpEvidence {
    fn from(evidence: net::tcp_info::TcpEvidence) -> Self {
        let net::tcp_info::TcpEvidence {
            unacked,
            retransmits,
            total_retransmits,
            last_ack_ms,
        } = evidence;
        result::TcpEvidence {
            unacked,
            retransmits,
            total_retransmits,
            last_ack_ms,
        }
    }
}
