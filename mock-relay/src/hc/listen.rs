//! `sb-hc-action=listen`: a listener's handshake. Checked like the service checks it (token,
//! then entity, then the 25-listener quota); answered 101, after which the connection is the
//! listener's control channel ([`super::control`]).

use crate::handshake::{switching_protocols, upgrade_required, websocket_key};
use crate::hc_state::answer::refuse;
use crate::hc_state::target::authorize;
use crate::hc_state::{shown, Session, Upgrade};
use crate::response::Body;
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use http::{Request, Response};
use hyper::body::Incoming;
use relay_protocol::hc::{HcRequest, MAX_LISTENERS_PER_ENTITY};

/// Status for a listener beyond the quota. The protocol guide gives the limit (25) but not the
/// answer; Azure messaging answers an exceeded quota with 403 (Service Bus REST: "403 Forbidden:
/// quota exceeded"), and the .NET SDK has no other mapping for it.
const QUOTA_STATUS: u16 = 403;

pub(crate) fn handle(
    req: &mut Request<Incoming>,
    request: HcRequest,
    ctx: &ConnCtx,
) -> Response<Body> {
    let key = match websocket_key(req.method(), req.headers()) {
        Ok(key) => key,
        Err(why) => return upgrade_required(why),
    };
    let service = &ctx.shared.hc;
    let (target, token) = match authorize(req.headers(), &request, &service.config) {
        Ok(found) => found,
        Err(refusal) => return refusal.answer(),
    };
    if !target.suffix.is_empty() {
        return refuse(
            404,
            &format!(
                "A listener listens on a hybrid connection itself, not below it ('{}').",
                shown(request.path.as_str())
            ),
        );
    }
    let (registration, accepts) = match service.registry.listen(&target) {
        Ok(registered) => registered,
        Err(_) => {
            return refuse(
                QUOTA_STATUS,
                &format!(
                    "Quota exceeded: hybrid connection '{}' already has the maximum of {MAX_LISTENERS_PER_ENTITY} listeners.",
                    shown(target.entity.as_str())
                ),
            )
        }
    };
    let session = Session {
        id: request.id.unwrap_or_default(),
        expiry: token.expiry(),
        target,
        accepts,
        _registration: registration,
    };
    ctx.park(PendingUpgrade {
        on_upgrade: hyper::upgrade::on(req),
        kind: UpgradeKind::Hc(Upgrade::Listener(session)),
    });
    let mut response = switching_protocols(&key);
    if let Some(limit) = service.config.service_idle_limit {
        let value = super::service_idle::seconds(limit);
        if let Ok(value) = http::HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(relay_protocol::hc::SERVICE_IDLE_LIMIT_HEADER, value);
        }
    }
    response
}
