//! A real MIT Kerberos KDC (`krb5kdc`) for a test realm, on loopback, configured entirely in a
//! temp dir: its `kdc.conf` (`KRB5_KDC_PROFILE`), a `krb5.conf` for every client and service of
//! the test (`KRB5_CONFIG`), the database made by `kdb5_util`, principals and keytabs by
//! `kadmin.local`. Nothing touches the machine's `/etc/krb5.conf`. Stopped on drop.

use super::process::LabProcess;
use super::site::Site;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub const REALM: &str = "LAB.TEST";

/// A running KDC of [`REALM`].
pub struct Kdc {
    pub addr: SocketAddr,
    process: Option<LabProcess>,
    dir: tempfile::TempDir,
}

impl Drop for Kdc {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Kdc {
    /// A realm with a database, and its KDC listening on a free loopback port (TCP and UDP).
    pub fn start() -> Kdc {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let port = super::dnsmasq::free_port(&Site::Host, ip);
        let dir = super::names::temp_dir("kdc");
        let d = dir.path();
        let kdc_conf = format!(
            "[kdcdefaults]\n kdc_listen = {port}\n kdc_tcp_listen = {port}\n\n[realms]\n {REALM} = {{\n  database_name = {db}\n  key_stash_file = {stash}\n  acl_file = {acl}\n  kdc_listen = {port}\n  kdc_tcp_listen = {port}\n  max_life = 10h\n  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }}\n\n[logging]\n kdc = FILE:{log}\n",
            db = d.join("principal").display(),
            stash = d.join("stash").display(),
            acl = d.join("kadm5.acl").display(),
            log = d.join("kdc.log").display(),
        );
        std::fs::write(d.join("kdc.conf"), kdc_conf).expect("write kdc.conf");
        std::fs::write(d.join("kadm5.acl"), "").expect("write kadm5.acl");
        // rdns and canonicalisation off: the service principal is HTTP/<the name used>, as
        // Windows builds it, so a proxy reached by an address has no SPN.
        let krb5_conf = format!(
            "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n clockskew = 300\n kdc_timeout = 1000\n max_retries = 1\n\n[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n\n[domain_realm]\n localhost = {REALM}\n"
        );
        std::fs::write(d.join("krb5.conf"), krb5_conf).expect("write krb5.conf");
        let mut kdc = Kdc {
            addr: SocketAddr::new(ip, port),
            process: None,
            dir,
        };
        kdc.admin(
            "kdb5_util",
            &["create", "-s", "-r", REALM, "-P", "lab-master-key"],
        );
        kdc.resume();
        kdc
    }

    /// Starts (again) the KDC process.
    pub fn resume(&mut self) {
        let d = self.dir.path();
        let mut cmd = Site::Host.command(super::tools::require("krb5kdc"));
        cmd.args(["-n", "-r", REALM]);
        self.env(&mut cmd);
        let mut process = LabProcess::spawn_command(&Site::Host, "krb5kdc", cmd, d);
        process.wait_tcp(self.addr, Duration::from_secs(20));
        self.process = Some(process);
    }

    /// Stops the KDC: the realm has no KDC that answers.
    pub fn stop(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.stop();
        }
    }

    /// `KRB5_CONFIG`, `KRB5_KDC_PROFILE` for a command of this realm.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("KRB5_CONFIG", self.krb5_conf())
            .env("KRB5_KDC_PROFILE", self.dir.path().join("kdc.conf"))
            .env("KRB5RCACHETYPE", "none")
            .env_remove("KRB5CCNAME")
            .env_remove("KRB5_KTNAME")
            .env_remove("KRB5_CLIENT_KTNAME");
    }

    pub fn krb5_conf(&self) -> PathBuf {
        self.dir.path().join("krb5.conf")
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds `principal` with a random key and writes its keys to a keytab readable by any user
    /// (Squid's helper runs unprivileged). Returns the keytab's path.
    pub fn principal_keytab(&self, principal: &str) -> PathBuf {
        let file = format!("{}.keytab", principal.replace(['/', '@'], "_"));
        let keytab = self.dir.path().join(file);
        self.admin(
            "kadmin.local",
            &["-r", REALM, "-q", &format!("addprinc -randkey {principal}")],
        );
        self.admin(
            "kadmin.local",
            &[
                "-r",
                REALM,
                "-q",
                &format!("ktadd -k {} {principal}", keytab.display()),
            ],
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&keytab, std::fs::Permissions::from_mode(0o644))
            .expect("chmod keytab");
        keytab
    }

    /// `kinit -k -t KEYTAB PRINCIPAL` into the credential cache `ccache`.
    pub fn kinit(&self, keytab: &Path, principal: &str, ccache: &Path) {
        let mut cmd = Command::new(super::tools::require("kinit"));
        self.env(&mut cmd);
        cmd.env("KRB5CCNAME", format!("FILE:{}", ccache.display()))
            .arg("-k")
            .arg("-t")
            .arg(keytab)
            .arg(principal);
        let out = cmd.output().expect("run kinit");
        assert!(
            out.status.success(),
            "kinit {principal} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }

    /// The KDC's log (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("kdc.log")).unwrap_or_default()
    }

    fn admin(&self, tool: &str, args: &[&str]) {
        let mut cmd = Command::new(super::tools::require(tool));
        self.env(&mut cmd);
        let out = cmd.args(args).output().expect("run a Kerberos admin tool");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("error"),
            "{tool} {args:?} failed: {stderr}"
        );
    }
}
