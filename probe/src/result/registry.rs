//! The registry: every check, once. A line names the check's module under `check/`, its name in
//! the document (`CheckName`), and the `Details` variant its facts are written as (none for a
//! check without facts of its own). The check itself (what it runs, its deadlines, its skip
//! phrase) is declared in its own file, as `CHECK`.
//!
//! The list is a macro so that both sides follow from it: `result` derives the `CheckName`
//! enum and reading a check's facts back ([`super::Details`]), `check` declares the modules and
//! finds each one's `CHECK`. Order is declaration order: the order of `CheckName::ALL`.

/// Hands the list of checks to `$then!`: `module Name => DetailsVariant`, in order.
macro_rules! each_check {
    ($then:ident) => {
        $then! {
            dns Dns => Dns,
            tcp Tcp => Tcp,
            /// The HTTP CONNECT through a proxy.
            proxy Proxy => Proxy,
            tls Tls => Tls,
            http Http => Http,
            websocket Websocket => Websocket,
            revocation Revocation => Revocation,
            /// The gateways of a relay namespace.
            gateways Gateways => Gateways,
            legacy_ports LegacyPorts => Tcp,
            /// The PDC emulator and domain controllers of `--ad-domain`.
            pdc Pdc => Pdc,
            /// A Hybrid Connections listener's control channel.
            listener Listener => Listener,
            /// A sender handed to the listener, and bytes both ways between them.
            rendezvous Rendezvous => Rendezvous,
            idle Idle,
        }
    };
}
pub(crate) use each_check;
