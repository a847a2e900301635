//! Real `shop serve` processes: the binary Cargo built, started with a clean environment
//! on a database the test chose, so that several of them can share one database, and one
//! can be killed outright (SIGKILL) and another started in its place.

use std::{
    ops::Deref,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, ChildStdin, ChildStdout},
};

use super::{Api, JWT_SECRET};

/// How long a process may take to start (migrations included) before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How many of a process's last log lines a failing test shows.
const LOG_LINES_KEPT: usize = 200;

/// The `shop` binary with a clean environment: nothing of the host's configuration leaks in.
pub fn shop_command(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_shop"));
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text == "DATABASE_URL" || name_text.starts_with("SHOP_") {
            command.env_remove(&name);
        }
    }
    command
        .env("DATABASE_URL", database_url)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

/// `shop serve` as [`ShopProcess::start`] runs it: listening on a port of its own choosing,
/// with the test suite's JWT secret and register limit, the extra settings `env` (which
/// may override them), and its log on stderr.
pub fn serve_command(database_url: &str, env: &[(&str, String)]) -> Command {
    let mut command = shop_command(database_url);
    command
        .arg("serve")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .env("SHOP_JWT_SECRET", JWT_SECRET)
        .env("SHOP_LOG", "info")
        .env(
            "SHOP_REGISTRATIONS_PER_HOUR",
            super::TEST_REGISTRATIONS_PER_HOUR.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// The address in the line `serve` logs once it is bound:
/// `... shop listening on http://127.0.0.1:4321 (GraphiQL at /)`.
pub fn listening_address(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("listening on http://")?;
    let addr: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
        .collect();
    Some(addr)
}

/// A running `shop serve` child process. Dropping it kills the process. Its GraphQL
/// client ([`Api`]) is what it derefs to; a request it does not answer fails the test
/// with its log.
pub struct ShopProcess {
    pub name: String,
    pub api: Api,
    /// Behind a lock so that a test can kill the process while requests to it are in flight.
    child: tokio::sync::Mutex<Child>,
    log: Arc<Mutex<Vec<String>>>,
}

impl ShopProcess {
    /// Starts `shop serve` on `database_url`, listening on a port of its own choosing, with
    /// the test suite's JWT secret and register limit, and the extra settings `env` (which
    /// may override them); waits until it says where it listens and `/readyz` answers.
    pub async fn start(name: &str, database_url: &str, env: &[(&str, String)]) -> Self {
        Self::start_command(name, serve_command(database_url, env)).await
    }

    /// Starts `command`, which runs `shop serve` (perhaps inside a wrapper) with its log
    /// on the command's stderr; waits as [`Self::start`] does.
    pub async fn start_command(name: &str, command: Command) -> Self {
        let mut child = tokio::process::Command::from(command)
            .kill_on_drop(true)
            .spawn()
            .expect("shop serve starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let keep = {
            let log = log.clone();
            move |line: String| {
                let mut log = log.lock().expect("log");
                if log.len() == LOG_LINES_KEPT {
                    log.remove(0);
                }
                log.push(line);
            }
        };
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await.expect("stderr is readable") {
                let addr = listening_address(&line);
                keep(line);
                if let Some(addr) = addr {
                    return addr;
                }
            }
            panic!(
                "{name} exited without saying where it listens:\n{}",
                log.lock().expect("log").join("\n")
            );
        })
        .await
        .unwrap_or_else(|_| panic!("{name} did not say where it listens in time"));
        // Keep reading the log, so the process never blocks on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep(line);
            }
        });
        let api = {
            let (name, log) = (name.to_owned(), log.clone());
            Api::with_context(addr.parse().expect("a socket address"), move || {
                format!("{name}:\n{}", log.lock().expect("log").join("\n"))
            })
        };
        let process = Self {
            name: name.to_owned(),
            api,
            child: tokio::sync::Mutex::new(child),
            log,
        };
        process.wait_until_ready().await;
        process
    }

    async fn wait_until_ready(&self) {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(response) = self.client.get(self.url("/readyz")).send().await
                && response.status().is_success()
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} never became ready:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The process's stdin and stdout, when [`Self::start_command`]'s command piped them:
    /// for a test that talks to a wrapper around `shop serve`.
    pub async fn take_pipes(&self) -> (Option<ChildStdin>, Option<ChildStdout>) {
        let mut child = self.child.lock().await;
        (child.stdin.take(), child.stdout.take())
    }

    /// The last lines the process logged.
    pub fn log(&self) -> String {
        self.log.lock().expect("log").join("\n")
    }

    /// Kills the process with SIGKILL, as a crash or an OOM killer would: no shutdown, no
    /// clean-up, transactions cut off wherever they were. Returns once it is gone.
    pub async fn kill(&self) {
        self.child
            .lock()
            .await
            .kill()
            .await
            .expect("the process is killed");
    }
}

impl Deref for ShopProcess {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}
