//! `--compiler-cache ccache`: rebuilds reuse compiled objects, locally and, through a shared
//! Redis on loopback, across machines (two cache directories stand for two machines).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{assert_success, emwheel, ensure_target, repo};

/// Builds markupsafe with ccache and the given ccache settings; returns the wheel's bytes.
fn build_cached(out: &Path, ccache: &[(&str, String)]) -> Vec<u8> {
    ensure_target();
    let output = emwheel()
        .args([
            "build",
            "--allow-emcc-mismatch",
            "--compiler-cache",
            "ccache",
            "-o",
        ])
        .arg(out)
        .arg(repo().join("recipes/markupsafe"))
        .envs(ccache.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert_success(&output);
    let wheel = out.join("markupsafe-2.1.5-cp313-cp313-pyemscripten_2025_0_wasm32.whl");
    std::fs::read(wheel).unwrap()
}

/// One counter from `ccache --print-stats` for a cache directory.
fn stat(ccache_dir: &Path, counter: &str) -> u64 {
    let output = Command::new("ccache")
        .arg("--print-stats")
        .env("CCACHE_DIR", ccache_dir)
        .output()
        .expect("ccache is installed by scripts/setup");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{counter}\t")))
        .map(|value| value.trim().parse().unwrap())
        .unwrap_or_else(|| panic!("no `{counter}` in ccache stats:\n{text}"))
}

#[test]
fn a_rebuild_hits_the_local_cache() {
    let cache = tempfile::tempdir().unwrap();
    let settings = [("CCACHE_DIR", cache.path().display().to_string())];
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = build_cached(first.path(), &settings);
    assert_eq!(stat(cache.path(), "direct_cache_hit"), 0);
    let b = build_cached(second.path(), &settings);
    assert!(stat(cache.path(), "direct_cache_hit") >= 1);
    assert!(a == b, "a cached build must give the same wheel");
}

/// A Redis server on a free loopback port, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &port.to_string()])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed by scripts/setup");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { child, port }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_second_machine_hits_the_shared_redis_cache() {
    let redis = Redis::start();
    let remote = format!("redis://127.0.0.1:{}", redis.port);
    let machine = |dir: &Path| {
        [
            ("CCACHE_DIR", dir.display().to_string()),
            ("CCACHE_REMOTE_STORAGE", remote.clone()),
        ]
    };
    let (first_cache, second_cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    build_cached(first.path(), &machine(first_cache.path()));
    assert_eq!(stat(second_cache.path(), "remote_storage_hit"), 0);
    build_cached(second.path(), &machine(second_cache.path()));
    assert!(stat(second_cache.path(), "remote_storage_hit") >= 1);
}
