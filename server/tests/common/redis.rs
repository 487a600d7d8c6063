//! Redis for tests (std and tempfile only, so that the server's unit tests include
//! this file too):
//!
//! - [`shared_redis`]: the Redis of `PORTICO_TEST_REDIS_URL` (started by `.ci/run`),
//!   as `(host, port)`; `None` (and a line saying the test is skipped) without it.
//! - [`RedisServer`]: a `redis-server` child process of the test, listening only on a
//!   Unix socket in a temporary directory (no TCP port, so nothing to pick and bind
//!   later), that the test may stop and start again. `None` (and a line saying so)
//!   when `redis-server` is not installed (`make tools` installs Debian's).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `(host, port)` of the Redis in `PORTICO_TEST_REDIS_URL` (`redis://host:port`).
pub fn shared_redis(test: &str) -> Option<(String, u16)> {
    let Ok(url) = std::env::var("PORTICO_TEST_REDIS_URL") else {
        eprintln!("PORTICO_TEST_REDIS_URL is not set: skipping {test} (it needs a Redis)");
        return None;
    };
    let rest = url
        .strip_prefix("redis://")
        .expect("PORTICO_TEST_REDIS_URL starts with redis://");
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest.rsplit_once(':').unwrap_or((rest, "6379"));
    let port = port
        .parse()
        .expect("PORTICO_TEST_REDIS_URL has a numeric port");
    Some((host.to_string(), port))
}

/// A `redis-server` owned by the test (stopped when dropped).
pub struct RedisServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// More `redis-server` arguments (e.g. `--requirepass`).
    args: Vec<String>,
}

impl RedisServer {
    /// Start one; `None` when `redis-server` is not installed.
    pub fn start(test: &str) -> Option<RedisServer> {
        Self::start_with(test, &[])
    }

    /// Start one with more `redis-server` arguments.
    pub fn start_with(test: &str, args: &[&str]) -> Option<RedisServer> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            eprintln!("redis-server is not installed: skipping {test} (`make tools` installs it)");
            return None;
        }
        let mut r = RedisServer {
            dir: tempfile::tempdir().expect("tempdir"),
            child: None,
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        r.restart();
        Some(r)
    }

    /// The Unix socket's path (a Redis config's `host`).
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("redis.sock")
    }

    pub fn host(&self) -> String {
        self.socket().to_string_lossy().into_owned()
    }

    /// Kill the server (by its own pid) and wait until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.socket());
    }

    /// Start the server (again), empty, and wait until it answers PING.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ])
            .arg(self.dir.path())
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.ping() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not answer PING within 10 s");
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(self.socket()) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        // +PONG, or -NOAUTH when a password is required: either way it answers
        let mut buf = [0u8; 1];
        s.read_exact(&mut buf).is_ok() && (buf[0] == b'+' || buf[0] == b'-')
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
