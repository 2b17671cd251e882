//! What each subcommand does: the top of every run, from flags to exit code.

use crate::check::idle::IdleSettings;
use crate::cli::{Cli, Command, RunArgs};
use crate::error::ConfigError;
use crate::net::connect::SocketOptions;
use crate::net::proxy::{Proxy, ProxyRoute};
use crate::net::proxy_sources;
use crate::net::resolve::Resolver;
use crate::net::tls::TlsSetup;
use crate::net::NetContext;
use crate::progress::Progress;
use crate::report;
use crate::runner::{self, RunPlan};
use crate::scenario::{builtin, Cloud, Scenario};
use crate::target::Target;
use clap::CommandFactory;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Runs the parsed command; the result is the process exit code.
pub async fn main(cli: Cli) -> Result<u8, ConfigError> {
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Report(args) => crate::report::fleet::command(&args),
        Command::Serve(args) => crate::serve::command(args).await,
        Command::Scenarios { files } => scenarios(&files),
        Command::Demo(args) => {
            let (text, code) = crate::demo::run(&args).await?;
            write_stdout(text.as_bytes())?;
            Ok(code)
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "probe", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| ConfigError::new(format!("cannot render the man page: {e}")))?;
            write_stdout(&out)?;
            Ok(0)
        }
    }
}

async fn run(args: RunArgs) -> Result<u8, ConfigError> {
    let (ctx, plan) = prepare(&args, std::io::stderr().is_terminal())?;
    let (format, color) = report::for_destination(args.format, args.output.is_some());
    let result = runner::run(&ctx, plan).await;
    let text = report::render(&result, format, color);
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            ConfigError::new(format!("--output {}: cannot write: {e}", path.display()))
        })?,
        None => write_stdout(text.as_bytes())?,
    }
    if let Some(path) = &args.prometheus_textfile {
        write_textfile(path, &result)?;
    }
    Ok(result.exit_code())
}

/// `--prometheus-textfile`: the exposition, replaced atomically.
pub(crate) fn write_textfile(
    path: &std::path::Path,
    result: &runner::RunResult,
) -> Result<(), ConfigError> {
    report::atomic::write(path, report::prometheus::render(result).as_bytes()).map_err(|e| {
        ConfigError::new(format!(
            "--prometheus-textfile {}: cannot write: {e}",
            path.display()
        ))
    })
}

/// Everything a run needs, from the flags and the scenario (also used by `probe serve`, once
/// per run, so an edited scenario file takes effect at the next run).
pub(crate) fn prepare(
    args: &RunArgs,
    progress_on_tty: bool,
) -> Result<(NetContext, RunPlan), ConfigError> {
    let scenario = Scenario::load(&args.scenario)?;
    let cloud = args
        .cloud
        .or(scenario.default_cloud)
        .unwrap_or(Cloud::Public);
    let mut targets = if args.targets.is_empty() {
        scenario.targets_for(cloud)
    } else {
        args.targets.clone()
    };
    let (from_file, from_file_note) = match &args.namespace_from {
        Some(path) => {
            let (names, note) = crate::namespace_from::read(path)?;
            (names, Some(note))
        }
        None => (Vec::new(), None),
    };
    for name in args.relay_namespaces.iter().chain(&from_file) {
        scenario.add_relay_namespace(&mut targets, &cloud.namespace_host(name));
    }
    if let Some(domain) = &args.ad_domain {
        targets.push(Target::ad_domain(domain).map_err(ConfigError::new)?);
    }
    if targets.is_empty() {
        return Err(ConfigError::new(format!(
            "scenario {} has no target for cloud {cloud}; name one with --target",
            scenario.name
        )));
    }
    let idle = idle_settings(args, scenario.idle_required_s)?;
    let mut notes: Vec<String> = from_file_note.into_iter().collect();
    let proxy = proxy_route(args, &scenario, &mut notes)?;
    let targets = if args.compare_direct && proxy.proxy.is_some() {
        with_direct_twins(targets, &proxy)
    } else {
        if args.compare_direct {
            notes.push(
                "--compare-direct: no proxy applies, so every target is checked directly only"
                    .into(),
            );
        }
        targets
    };
    let timeout = Duration::from_secs_f64(args.timeout);
    let ctx = NetContext {
        resolver: Resolver::new(&args.dns_servers, args.resolve.clone(), timeout)?,
        tls: TlsSetup::new(&args.ca_files)?,
        timeout,
        socket: SocketOptions::default(),
        proxy,
    };
    let plan = RunPlan {
        scenario: if args.targets.is_empty() {
            scenario.name.clone()
        } else {
            "ad-hoc".into()
        },
        cloud,
        segment: args.segment.clone(),
        targets,
        count: args.count,
        idle,
        progress: Progress::new(progress_on_tty),
        proxy: ctx.proxy.proxy.as_ref().map(|p| p.redacted()),
        notes,
    };
    Ok((ctx, plan))
}

