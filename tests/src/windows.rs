//! The probe built for Windows (`x86_64-pc-windows-gnu`) and run under Wine: headless (no
//! display), quiet (`WINEDEBUG=-all`), each test in its own throwaway `WINEPREFIX` under a
//! temporary directory, every Wine command bounded in time.
//!
//! A fresh prefix costs Wine about 20 s (`wineboot`), so one is made per target directory as a
//! template and each test gets a copy of it (hard links, registry files copied): a copy takes
//! well under a second, and Wine's first command in it about 2 s while `wineserver` starts.
//!
//! Availability: without the Rust target (`rustup target add x86_64-pc-windows-gnu` could not
//! download it) the tests say so and skip, under CI too; without mingw-w64 or Wine they follow
//! the lab's rule (fail under `CI=true`, skip elsewhere); a compile error always fails.
//!
//! Two test aids are built with mingw-w64 from `tests/windows/` (never shipped): a stand-in
//! `bcryptprimitives.dll` (Wine 8 lacks it; Rust's standard library takes `ProcessPrng` from
//! it), and `wine_aid.exe`, which does what `certutil -addstore` and `netsh winhttp set proxy`
//! do on a server (Wine's own certutil and netsh are stubs).

use crate::probe_cli::{run_command, ProbeRun};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const TARGET: &str = "x86_64-pc-windows-gnu";
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";
/// A cold release build of the probe for Windows on a 2-core machine takes minutes.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);
const GCC_LIMIT: Duration = Duration::from_secs(120);
const WINEBOOT_LIMIT: Duration = Duration::from_secs(240);
const WINE_TOOL_LIMIT: Duration = Duration::from_secs(60);

/// What every Windows test shares: the binaries and Wine.
#[derive(Debug)]
pub struct Toolchain {
    pub probe_exe: PathBuf,
    pub mock_relay_exe: PathBuf,
    aids: PathBuf,
    template: PathBuf,
    wine: PathBuf,
    wineserver: PathBuf,
}

enum Unavailable {
    /// The Rust target is not installed: always a skip.
    Target(String),
    /// A lab package is missing: a failure under CI.
    Lab(String),
}

/// Call first in every Windows test: `let Some(tools) = windows::require() else { return };`.
pub fn require() -> Option<&'static Toolchain> {
    static TOOLS: OnceLock<Result<Toolchain, Unavailable>> = OnceLock::new();
    match TOOLS.get_or_init(prepare) {
        Ok(tools) => Some(tools),
        Err(Unavailable::Target(why)) => {
            eprintln!("skipped: {why}");
            None
        }
        Err(Unavailable::Lab(why)) => {
            crate::lab::skip::unavailable(why);
            None
        }
    }
}

fn prepare() -> Result<Toolchain, Unavailable> {
    if !target_installed() {
        return Err(Unavailable::Target(format!(
            "the Rust target {TARGET} is not installed (tests/setup-lab.sh runs `rustup target add {TARGET}`; it could not be downloaded here)"
        )));
    }
    let gcc = crate::lab::tools::find(MINGW_GCC).ok_or_else(|| {
        Unavailable::Lab(format!("{MINGW_GCC} not found (apt: gcc-mingw-w64-x86-64)"))
    })?;
    let wine = crate::lab::tools::find("wine64")
        .ok_or_else(|| Unavailable::Lab("wine64 not found (apt: wine64)".into()))?;
    let wineserver = crate::lab::tools::find("wineserver")
        .ok_or_else(|| Unavailable::Lab("wineserver not found (apt: wine64)".into()))?;
    let (probe_exe, mock_relay_exe) = build_exes();
    let profile = probe_exe.parent().expect("profile dir").to_path_buf();
    let aids = profile.join("wine-aids");
    build_aids(&gcc, &aids);
    let template = profile
        .parent()
        .expect("target triple dir")
        .join("wine-prefix-template");
    make_template(&wine, &wineserver, &template);
    Ok(Toolchain {
        probe_exe,
        mock_relay_exe,
        aids,
        template,
        wine,
        wineserver,
    })
}

/// Whether rustup installed the target's standard library.
fn target_installed() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
    else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// The release build of probe.exe and mock-relay.exe (`tests/dist/build.sh
