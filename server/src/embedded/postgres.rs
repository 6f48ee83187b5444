//! A private PostgreSQL cluster under a directory of ours, run with the machine's binaries.
//!
//! The postmaster is our child process: it listens on loopback only, with password (SCRAM)
//! authentication, and it is asked to stop (fast shutdown) when the thread that started it ends,
//! so a crash of ours, even `kill -9`, leaves no server behind.

use std::io;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::OsUser;

/// How long a start may take before we give up and show the server's log.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The role and database `initdb` creates for us.
pub const SUPERUSER: &str = "fieldsync";

/// Whether the cluster must survive a power cut (dev data) or only be fast (tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Throwaway,
}

/// Everything a cluster needs besides its directory.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub durability: Durability,
    /// The superuser's password; kept by the caller so a restart can reconnect.
    pub password: String,
    /// The account to run as when we are root (PostgreSQL refuses root).
    pub run_as: Option<OsUser>,
    /// Where `initdb` and `postgres` live; found automatically when `None`.
    pub bin_dir: Option<PathBuf>,
}

/// What went wrong while making, starting or stopping the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found: install Debian's `postgresql` package or set FIELDSYNC_PG_BIN_DIR"
    )]
    BinariesMissing,
    #[error("{path} is not reachable by the `{user}` account PostgreSQL runs as: {hint}")]
    NotTraversable {
        path: PathBuf,
        user: String,
        hint: &'static str,
    },
    #[error("{action} failed: {source}")]
    Io {
        action: String,
        #[source]
        source: io::Error,
    },
    #[error("initdb failed ({status}): {output}")]
    Initdb { status: ExitStatus, output: String },
    #[error("PostgreSQL did not start: {reason}; last lines of {log}:\n{tail}")]
    Start {
        reason: String,
        log: PathBuf,
        tail: String,
    },
}

fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let action = action.into();
    move |source| ClusterError::Io { action, source }
}

/// A cluster under `root/data`, its log at `root/postgres.log`.
#[derive(Debug)]
pub struct PostgresCluster {
    root: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    options: ClusterOptions,
    running: Option<Postmaster>,
}

#[derive(Debug)]
struct Postmaster {
    pid: u32,
    exited: mpsc::Receiver<io::Result<ExitStatus>>,
}

