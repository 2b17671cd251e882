//! From flags and a scenario to a plan: scenario -> targets -> settings -> plan. `probe run`,
//! `probe serve` (once per run, so an edited scenario file takes effect at the next one) and
//! `probe demo` all run a [`Plan`].

pub mod args;
mod error;
mod hybrid;
mod names;
mod proxy;

pub use args::RunArgs;

pub use error::PlanError;

use crate::check::idle::{IdleSettings, Thresholds};
use crate::cloud::Cloud;
use crate::error::ConfigError;
use crate::net::connect::SocketOptions;
use crate::net::resolve::Resolver;
use crate::net::tls::TlsSetup;
use crate::net::NetContext;
use crate::progress::Progress;
use crate::scenario::Scenario;
use crate::seconds::Seconds;
use crate::target::Target;
use std::time::Duration;

/// Everything one run needs.
pub struct Plan {
    /// How the far ends are reached: resolver, trust, deadlines, proxy.
    pub net: NetContext,
    pub scenario: String,
    pub cloud: Cloud,
    pub segment: Option<String>,
    pub targets: Vec<Target>,
    /// Timing samples per target (`--count`).
    pub count: u32,
    /// The idle-connection check, unless skipped (`--quick`, or no requirement).
    pub idle: Option<IdleSettings>,
    pub progress: Progress,
    /// Things the user should know about how the run was set up.
    pub notes: Vec<String>,
    /// The run deadline asked for (`--max-time`); `None` derives it from the plan.
    pub max_time: Option<Duration>,
    /// The flag that skips the idle check, named when a run announces how long it will hold
    /// idle connections (`--quick` for `probe run`; the demo has none).
    pub skip_idle_with: Option<&'static str>,
}

impl Plan {
    /// One pass over `targets` through `net`, no idle check, no progress output; callers set
    /// the rest. Targets sharing a name are renamed apart ([`names::make_unique`]).
    pub fn new(net: NetContext, mut targets: Vec<Target>) -> Plan {
        names::make_unique(&mut targets);
        Plan {
            net,
            scenario: "ad-hoc".into(),
            cloud: Cloud::Public,
            segment: None,
            targets,
            count: 1,
            idle: None,
            progress: Progress::hidden(),
            notes: Vec::new(),
            max_time: None,
            skip_idle_with: None,
        }
    }

    /// The proxy in use, credentials shown as `****`.
    pub fn proxy_shown(&self) -> Option<String> {
        self.net.proxy.proxy.as_ref().map(|p| p.redacted())
    }
}

/// The plan for `probe run` flags.
pub fn from_args(args: &RunArgs, progress_on_tty: bool) -> Result<Plan, ConfigError> {
    let scenario = Scenario::load(&args.scenario)?;
    let cloud = args
        .cloud
        .or(scenario.default_cloud)
        .unwrap_or(Cloud::Public);
    let mut notes = Vec::new();
    let mut targets = targets(args, &scenario, cloud, &mut notes)?;
    // Before the direct twins, so a twin's name is its original's plus ` (direct)`.
    names::make_unique(&mut targets);
    let idle = idle_settings(args, scenario.idle.as_ref())?;
    let route = proxy::route(args, &scenario, &mut notes)?;
    let targets = if args.compare_direct && route.proxy.is_some() {
        proxy::with_direct_twins(targets, &route)
    } else {
        if args.compare_direct {
            notes.push(
                "--compare-direct: no proxy applies, so every target is checked directly only"
                    .into(),
            );
        }
        targets
    };
    let timeout = args.timeout.duration();
    let net = NetContext {
        resolver: Resolver::new(&args.dns_servers, args.resolve.clone(), timeout)?,
        tls: TlsSetup::new(&args.ca_files)?,
        timeout,
        socket: SocketOptions::default(),
        proxy: route,
    };
    Ok(Plan {
        scenario: if names_targets(args) {
            "ad-hoc".into()
        } else {
            scenario.name.clone()
        },
        cloud,
        segment: args.segment.clone(),
        count: args.count,
        idle,
        progress: Progress::new(progress_on_tty),
        skip_idle_with: Some("--quick"),
        notes,
        max_time: args.max_time.map(Seconds::duration),
        ..Plan::new(net, targets)
    })
}

/// The scenario's targets for `cloud` (or the `--target` URLs), with `--relay-namespace`,
/// `--namespace-from` and `--ad-domain` added.
fn targets(
    args: &RunArgs,
    scenario: &Scenario,
    cloud: Cloud,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, ConfigError> {
    let mut targets = if names_targets(args) {
        let mut named = args.targets.clone();
        named.extend(hybrid::targets(args, scenario)?);
        named
    } else {
        scenario.targets_for(cloud)
    };
    let from_file = match &args.namespace_from {
        Some(path) => {
            let (names, note) = crate::namespace_from::read(path)?;
            notes.push(note);
            names
        }
        None => Vec::new(),
    };
    for name in args.relay_namespaces.iter().chain(&from_file) {
        scenario.add_relay_namespace(&mut targets, &cloud.namespace_host(name));
    }
    if let Some(domain) = &args.ad_domain {
        targets.push(Target::ad_domain(domain)?);
    }
    if targets.is_empty() {
        return Err(PlanError::NoTarget {
            scenario: scenario.name.clone(),
            cloud,
        }
        .into());
    }
    Ok(targets)
}

/// Whether the flags name the targets (`--target`, `--hybrid-connection`), replacing the
/// scenario's own.
fn names_targets(args: &RunArgs) -> bool {
    !args.targets.is_empty() || !args.hybrid_connections.is_empty()
}

/// The idle ladder asked for, or `None` with `--quick` or when nothing requires one.
///
/// `--idle` sets the pass line; the scenario's recommendation only goes with the scenario's own
/// pass line (a scaled-down `--idle` brings its own `--idle-recommended`, if any).
fn idle_settings(
    args: &RunArgs,
    scenario: Option<&Thresholds>,
) -> Result<Option<IdleSettings>, ConfigError> {
    if args.quick {
        return Ok(None);
    }
    let thresholds = match (args.idle, scenario) {
        (Some(required), _) => Thresholds::required(required),
        (None, Some(t)) => t.clone(),
        (None, None) => return Ok(None),
    };
    let thresholds = match args.idle_recommended {
        Some(r) => Thresholds {
            recommended_s: Some(r),
            recommended_source: None,
            ..thresholds
        },
        None => thresholds,
    };
    let mut settings = IdleSettings::new(thresholds, args.idle_min, args.idle_max, args.idle_step)?;
    settings.variants = args.idle_variants;
    settings.refine = args.refine;
    Ok(Some(settings))
}