/// x86_64-pc-windows-gnu`, the `dist` profile), once per test process: the tests run the bytes
/// that ship, and the target is compiled once per CI run (`.ci/run` and `tests/dist.sh` make the
/// same build, so the later ones are no-ops).
fn build_exes() -> (PathBuf, PathBuf) {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace dir");
    let mut cmd = Command::new(workspace.join("tests/dist/build.sh"));
    cmd.arg(TARGET)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let started = Instant::now();
    let out = run_bounded(cmd, BUILD_LIMIT, "tests/dist/build.sh for Windows");
    assert!(
        out.status.success(),
        "`tests/dist/build.sh {TARGET}` failed: a compile error fails the Windows tests (the compiler's messages are above)"
    );
    let dir = workspace.join("target").join(TARGET).join("dist");
    let (probe, relay) = (dir.join("probe.exe"), dir.join("mock-relay.exe"));
    assert!(probe.is_file() && relay.is_file(), "no {}", probe.display());
    eprintln!(
        "windows: probe.exe and mock-relay.exe ready in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        probe.display()
    );
    (probe, relay)
}

/// Compiles the C test aids into `dir` unless they are newer than their sources.
fn build_aids(gcc: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).expect("create the wine-aids dir");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("windows");
    // (source, output, flags before the source, libraries after it)
    let aids: [(&str, &str, &[&str], &[&str]); 2] = [
        (
            "bcryptprimitives.c",
            "bcryptprimitives.dll",
            &["-shared"],
            &[],
        ),
        (
            "wine_aid.c",
            "wine_aid.exe",
            &[],
            &["-lcrypt32", "-lwinhttp"],
        ),
    ];
    for (source, output, flags, libs) in aids {
        let source = sources.join(source);
        let output = dir.join(output);
        if is_newer(&output, &source) {
            continue;
        }
        let partial = dir.join(format!(
            "{}.{}.tmp",
            std::process::id(),
            output_name(&output)
        ));
        let mut cmd = Command::new(gcc);
        cmd.arg("-O2")
            .args(flags)
            .arg("-o")
            .arg(&partial)
            .arg(&source)
            .args(libs)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let out = run_bounded(cmd, GCC_LIMIT, "mingw-w64 gcc");
        assert!(
            out.status.success(),
            "building {} failed:\n{}",
            source.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&partial, &output).expect("move the test aid into place");
    }
}

fn output_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_newer(output: &Path, source: &Path) -> bool {
    let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
    matches!((modified(output), modified(source)), (Some(o), Some(s)) if o >= s)
}