/// The proxy for this run: `--no-proxy`, else `--proxy`, else machine.config or WinHTTP, else
/// the scenario's, else the environment (curl's variables). `NO_PROXY` applies to every one of
/// them, and WinHTTP's bypass list to its proxy.
fn proxy_route(
    args: &RunArgs,
    scenario: &Scenario,
    notes: &mut Vec<String>,
) -> Result<ProxyRoute, ConfigError> {
    let env = ProxyRoute::from_env(|k| std::env::var(k).ok())
        .map_err(|e| ConfigError::new(format!("proxy environment variable {e}")))?;
    if args.no_proxy {
        return Ok(ProxyRoute::default());
    }
    let mut bypass = None;
    let proxy = if let Some(url) = &args.proxy {
        Some(Proxy::parse(url, "--proxy").map_err(ConfigError::new)?)
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
    Ok(ProxyRoute {
        proxy,
        no_proxy: env.no_proxy,
        bypass,
    })
}

/// `--compare-direct`: every proxied target twice, through the proxy and directly.
fn with_direct_twins(targets: Vec<Target>, route: &ProxyRoute) -> Vec<Target> {
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

/// The idle ladder asked for, or `None` with `--quick` or when nothing requires one.
fn idle_settings(
    args: &RunArgs,
    scenario_required: Option<u64>,
) -> Result<Option<IdleSettings>, ConfigError> {
    if args.quick {
        return Ok(None);
    }
    let Some(required) = args.idle.or(scenario_required.map(|s| s as f64)) else {
        return Ok(None);
    };
    let mut settings = IdleSettings::new(required, args.idle_min, args.idle_max, args.idle_step)?;
    settings.variants = args.idle_variants;
    settings.refine = args.refine;
    Ok(Some(settings))
}

fn scenarios(files: &[std::path::PathBuf]) -> Result<u8, ConfigError> {
    let mut out = String::new();
    if files.is_empty() {
        for (name, _) in builtin::BUILTIN {
            let s = Scenario::load(name)?;
            out.push_str(&format!(
                "{name}{}\n  {}\n  {} target(s); idle requirement: {}\n",
                if *name == builtin::DEFAULT {
                    " (default)"
                } else {
                    ""
                },
                s.description,
                s.targets.len(),
                s.idle_required_s
                    .map(|s| format!("{s} s"))
                    .unwrap_or_else(|| "none".into())
            ));
        }
    } else {
        for file in files {
            let s = Scenario::load(&file.to_string_lossy())?;
            out.push_str(&format!(
                "{}: valid ({} target(s))\n",
                file.display(),
                s.targets.len()
            ));
        }
    }
    write_stdout(out.as_bytes())?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`probe ... | head`) is not an error worth a panic.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), ConfigError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(ConfigError::new(format!("cannot write the report: {e}"))),
    }
}
