//! The real `consent-verifier` binary as a child process on a free loopback port.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The verifier binary: `CONSENT_VERIFIER_BIN`, else the one cargo built next to this
/// test executable (`cargo xtask test` builds it first).
pub fn verifier_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("CONSENT_VERIFIER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the test executable")?;
    // target/<profile>/deps/<test> -> target/<profile>/consent-verifier
    let candidate =
        exe.parent().and_then(Path::parent).map(|d| d.join("consent-verifier")).context("no target directory")?;
    if candidate.exists() {
        Ok(candidate)
    } else {
        bail!(
            "{} does not exist: build it first (`cargo build -p consent-verifier`, which `cargo xtask test` does) or set CONSENT_VERIFIER_BIN",
            candidate.display()
        )
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running verifier process; killed on drop.
#[derive(Debug)]
pub struct VerifierProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Port.
    pub port: u16,
    /// Its data directory.
    pub data_dir: PathBuf,
    log: PathBuf,
}

impl VerifierProcess {
    /// Starts `consent-verifier serve` with `args` (plus `--addr`, `--data-dir` and, unless
    /// given, `--notices` / `--www` from the workspace) and waits until `/readyz` answers.
    pub fn start(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<VerifierProcess> {
        let port = free_port()?;
        VerifierProcess::start_on(port, data_dir, args, envs)
    }

    /// As [`start`](Self::start), on a given port (to restart on the same address).
    pub fn start_on(
        port: u16,
        data_dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
    ) -> anyhow::Result<VerifierProcess> {
        VerifierProcess::launch(port, data_dir, args, envs, None)
    }

    /// As [`start`](Self::start), under an open-file limit of `nofile` (soft and hard),
    /// as `ulimit -n` sets it.
    pub fn start_with_open_file_limit(
        data_dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        nofile: u64,
    ) -> anyhow::Result<VerifierProcess> {
        VerifierProcess::launch(free_port()?, data_dir, args, envs, Some(nofile))
    }

    fn launch(
        port: u16,
        data_dir: &Path,
        args: &[&str],
        envs: &[(&str, &str)],
        nofile: Option<u64>,
    ) -> anyhow::Result<VerifierProcess> {
        let ws = crate::workspace_dir();
        std::fs::create_dir_all(data_dir)?;
        let log = data_dir.join(format!("verifier-{port}-{}.log", crate::now()));
        let logfile = std::fs::File::create(&log)?;
        let mut cmd = match nofile {
            // The shell sets the limit, then becomes the verifier (same process id).
            Some(n) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(format!("ulimit -n {n} && exec \"$0\" \"$@\"")).arg(verifier_bin()?);
                c
            }
            None => Command::new(verifier_bin()?),
        };
        cmd.arg("serve").arg("--addr").arg(format!("127.0.0.1:{port}")).arg("--data-dir").arg(data_dir);
        if !args.contains(&"--notices") {
            cmd.arg("--notices").arg(ws.join("notices"));
        }
        if !args.contains(&"--www") {
            cmd.arg("--www").arg(ws.join("www"));
        }
        if !args.contains(&"--database-url") {
            cmd.arg("--database-url").arg(crate::db::database_url(data_dir));
        }
        cmd.args(args)
            .env_remove("RUST_LOG")
            .envs(envs.iter().copied())
            .stdout(Stdio::from(logfile.try_clone()?))
            .stderr(Stdio::from(logfile))
            .stdin(Stdio::null());
        let child = cmd.spawn().context("spawning consent-verifier")?;
        let mut p = VerifierProcess {
            child,
            base: format!("http://127.0.0.1:{port}"),
            port,
            data_dir: data_dir.to_path_buf(),
            log,
        };
        p.wait_ready()?;
        Ok(p)
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("the verifier exited with {status}:\n{}", self.log_text());
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the verifier did not start within 30 s:\n{}", self.log_text())
    }

    /// Everything it printed so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGKILL and waits: the crash case.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> anyhow::Result<std::process::ExitStatus> {
        let status = Command::new("kill").args(["-s", "TERM", "--"]).arg(self.child.id().to_string()).status()?;
        anyhow::ensure!(status.success(), "kill -TERM failed");
        self.wait_exit(Duration::from_secs(20))
    }

    /// Waits at most `limit` for the process to exit (after a signal sent elsewhere).
    pub fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("the verifier did not stop within {limit:?}")
    }
}

impl Drop for VerifierProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