impl PostgresCluster {
    /// Makes the cluster under `root` if it has none yet; does not start it.
    pub fn init(root: &Path, options: ClusterOptions) -> Result<Self, ClusterError> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => dir.clone(),
            None => find_bin_dir().ok_or(ClusterError::BinariesMissing)?,
        };
        if !bin_dir.join("initdb").exists() || !bin_dir.join("postgres").exists() {
            return Err(ClusterError::BinariesMissing);
        }
        std::fs::create_dir_all(root).map_err(io_err(format!("creating {}", root.display())))?;
        if let Some(user) = &options.run_as {
            check_traversable(root, user)?;
            user.take_ownership(root).map_err(io_err(format!(
                "giving {} to {}",
                root.display(),
                user.name
            )))?;
        }
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("restricting {}", root.display())))?;
        let cluster = Self {
            root: root.to_owned(),
            bin_dir,
            port: free_port().map_err(io_err("choosing a port"))?,
            options,
            running: None,
        };
        if !cluster.data_dir().join("PG_VERSION").exists() {
            cluster.initdb()?;
        }
        Ok(cluster)
    }

    /// The URL of `database` on this cluster, as the superuser.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.options.password, self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("postgres.log")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command.current_dir(&self.root).env("LC_ALL", "C.UTF-8");
        if let Some(user) = &self.options.run_as {
            command.uid(user.uid).gid(user.gid);
        }
        command
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        let password_file = self.root.join("initdb.pw");
        std::fs::write(&password_file, &self.options.password)
            .map_err(io_err("writing the initdb password file"))?;
        if let Some(user) = &self.options.run_as {
            user.take_ownership(&password_file)
                .map_err(io_err("giving the password file away"))?;
        }
        let output = self
            .command("initdb")
            .arg("--pgdata")
            .arg(self.data_dir())
            .args(["--username", SUPERUSER, "--auth", "scram-sha-256"])
            .args(["--encoding", "UTF8", "--locale", "C", "--no-instructions"])
            .arg(format!("--pwfile={}", password_file.display()))
            .stdin(Stdio::null())
            .output();
        let _ = std::fs::remove_file(&password_file);
        let output = output.map_err(io_err("running initdb"))?;
        if !output.status.success() {
            let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stdout));
            return Err(ClusterError::Initdb {
                status: output.status,
                output: text.trim().to_owned(),
            });
        }
        Ok(())
    }

    /// Starts the postmaster and returns once it accepts connections.
    pub fn start(&mut self) -> Result<(), ClusterError> {
        if self.running.is_some() {
            return Ok(());
        }
        // A crash of ours a moment ago leaves the old postmaster shutting down (its parent-death
        // signal); one restarted from outside would hold the directory for good.
        self.stop_stray_postmaster();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(io_err("opening the PostgreSQL log"))?;
        let log_err = log
            .try_clone()
            .map_err(io_err("opening the PostgreSQL log"))?;
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(self.data_dir())
            .args(
                self.settings()
                    .iter()
                    .flat_map(|s| ["-c".to_owned(), s.clone()]),
            )
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        // SAFETY: prctl is async-signal-safe and touches only the calling (child) process.
        #[allow(unsafe_code)]
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        self.running = Some(spawn_kept(command).map_err(io_err("starting postgres"))?);
        self.wait_until_ready()
    }

    fn settings(&self) -> Vec<String> {
        let mut settings = vec![
            "listen_addresses=127.0.0.1".to_owned(),
            format!("port={}", self.port),
            "unix_socket_directories=".to_owned(),
            "logging_collector=off".to_owned(),
        ];
        if self.options.durability == Durability::Throwaway {
            // Tests make hundreds of short-lived databases; none of them must survive a crash.
            settings.extend(
                [
                    "fsync=off",
                    "synchronous_commit=off",
                    "full_page_writes=off",
                    "max_connections=300",
                    "shared_buffers=128MB",
                ]
                .map(str::to_owned),
            );
        }
        settings
    }

    fn wait_until_ready(&mut self) -> Result<(), ClusterError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let pid_file = self.data_dir().join("postmaster.pid");
        loop {
            if let Some(postmaster) = &self.running
                && let Ok(status) = postmaster.exited.try_recv()
            {
                self.running = None;
                let reason = match status {
                    Ok(status) => format!("postgres exited ({status})"),
                    Err(e) => format!("waiting for postgres failed: {e}"),
                };
                return Err(self.start_error(reason));
            }
            // Line 8 of postmaster.pid is the server's state; "ready" once it accepts connections.
            let ready = std::fs::read_to_string(&pid_file)
                .map(|text| text.lines().nth(7).map(str::trim) == Some("ready"))
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                let reason = format!("not ready after {}s", START_TIMEOUT.as_secs());
                let _ = self.stop();
                return Err(self.start_error(reason));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn start_error(&self, reason: String) -> ClusterError {
        let log = self.log_path();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(15)..].join("\n");
        ClusterError::Start { reason, log, tail }
    }

    /// Asks for a fast shutdown (open transactions roll back) and waits for it.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        let Some(postmaster) = self.running.take() else {
            return Ok(());
        };
        signal(postmaster.pid, libc::SIGINT);
        if postmaster.exited.recv_timeout(STOP_TIMEOUT).is_err() {
            // A fast shutdown that hangs is a bug somewhere; an immediate one needs recovery
            // at the next start, which PostgreSQL does by itself.
            signal(postmaster.pid, libc::SIGQUIT);
            let _ = postmaster.exited.recv_timeout(STOP_TIMEOUT);
        }
        // Ours may have been stopped and another started on the directory from outside
        // (`pg_ctl restart`): that one is not our child, so nothing else would stop it.
        self.stop_stray_postmaster();
        Ok(())
    }

    /// Asks a postmaster that holds our data directory but is not our running child to stop
    /// (fast, then immediate) and waits for it to go, bounded by the stop timeouts.
    fn stop_stray_postmaster(&self) {
        let Some(pid) = self.stray_postmaster() else {
            return;
        };
        tracing::info!(
            pid,
            "waiting for an earlier PostgreSQL on this data directory to stop"
        );
        for (how, limit) in [(libc::SIGINT, STOP_TIMEOUT), (libc::SIGQUIT, STOP_TIMEOUT)] {
            signal(pid, how);
            let deadline = Instant::now() + limit;
            while Instant::now() < deadline {
                // The postmaster removes its pid file a moment before it exits: wait for
                // the process itself to be gone.
                let alive = std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmdline| !cmdline.is_empty());
                if self.stray_postmaster() != Some(pid) && !alive {
                    return;
                }
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    }

    /// The pid in `postmaster.pid`, if that process is alive, is not our running child, and is
    /// a postgres serving this very directory (a stale file's pid may belong to anything now).
    fn stray_postmaster(&self) -> Option<u32> {
        use std::os::unix::ffi::OsStrExt;
        let data_dir = self.data_dir();
        let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        if self.running.as_ref().is_some_and(|p| p.pid == pid) {
            return None;
        }
        // Empty for a zombie, absent for a process that is gone.
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ours = std::fs::canonicalize(&data_dir).unwrap_or(data_dir);
        let serves_ours = cmdline.split(|b| *b == 0).any(|arg| {
            let arg = Path::new(std::ffi::OsStr::from_bytes(arg));
            arg == ours || std::fs::canonicalize(arg).is_ok_and(|a| a == ours)
        });
        serves_ours.then_some(pid)
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Spawns the child from a thread that lives exactly as long as the child, so the child's
/// parent-death signal fires when this process dies, not when some caller's thread ends.
fn spawn_kept(mut command: Command) -> io::Result<Postmaster> {
    let (started_tx, started_rx) = mpsc::channel();
    let (exited_tx, exited_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("postgres-keeper".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = started_tx.send(Ok(child.id()));
                let _ = exited_tx.send(child.wait());
            }
            Err(e) => {
                let _ = started_tx.send(Err(e));
            }
        })?;
    let pid = started_rx
        .recv()
        .map_err(|_| io::Error::other("the postgres keeper thread died"))??;
    Ok(Postmaster {
        pid,
        exited: exited_rx,
    })
}

fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, signal);
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `FIELDSYNC_PG_BIN_DIR` is read by the binaries and passed in; here we look where Debian
/// installs the server, newest major version first, then on the PATH.
fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).find(|dir| dir.join("initdb").exists()))
    })
}

/// PostgreSQL, running as `user`, must be able to walk down to its directory.
fn check_traversable(root: &Path, user: &OsUser) -> Result<(), ClusterError> {
    use std::os::unix::fs::MetadataExt;
    let absolute = std::fs::canonicalize(root).map_err(io_err("resolving the data directory"))?;
    for dir in absolute.ancestors().skip(1) {
        let meta = std::fs::metadata(dir).map_err(io_err(format!("reading {}", dir.display())))?;
        let mode = meta.mode();
        let can_enter = if meta.uid() == user.uid {
            mode & 0o100 != 0
        } else if meta.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        };
        if !can_enter {
            return Err(ClusterError::NotTraversable {
                path: dir.to_owned(),
                user: user.name.clone(),
                hint: "choose a data directory elsewhere or run `chmod o+x` on it",
            });
        }
    }
    Ok(())
}
