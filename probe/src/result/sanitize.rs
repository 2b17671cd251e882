//! One rule for text a server (or a result file) controls: control characters never reach a
//! report. ESC starts terminal sequences that change colours and titles or clear the screen,
//! C1 controls do the same in one character, a newline forges report lines, bidirectional
//! overrides reorder what is shown. All are removed when text enters the result model (at the
//! end of a run, and when `probe report` reads a file back), so every format (human, JSON,
//! HTML, JUnit, Prometheus) prints clean text.
//!
//! Every field of every result type is visited by an exhaustive destructuring: a field added
//! without a decision here does not compile.

use super::*;
use std::borrow::Cow;

/// Whether `c` is dropped: C0 and C1 controls, DEL, and the bidirectional embedding, override
/// and isolate characters. Newlines and tabs become spaces instead (see [`clean_text`]).
fn unwanted(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters removed (line breaks and tabs turned into spaces); printable
/// Unicode is kept as it is.
pub fn clean_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unwanted) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\n' | '\r' | '\t' => Some(' '),
                c if unwanted(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// A value whose text can be cleaned in place.
pub trait Sanitize {
    fn sanitize(&mut self);
}

impl Sanitize for String {
    fn sanitize(&mut self) {
        if let Cow::Owned(clean) = clean_text(self) {
            *self = clean;
        }
    }
}

impl<T: Sanitize> Sanitize for Option<T> {
    fn sanitize(&mut self) {
        if let Some(v) = self {
            v.sanitize();
        }
    }
}

impl<T: Sanitize> Sanitize for Vec<T> {
    fn sanitize(&mut self) {
        self.iter_mut().for_each(Sanitize::sanitize);
    }
}

impl RunResult {
    /// The same result with every string cleaned by [`clean_text`].
    pub fn sanitized(mut self) -> RunResult {
        self.sanitize();
        self
    }
}

impl Sanitize for RunResult {
    fn sanitize(&mut self) {
        let RunResult {
            schema,
            probe_version,
            started_at,
            finished_at,
            segment,
            scenario,
            cloud: _,
            verdict: _,
            proxy,
            notes,
            targets,
            diagnosis,
        } = self;
        for s in [schema, probe_version, started_at, finished_at, scenario] {
            s.sanitize();
        }
        segment.sanitize();
        proxy.sanitize();
        notes.sanitize();
        targets.sanitize();
        diagnosis.sanitize();
    }
}

impl Sanitize for Diagnosis {
    fn sanitize(&mut self) {
        let Diagnosis {
            phase: _,
            outcome: _,
            targets,
            cause,
            next_step,
        } = self;
        targets.sanitize();
        cause.sanitize();
        next_step.sanitize();
    }
}

impl Sanitize for TargetResult {
    fn sanitize(&mut self) {
        let TargetResult {
            name,
            url,
            kind: _,
            required: _,
            direct: _,
            verdict: _,
            checks,
            phases_ms: _,
            timings_ms: _,
            idle,
        } = self;
        name.sanitize();
        url.sanitize();
        checks.sanitize();
        idle.sanitize();
    }
}

impl Sanitize for CheckResult {
    fn sanitize(&mut self) {
        let CheckResult {
            check: _,
            status: _,
            outcome: _,
            message,
            duration_ms: _,
            details,
        } = self;
        message.sanitize();
        details.sanitize();
    }
}

impl Sanitize for Details {
    fn sanitize(&mut self) {
        match self {
            Details::Dns(DnsDetails {
                source: _,
                server,
                cname_chain,
                addresses,
            }) => {
                server.sanitize();
                cname_chain.sanitize();
                addresses.sanitize();
            }
            Details::Tcp(TcpDetails { addresses, used }) => {
                for AddressResult {
                    address,
                    family: _,
                    outcome: _,
                    duration_ms: _,
                } in addresses
                {
                    address.sanitize();
                }
                used.sanitize();
            }
            Details::Proxy(ProxyDetails {
                proxy,
                proxy_source,
                status_code: _,
                via,
                auth_schemes,
                redirect_host,
                logon,
            }) => {
                proxy.sanitize();
                proxy_source.sanitize();
                via.sanitize();
                auth_schemes.sanitize();
                redirect_host.sanitize();
                if let Some(logon) = logon {
                    logon.identity.sanitize();
                    logon.spn.sanitize();
                }
            }
            Details::Tls(TlsDetails {
                tls_version,
                cipher,
                alpn,
                chain,
                block_page_title,
                rehearsal: _,
            }) => {
                tls_version.sanitize();
                cipher.sanitize();
                alpn.sanitize();
                chain.sanitize();
                block_page_title.sanitize();
            }
            Details::Http(HttpDetails {
                status_code: _,
                server,
                via,
                clock_skew_s: _,
                processing_ms: _,
                transfer_ms: _,
                body_bytes: _,
            }) => {
                server.sanitize();
                via.sanitize();
            }
            Details::Websocket(WebsocketDetails {
                path,
                status_code: _,
                echo_ms: _,
            }) => path.sanitize(),
            Details::Revocation(RevocationDetails { urls }) => {
                for UrlResult {
                    url,
                    kind: _,
                    outcome: _,
                    status_code: _,
                    duration_ms: _,
                    error,
                } in urls
                {
                    url.sanitize();
                    error.sanitize();
                }
            }
            Details::Gateways(GatewaysDetails {
                deployment,
                gateways_tried: _,
                gateways_resolved: _,
                addresses,
            }) => {
                deployment.sanitize();
                for GatewayAddress {
                    address,
                    gateway,
                    outcome: _,
                    duration_ms: _,
                } in addresses
                {
                    address.sanitize();
                    gateway.sanitize();
                }
            }
            Details::Pdc(PdcDetails {
                pdc_emulator,
                controllers,
            }) => {
                pdc_emulator.sanitize();
                for ControllerResult {
                    host,
                    role: _,
                    address,
                    ports,
                } in controllers
                {
                    host.sanitize();
                    address.sanitize();
                    for PortResult {
                        port: _,
                        service,
                        outcome: _,
                        tls: _,
                        duration_ms: _,
                    } in ports
                    {
                        service.sanitize();
                    }
                }
            }
            Details::Listener(ListenerDetails {
                entity,
                listener_id,
                status_code: _,
                description,
            }) => {
                entity.sanitize();
                listener_id.sanitize();
                description.sanitize();
            }
            Details::Rendezvous(RendezvousDetails {
                sender_id,
                status_code: _,
                description,
                accept_ms: _,
                rendezvous_host,
                round_trip_ms: _,
            }) => {
                sender_id.sanitize();
                description.sanitize();
                rendezvous_host.sanitize();
            }
        }
    }
}

impl Sanitize for CertInfo {
    fn sanitize(&mut self) {
        let CertInfo {
            subject,
            issuer,
            sans,
            not_before,
            not_after,
            sha256,
            crl_urls,
            ocsp_urls,
            ca_issuer_urls,
        } = self;
        for s in [subject, issuer, not_before, not_after, sha256] {
            s.sanitize();
        }
        for list in [sans, crl_urls, ocsp_urls, ca_issuer_urls] {
            list.sanitize();
        }
    }
}

impl Sanitize for IdleReport {
    fn sanitize(&mut self) {
        let IdleReport {
            required_s: _,
            recommended_s: _,
            survived_s: _,
            failed_s: _,
            failure: _,
            verdict: _,
            step_s: _,
            probes,
            control: _,
            variants,
            advice,
            hc_ladder,
            unstable_s: _,
        } = self;
        for probe in probes {
            probe.entity.sanitize();
        }
        if let Some(HcLadder {
            entities: _,
            rungs: _,
            control_entity,
        }) = hc_ladder
        {
            control_entity.sanitize();
        }
        for VariantReport {
            variant: _,
            interval_s: _,
            idle_s: _,
            outcome: _,
            detected_after_s: _,
            error,
        } in variants
        {
            error.sanitize();
        }
        advice.sanitize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_terminal_controls_and_keeps_printable_unicode() {
        assert_eq!(
            clean_text("evil\u{1b}]0;pwned\u{7}\u{1b}[31mCA\u{9b}2J\u{7f}"),
            "evil]0;pwned[31mCA2J"
        );
        assert_eq!(clean_text("line\none\ttab\r"), "line one tab ");
        assert_eq!(clean_text("a\u{202E}b\u{2066}c"), "abc");
        assert!(matches!(clean_text("Grüße, 東京 ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_string_of_a_result_is_cleaned() {
        let dirty = "x\u{1b}[2J";
        let mut json = serde_json::to_value(super::super::tests::sample()).unwrap();
        fn walk(v: &mut serde_json::Value, dirty: &str) {
            match v {
                // Keep enumerations valid: only free text gets the controls.
                serde_json::Value::String(s)
                    if s != "probe.result/v1"
                        && (s.contains(' ') || s.contains("example") || s.contains(':')) =>
                {
                    s.push_str(dirty);
                }
                serde_json::Value::Array(a) => a.iter_mut().for_each(|v| walk(v, dirty)),
                serde_json::Value::Object(o) => o.values_mut().for_each(|v| walk(v, dirty)),
                _ => {}
            }
        }
        walk(&mut json, dirty);
        let run: RunResult = serde_json::from_value(json).unwrap();
        assert!(serde_json::to_string(&run).unwrap().contains("\\u001b"));
        let clean = serde_json::to_string(&run.sanitized()).unwrap();
        assert!(!clean.contains("\\u001b"), "{clean}");
    }
}
