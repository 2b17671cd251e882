//! `sb-hc-action=accept`: a listener acting on an `accept` message, at the address it was
//! given (no token: the address is the credential, good once, for the accept timeout).
//!
//! - accept: a WebSocket handshake at the address; answered 101, after which the connection
//!   is the listener's end of the rendezvous, and the waiting sender gets its 101 too;
//! - reject: the address plus `sb-hc-statusCode` and `sb-hc-statusDescription`; answered 410
//!   ("intentionally fails ... since no WebSocket has been established", protocol guide), and
//!   the sender's handshake fails with that status and description;
//! - an address unknown, already used, expired, or for another entity: 403.

use crate::handshake::{first_protocol, switching_protocols_with, upgrade_required, websocket_key};
use crate::hc_state::answer::{refuse, ADDRESS_INVALID};
use crate::hc_state::registry::Decision;
use crate::hc_state::{shown, ListenerEnd, Upgrade};
use crate::response::Body;
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use http::{Request, Response};
use hyper::body::Incoming;
use relay_protocol::hc::{
    HcRequest, ACCEPT_ADDRESS_INVALID_STATUS, QUERY_ID, REJECT_COMPLETED_STATUS,
};
use tokio::sync::oneshot;

/// Statuses a listener may reject a sender with: errors only. Anything else would tell the
/// sender's client something a failed handshake cannot mean (a 101, a 200 with no WebSocket).
/// The protocol guide does not say; this is the mock's choice.
const REJECT_STATUSES: std::ops::RangeInclusive<u16> = 400..=599;

pub(crate) fn handle(
    req: &mut Request<Incoming>,
    request: HcRequest,
    ctx: &ConnCtx,
) -> Response<Body> {
    let Some(id) = request.id.as_deref() else {
        return refuse(400, &format!("query parameter {QUERY_ID} is missing"));
    };
    if let Some(rejection) = &request.rejection {
        if !REJECT_STATUSES.contains(&rejection.status_code) {
            return refuse(
                400,
                &format!(
                    "sb-hc-statusCode {} cannot reject a sender: use an error status from 400 to 599",
                    rejection.status_code
                ),
            );
        }
    }
    // A listener accepting must open a WebSocket; a reject need not be one.
    let key = match (
        &request.rejection,
        websocket_key(req.method(), req.headers()),
    ) {
        (None, Err(why)) => return upgrade_required(why),
        (_, key) => key.ok(),
    };
    let service = &ctx.shared.hc;
    let Some(pending) = service.registry.take(id) else {
        return refuse(ACCEPT_ADDRESS_INVALID_STATUS, ADDRESS_INVALID);
    };
    let path_key = request.path.as_str().to_lowercase();
    if pending.created.elapsed() > service.config.accept_timeout || pending.path_key != path_key {
        return refuse(ACCEPT_ADDRESS_INVALID_STATUS, ADDRESS_INVALID);
    }
    if let Some(rejection) = request.rejection {
        tracing::info!(conn = ctx.id, id = %shown(id), status = rejection.status_code, "sender rejected by its listener");
        ctx.shared.stats.rejected();
        // The sender may have gone meanwhile: the listener did its part all the same.
        let _ = pending.decision.send(Decision::Reject(rejection));
        return refuse(REJECT_COMPLETED_STATUS, "Gone: the sender was rejected.");
    }
    let (handover, joined) = oneshot::channel();
    if pending.decision.send(Decision::Accept(handover)).is_err() {
        return refuse(
            ACCEPT_ADDRESS_INVALID_STATUS,
            "The sender is no longer waiting.",
        );
    }
    tracing::info!(conn = ctx.id, id = %shown(id), "sender accepted by its listener");
    let protocol = first_protocol(req.headers());
    ctx.park(PendingUpgrade {
        on_upgrade: hyper::upgrade::on(req),
        kind: UpgradeKind::Hc(Upgrade::Rendezvous(ListenerEnd {
            joined,
            id: id.to_string(),
        })),
    });
    // `key` is present: without a rejection, a missing one was answered 426 above.
    switching_protocols_with(key.as_deref().unwrap_or_default(), protocol.as_deref())
}
