//! Which proxy a run goes through, and the direct twins of `--compare-direct`.

use super::args::RunArgs;
use super::PlanError;
use crate::error::ConfigError;
use crate::net::proxy::{Proxy, ProxyAuth, ProxyRoute};
use crate::net::proxy_sources;
use crate::scenario::Scenario;
use crate::target::Target;

/// The proxy for this run: `--no-proxy`, else `--proxy`, else machine.config or WinHTTP, else
/// the scenario's, else the environment (curl's variables). `NO_PROXY` applies to every one of
/// them, and WinHTTP's bypass list to its own proxy.
pub fn route(
    args: &RunArgs,
    scenario: &Scenario,
    notes: &mut Vec<String>,
) -> Result<ProxyRoute, ConfigError> {
    // `--no-proxy` ignores the environment, a malformed `HTTPS_PROXY` included.
    if args.no_proxy {
        return Ok(ProxyRoute::default());
    }
    let env =
        ProxyRoute::from_env(|k| std::env::var(k).ok()).map_err(PlanError::ProxyEnvironment)?;
    let mut bypass = None;
    let proxy = if let Some(url) = &args.proxy {
        Some(Proxy::parse(url, "--proxy")?)
    } else if args.proxy_from_machine_config.is_some() || args.proxy_from_winhttp.is_some() {
        let chosen = proxy_sources::choose(
            args.proxy_from_machine_config
                .as_ref()
                .map(Option::as_deref),
            args.proxy_from_winhttp.as_ref().map(Option::as_deref),
        )?;
        notes.extend(chosen.notes);
        bypass = chosen.bypass;
        chosen.proxy
    } else {
        scenario.proxy.clone().or(env.proxy)
    };
    if let Some(auth) = args.proxy_auth {
        check_credentials(auth, proxy.as_ref())?;
    }
    Ok(ProxyRoute {
        proxy,
        no_proxy: env.no_proxy,
        bypass,
        auth: args.proxy_auth.unwrap_or_default(),
    })
}

/// `--proxy-auth` needs a proxy; `basic` one whose URL carries the user and password.
fn check_credentials(auth: ProxyAuth, proxy: Option<&Proxy>) -> Result<(), PlanError> {
    let flag = format!("--proxy-auth {}", auth.as_str());
    match proxy {
        None => Err(PlanError::AuthWithoutProxy { flag }),
        // With no password, NTLM and Negotiate use the logon's own credentials.
        Some(_) if auth == ProxyAuth::Negotiate => Ok(()),
        Some(p) if !p.has_credentials() && auth == ProxyAuth::Ntlm => Ok(()),
        Some(p) if !p.has_credentials() => Err(PlanError::AuthWithoutCredentials {
            flag,
            proxy: p.redacted(),
            origin: p.source.clone(),
        }),
        Some(_) => Ok(()),
    }
}

/// `--compare-direct`: every proxied target twice, through the proxy and directly.
pub fn with_direct_twins(targets: Vec<Target>, route: &ProxyRoute) -> Vec<Target> {
    let mut out = Vec::with_capacity(targets.len() * 2);
    for target in targets {
        let proxied = route.for_host(&target.host).is_some();
        let mut direct = target.clone();
        out.push(target);
        if proxied {
            direct.direct = true;
            direct.name = format!("{} (direct)", direct.name);
            out.push(direct);
        }
    }
    out
}
