//! Squid as a forward proxy: CONNECT to allowed ports, `read_timeout` (which governs idle
//! CONNECT tunnels), basic auth from an htpasswd file, NTLM through Squid's fake-auth helper
//! (the real three-message handshake, any password accepted), a Negotiate challenge, and deny
//! ACLs by destination domain.

use super::process::LabProcess;
use super::site::Site;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// How a Squid instance behaves.
#[derive(Clone, Debug)]
pub struct SquidConfig {
    /// Basic-auth users `(name, password)`.
    pub users: Vec<(String, String)>,
    /// Offer NTLM, answered by `ntlm_fake_auth`: it runs the handshake (negotiate, challenge,
    /// authenticate) and accepts any user, logging the name it was given.
    pub ntlm: bool,
    /// Offer Negotiate (Kerberos). Without `kerberos`: no keytab, the challenge is real, no
    /// ticket can pass.
    pub negotiate: bool,
    /// Negotiate for real: the helper's keytab and realm, and the principals let through.
    pub kerberos: Option<SquidKerberos>,
    /// Destination domains refused with 403 (`.example.test` covers subdomains).
    pub deny_domains: Vec<String>,
    /// Squid's `read_timeout`: an idle CONNECT tunnel is closed after this (whole seconds).
    pub read_timeout: Duration,
    /// Ports CONNECT may reach (Squid port-ACL syntax: `443`, `1025-65535`).
    pub connect_ports: Vec<String>,
    /// DNS server Squid uses for names. The default is the loopback address of wherever Squid
    /// runs, where nothing answers: Squid must never ask the host's own resolver, which may sit
    /// outside the lab's addresses.
    pub dns_server: Option<IpAddr>,
}

impl Default for SquidConfig {
    fn default() -> Self {
        SquidConfig {
            users: Vec::new(),
            ntlm: false,
            negotiate: false,
            kerberos: None,
            deny_domains: Vec::new(),
            read_timeout: Duration::from_secs(900),
            connect_ports: vec!["443".into(), "1025-65535".into()],
            dns_server: Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        }
    }
}

impl SquidConfig {
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.push((name.into(), password.into()));
        self
    }

    pub fn ntlm(mut self) -> Self {
        self.ntlm = true;
        self
    }

    pub fn negotiate(mut self) -> Self {
        self.negotiate = true;
        self
    }

    /// Negotiate answered by `negotiate_kerberos_auth` with a real keytab.
    pub fn kerberos(mut self, kerberos: SquidKerberos) -> Self {
        self.negotiate = true;
        self.kerberos = Some(kerberos);
        self
    }

    /// Whether any authentication is asked for.
    fn authenticates(&self) -> bool {
        !self.users.is_empty() || self.ntlm || self.negotiate
    }

    pub fn deny_domain(mut self, domain: &str) -> Self {
        self.deny_domains.push(domain.into());
        self
    }

    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }

    pub fn dns_server(mut self, ip: IpAddr) -> Self {
        self.dns_server = Some(ip);
        self
    }
}

/// Squid's Kerberos: the `HTTP/<proxy name>` keytab, the realm's `krb5.conf`, and the
/// principals let through (any other authenticated one is challenged again: 407).
#[derive(Clone, Debug)]
pub struct SquidKerberos {
    pub keytab: std::path::PathBuf,
    pub krb5_conf: std::path::PathBuf,
    pub allowed: Vec<String>,
}

/// A running Squid (foreground, private pid, cache and log files); stopped on drop.
pub struct Squid {
    pub addr: SocketAddr,
    process: LabProcess,
    dir: tempfile::TempDir,
    /// Squid's `-n`, which names its shared-memory segments.
    service: String,
}

impl Drop for Squid {
    fn drop(&mut self) {
        self.process.stop();
        remove_shm(&self.service);
    }
}

