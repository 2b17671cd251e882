//! The URLs a client opens: listener and sender handshakes, the reject handshake, and the token
//! as a query parameter.
//!
//! Shape (protocol guide, "Listener control channel connection" and "Web Socket connect
//! protocol"; the .NET SDK's `HybridConnectionUtility.BuildUri` appends `sb-hc-action` then
//! `sb-hc-id` in this order):
//! `wss://{namespace[:port]}/$hc/{entity}?sb-hc-action={action}&sb-hc-id={id}`.

use crate::encoding::encode_component;
use crate::sas::SasToken;
use crate::secret::SecretString;

use super::namespace::{EntityPath, Namespace};
use super::{Action, PATH_PREFIX, QUERY_ACTION, QUERY_ID, QUERY_STATUS_CODE};
use super::{QUERY_STATUS_DESCRIPTION, QUERY_TOKEN};

/// `wss://{namespace}/$hc/{entity}?sb-hc-action={action}[&sb-hc-id={id}]`, with the entity path
/// and the id percent-encoded. Also the form of the accept address a service hands out.
pub fn hc_url(
    namespace: &Namespace,
    entity: &EntityPath,
    action: Action,
    id: Option<&str>,
) -> String {
    let mut url = format!(
        "wss://{}{PATH_PREFIX}{}?{QUERY_ACTION}={}",
        namespace.authority(),
        entity.encoded(),
        action.as_str()
    );
    if let Some(id) = id {
        url = append_query(&url, QUERY_ID, id);
    }
    url
}

/// A listener's control channel: [`hc_url`] with `sb-hc-action=listen`.
pub fn listener_url(namespace: &Namespace, entity: &EntityPath, id: &str) -> String {
    hc_url(namespace, entity, Action::Listen, Some(id))
}

/// A sender's handshake: [`hc_url`] with `sb-hc-action=connect`.
pub fn sender_url(namespace: &Namespace, entity: &EntityPath, id: &str) -> String {
    hc_url(namespace, entity, Action::Connect, Some(id))
}

/// Adds `&name=value` (value percent-encoded) to a URL that already has a query, or
/// `?name=value` to one that has none.
pub fn append_query(url: &str, name: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{name}={}", encode_component(value))
}

/// The reject handshake: the accept address exactly as received, plus
/// `&sb-hc-statusCode={status}&sb-hc-statusDescription={description}` (description
/// URL-encoded). A service answers it with 410 when it worked (protocol guide, "Rejecting the
/// socket"; .NET `RelayedHttpListenerContext.RejectAsync`).
pub fn reject_url(accept_address: &str, status: u16, description: &str) -> String {
    let with_code = append_query(accept_address, QUERY_STATUS_CODE, &status.to_string());
    append_query(&with_code, QUERY_STATUS_DESCRIPTION, description)
}

/// The URL with `sb-hc-token={token}` appended (URL-encoded), for clients that cannot set the
/// `ServiceBusAuthorization` header. The result holds the signature, hence a [`SecretString`].
pub fn with_token_query(url: &str, token: &SasToken) -> SecretString {
    SecretString::new(append_query(url, QUERY_TOKEN, token.expose().expose()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sas::SasKey;

    fn ns(text: &str) -> Namespace {
        Namespace::parse(text).unwrap()
    }

    fn entity(text: &str) -> EntityPath {
        EntityPath::new(text).unwrap()
    }

    #[test]
    fn listener_and_sender_urls_have_the_documented_shape() {
        assert_eq!(
            listener_url(
                &ns("contoso.servicebus.windows.net"),
                &entity("hyco"),
                "l-1"
            ),
            "wss://contoso.servicebus.windows.net/$hc/hyco?sb-hc-action=listen&sb-hc-id=l-1"
        );
        assert_eq!(
            sender_url(&ns("relay.lab:8443"), &entity("site 1/wb"), "a b&c"),
            "wss://relay.lab:8443/$hc/site%201/wb?sb-hc-action=connect&sb-hc-id=a%20b%26c"
        );
        assert_eq!(
            hc_url(&ns("relay.lab"), &entity("hyco"), Action::Accept, None),
            "wss://relay.lab/$hc/hyco?sb-hc-action=accept"
        );
    }

    #[test]
    fn reject_appends_status_to_the_address_as_given() {
        let address = "wss://g3-prod-sb.servicebus.windows.net:443/$hc/hyco?sb-hc-action=accept&sb-hc-id=x_G3";
        assert_eq!(
            reject_url(address, 403, "No thanks: busy/100%"),
            format!("{address}&sb-hc-statusCode=403&sb-hc-statusDescription=No%20thanks%3A%20busy%2F100%25")
        );
        assert_eq!(append_query("wss://h/$hc/e", "k", "v"), "wss://h/$hc/e?k=v");
    }

    #[test]
    fn token_query_is_encoded_and_secret() {
        let key = SasKey::new("listen", "0123456789abcdefABCDEF0123456789abcdefABCDE=").unwrap();
        let token = key.sign("http://relay.lab/hyco/", 1_700_000_000);
        let url = with_token_query("wss://relay.lab/$hc/hyco?sb-hc-action=listen", &token);
        assert_eq!(format!("{url}"), "****");
        let text = url.expose();
        assert!(text.starts_with(
            "wss://relay.lab/$hc/hyco?sb-hc-action=listen&sb-hc-token=SharedAccessSignature%20sr%3Dhttp%253A%252F%252Frelay.lab"
        ), "{text}");
        assert!(!text.contains(' '));
    }
}