/// Makes the template prefix once per target directory (a file lock keeps parallel test
/// processes from making it twice).
fn make_template(wine: &Path, wineserver: &Path, template: &Path) {
    if template.join("system.reg").is_file() {
        return;
    }
    let parent = template.parent().expect("template parent");
    std::fs::create_dir_all(parent).expect("create the template's parent");
    let lock = std::fs::File::create(parent.join("wine-prefix-template.lock")).expect("lock file");
    // SAFETY: flock on a file descriptor this process owns; released when `lock` is dropped.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::flock(lock.as_raw_fd(), libc::LOCK_EX);
    }
    if template.join("system.reg").is_file() {
        return;
    }
    let partial = parent.join(format!("wine-prefix-template.{}.tmp", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).expect("create the prefix dir");
    let started = Instant::now();
    let mut boot = Command::new(wine);
    boot.args(["wineboot", "--init"]);
    quiet(&mut boot, &partial);
    let out = run_bounded(boot, WINEBOOT_LIMIT, "wineboot --init");
    let mut kill = Command::new(wineserver);
    kill.arg("-k");
    quiet(&mut kill, &partial);
    run_bounded(kill, WINE_TOOL_LIMIT, "wineserver -k");
    assert!(
        out.status.success() && partial.join("system.reg").is_file(),
        "wineboot --init made no prefix:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&partial, template).expect("move the template prefix into place");
    eprintln!(
        "windows: Wine prefix template made in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Headless and quiet: no display, no debug channels, no Mono or Gecko install prompts. The
/// OpenSSL trust variables are dropped too: Wine hands the environment to Windows programs, and
/// `rustls-native-certs` would read them instead of the Windows certificate store.
fn quiet(cmd: &mut Command, prefix: &Path) {
    cmd.env("WINEPREFIX", prefix)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
}

/// Runs `cmd` (its stdio already set) to its end, killing it at `limit` (then the test fails
/// naming `what`).
fn run_bounded(mut cmd: Command, limit: Duration, what: &str) -> Output {
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for a child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    };
    Output {
        status,
        stdout: join(stdout),
        stderr: join(stderr),
    }
}

fn drain(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

/// A throwaway Wine prefix for one test; its `wineserver` is stopped when dropped.
pub struct Wine {
    prefix: tempfile::TempDir,
    tools: &'static Toolchain,
}

impl Wine {
    /// A copy of the template prefix with the `bcryptprimitives.dll` stand-in in `system32`.
    pub fn new(tools: &'static Toolchain) -> Wine {
        let prefix = tempfile::Builder::new()
            .prefix("probe-e2e-wine-")
            .tempdir()
            .expect("temp dir");
        copy_prefix(&tools.template, prefix.path());
        std::fs::copy(
            tools.aids.join("bcryptprimitives.dll"),
            prefix
                .path()
                .join("drive_c/windows/system32/bcryptprimitives.dll"),
        )
        .expect("install the bcryptprimitives stand-in");
        Wine { prefix, tools }
    }

    /// `C:` of this prefix, as a Linux path.
    pub fn drive_c(&self) -> PathBuf {
        self.prefix.path().join("drive_c")
    }

    /// `wine64 PROGRAM` in this prefix, headless and quiet.
    pub fn command(&self, program: &Path) -> tokio::process::Command {
        let mut std_cmd = Command::new(&self.tools.wine);
        std_cmd.arg(program);
        quiet(&mut std_cmd, self.prefix.path());
        let mut cmd = tokio::process::Command::from(std_cmd);
        cmd.kill_on_drop(true);
        cmd
    }

    /// Runs `probe.exe ARGS` (as [`crate::probe_cli::run`] runs the Linux binary).
    pub async fn probe(&self, args: &[&str], limit: Duration) -> ProbeRun {
        run_command(self.command(&self.tools.probe_exe), args, limit).await
    }

    /// `wine_aid.exe ARGS` (`add-root CERT.der`, `set-winhttp PROXY [BYPASS]`); panics on failure.
    pub async fn aid(&self, args: &[&str]) {
        let run = run_command(
            self.command(&self.tools.aids.join("wine_aid.exe")),
            args,
            WINE_TOOL_LIMIT,
        )
        .await;
        assert_eq!(run.code, 0, "wine_aid {args:?}: {}", run.stderr);
    }

    /// Wine's own `reg.exe ARGS` (e.g. `add KEY /v NAME /t REG_BINARY /d HEX /f`).
    pub async fn reg(&self, args: &[&str]) -> ProbeRun {
        run_command(self.command(Path::new("reg")), args, WINE_TOOL_LIMIT).await
    }
}

impl Drop for Wine {
    fn drop(&mut self) {
        let mut kill = Command::new(&self.tools.wineserver);
        kill.arg("-k");
        quiet(&mut kill, self.prefix.path());
        // Bounded by run_bounded; a server already gone is fine.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_bounded(kill, WINE_TOOL_LIMIT, "wineserver -k")
        }));
    }
}

/// Copies a prefix: directories made anew, files hard-linked (Wine only reads them), except
/// the registry files and the update stamp, which Wine rewrites and so are copied, and the
/// `wineserver` file, which names the prefix's own server objects and which Wine makes anew.
fn copy_prefix(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the template prefix") {
        let entry = entry.expect("template entry");
        if entry.file_name() == "wineserver" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().expect("file type");
        if kind.is_symlink() {
            let link = std::fs::read_link(&src).expect("read link");
            std::os::unix::fs::symlink(link, &dst).expect("copy link");
        } else if kind.is_dir() {
            std::fs::create_dir(&dst).expect("copy dir");
            copy_prefix(&src, &dst);
        } else {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".reg") || name.starts_with('.') {
                std::fs::copy(&src, &dst).expect("copy file");
            } else {
                std::fs::hard_link(&src, &dst).expect("link file");
            }
        }
    }
}

/// A Linux path as the Windows program sees it (Wine maps `/` to drive `Z:`).
pub fn win_path(path: &Path) -> String {
    format!("Z:{}", path.display().to_string().replace('/', "\\"))
}