impl Squid {
    /// Starts Squid in `site` listening on `ip:port` (0: a free port). Ready when it accepts
    /// TCP (Squid opens its port once the configuration is loaded).
    pub fn start(site: &Site, ip: IpAddr, port: u16, config: &SquidConfig) -> Squid {
        let port = if port == 0 {
            super::dnsmasq::free_port(site, ip)
        } else {
            port
        };
        let addr = SocketAddr::new(ip, port);
        let dir = super::names::temp_dir("squid");
        let d = dir.path();
        let mut conf = String::new();
        let _ = writeln!(conf, "http_port {addr}");
        let _ = writeln!(conf, "visible_hostname lab-squid");
        let _ = writeln!(conf, "pid_filename {}", d.join("squid.pid").display());
        let _ = writeln!(conf, "cache_log {}", d.join("cache.log").display());
        let _ = writeln!(conf, "access_log stdio:{}", d.join("access.log").display());
        let _ = writeln!(conf, "coredump_dir {}", d.display());
        let _ = writeln!(conf, "cache deny all\ncache_mem 8 MB");
        let _ = writeln!(conf, "shutdown_lifetime 0 seconds");
        let secs = config.read_timeout.as_secs().max(1);
        let _ = writeln!(conf, "read_timeout {secs} seconds");
        if let Some(dns) = config.dns_server {
            let _ = writeln!(conf, "dns_nameservers {dns}");
        }
        let _ = writeln!(
            conf,
            "acl lab_ports port {}\nacl CONNECT method CONNECT",
            config.connect_ports.join(" ")
        );
        if !config.deny_domains.is_empty() {
            let _ = writeln!(
                conf,
                "acl lab_denied dstdomain {}\nhttp_access deny lab_denied",
                config.deny_domains.join(" ")
            );
        }
        let _ = writeln!(conf, "http_access deny CONNECT !lab_ports");
        // Squid offers the schemes in the order of their auth_param lines.
        if config.negotiate {
            let _ = writeln!(
                conf,
                "auth_param negotiate program {}{}\nauth_param negotiate children 1 startup=0 idle=1",
                super::tools::require("negotiate_kerberos_auth").display(),
                match &config.kerberos {
                    Some(k) => format!(" -k {} -s GSS_C_NO_NAME", k.keytab.display()),
                    None => String::new(),
                }
            );
        }
        if config.ntlm {
            let _ = writeln!(
                conf,
                "auth_param ntlm program {}\nauth_param ntlm children 2 startup=1 idle=1",
                super::tools::require("ntlm_fake_auth").display()
            );
        }
        if !config.users.is_empty() {
            let htpasswd = d.join("htpasswd");
            write_htpasswd(&htpasswd, &config.users);
            let _ = writeln!(
                conf,
                "auth_param basic program {} {}",
                super::tools::require("basic_ncsa_auth").display(),
                htpasswd.display()
            );
            let _ = writeln!(conf, "auth_param basic realm lab");
            let _ = writeln!(conf, "auth_param basic children 2 startup=1 idle=1");
        }
        if let Some(k) = config.kerberos.as_ref().filter(|k| !k.allowed.is_empty()) {
            // A refused principal gets a 407 again, as a proxy that allows users by group
            // answers an account outside the group.
            let _ = writeln!(conf, "acl lab_allowed proxy_auth {}", k.allowed.join(" "));
            let _ = writeln!(conf, "http_access deny !lab_allowed");
        }
        if config.authenticates() {
            let _ = writeln!(conf, "acl lab_users proxy_auth REQUIRED");
            let _ = writeln!(conf, "http_access allow lab_users");
        } else {
            let _ = writeln!(conf, "http_access allow all");
        }
        let _ = writeln!(conf, "http_access deny all");
        let conf_path = d.join("squid.conf");
        let service = service_name();
        std::fs::write(&conf_path, conf).expect("write squid.conf");
        let mut cmd = site.command(super::tools::require("squid"));
        cmd.arg("-N")
            .arg("-n")
            .arg(&service)
            .arg("-f")
            .arg(&conf_path);
        if let Some(k) = &config.kerberos {
            // The helper inherits Squid's environment: the realm's configuration, no replay
            // cache file (the helper runs as Squid's unprivileged user).
            cmd.env("KRB5_CONFIG", &k.krb5_conf)
                .env("KRB5RCACHETYPE", "none")
                .env("KRB5_KTNAME", &k.keytab);
        }
        let mut process = LabProcess::spawn_command(site, "squid", cmd, d);
        let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            process.wait_tcp(addr, Duration::from_secs(20))
        }));
        if let Err(why) = ready {
            let why = why
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "squid did not start".into());
            let cache_log = std::fs::read_to_string(d.join("cache.log")).unwrap_or_default();
            panic!("{why}\n--- cache.log\n{cache_log}");
        }
        Squid {
            addr,
            process,
            dir,
            service,
        }
    }

    /// `http://ADDR` (no credentials).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://USER:PASSWORD@ADDR`.
    pub fn url_with(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// Squid's access.log: one line per request, with the user name it authenticated.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }

    /// Squid's access.log once a line satisfies `wanted`, or as it is after `limit`. Squid
    /// writes a tunnel's line when the tunnel closes, which may be a moment after the client
    /// that closed it has exited (seen on a loaded machine), so a test that reads the log at
    /// once can miss it.
    pub fn access_log_with(&self, wanted: impl Fn(&str) -> bool, limit: Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let log = self.access_log();
            if log.lines().any(&wanted) || std::time::Instant::now() >= deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Squid's stderr plus its cache.log and access.log (for failure messages).
    pub fn logs(&self) -> String {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!(
            "--- stderr\n{}\n--- cache.log\n{}\n--- access.log\n{}",
            self.process.log(),
            read("cache.log"),
            read("access.log")
        )
    }
}

/// A service name of its own for each Squid: Squid names its shared-memory segments after it
/// (`/dev/shm/squid-cf__queues.shm` by default), so two instances starting at the same moment
/// under one name collide and one dies with `shm_open ... File exists`. Alphanumeric only, as
/// Squid requires: `e2elab<pid>x<seq>`.
fn service_name() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}{}x{n}", super::names::PREFIX, std::process::id())
}

/// The creator pid of a Squid shared-memory segment (`e2elab<pid>x<seq>-cf__queues.shm`).
pub fn shm_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(super::names::PREFIX)?;
    let (pid, _) = rest.split_once('x')?;
    pid.parse().ok()
}

/// Removes the shared-memory segments of Squid service `service` (a killed Squid leaves them).
fn remove_shm(service: &str) {
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    let prefix = format!("{service}-");
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes an htpasswd file with `htpasswd -b` (bcrypt is not understood by every
/// basic_ncsa_auth build, so use its default MD5 scheme).
fn write_htpasswd(path: &std::path::Path, users: &[(String, String)]) {
    let htpasswd = super::tools::require("htpasswd");
    for (i, (user, password)) in users.iter().enumerate() {
        let mut cmd = std::process::Command::new(&htpasswd);
        cmd.arg("-b");
        if i == 0 {
            cmd.arg("-c");
        }
        let out = cmd
            .arg(path)
            .arg(user)
            .arg(password)
            .output()
            .expect("run htpasswd");
        assert!(
            out.status.success(),
            "htpasswd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod htpasswd");
}
