//! Which proxy a run goes through, and the direct twins of `--compare-direct`.

use super::args::RunArgs;
use crate::error::ConfigError;
use crate::net::machine_config;
use crate::net::proxy::{Proxy, ProxyRoute};
use crate::scenario::Scenario;
use crate::target::Target;

/// The proxy for this run: `--no-proxy`, else `--proxy`, else machine.config, else the
/// scenario's, else the environment (curl's variables). `NO_PROXY` applies to every one of them.
pub fn route(
    args: &RunArgs,
    scenario: &Scenario,
    notes: &mut Vec<String>,
) -> Result<ProxyRoute, ConfigError> {
    let env = ProxyRoute::from_env(|k| std::env::var(k).ok())
        .map_err(|e| ConfigError::new(format!("proxy environment variable {e}")))?;
    if args.no_proxy {
        return Ok(ProxyRoute::default());
    }
    let proxy = if let Some(url) = &args.proxy {
        Some(Proxy::parse(url, "--proxy").map_err(ConfigError::new)?)
    } else if let Some(path) = &args.proxy_from_machine_config {
        let (path, section) = machine_config::read(path.as_deref())?;
        if let Some(why) = section.why_no_proxy() {
            notes.push(format!("{}: {why}", path.display()));
        }
        if section.use_default_credentials {
            notes.push(format!(
                "{}: useDefaultCredentials=\"true\": the sync service authenticates to the proxy as its own account (NTLM/Negotiate), which this probe cannot; a 407 here may not happen to the service",
                path.display()
            ));
        }
        section.proxy.filter(|_| section.enabled)
    } else {
        scenario.proxy.clone().or(env.proxy)
    };
    Ok(ProxyRoute {
        proxy,
        no_proxy: env.no_proxy,
    })
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
