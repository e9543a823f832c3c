//! The lone commit's floor: what one `fdatasync` after a small append costs, by how the file's
//! tail was made (issue 13, wave 5, store).
//!
//! ```text
//! cargo bench -p plaint --bench fdatasync_tail
//! ```
//! Environment: `PLAINT_BENCH_DIR` (default `target/bench-log`, the log benches' disk),
//! `PLAINT_BENCH_SYNCS` (default 3,000 per mode), `PLAINT_BENCH_RECORD` (bytes per append,
//! default 300, about one engine command's batch).
//!
//! Three ways to append `RECORD` bytes and make them durable, run in alternating rounds of 250
//! so that they share the disk's regime of the moment:
//!
//! - `growing`: `write` at the end of the file, then `fdatasync` (the log before wave 6, and
//!   with `FileLogOptions::prewrite_bytes` 0: every sync also makes the new file size durable);
//! - `prewritten`: the file was filled with zeros and synced beforehand; `pwrite` over the
//!   zeros, then `fdatasync` (no size change, no extent change: data blocks only; the log
//!   since wave 6, docs/log-format.md "The pre-written tail");
//! - `fallocated`: the file's blocks were reserved with `fallocate` (unwritten extents, size
//!   set); `pwrite`, then `fdatasync` (the extent's conversion to written is journaled).
//!
//! Printed per mode: p50, p99, mean latency of the `fdatasync` alone, and the process CPU
//! (user + system) per append + sync.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Instant;

const ROUND: usize = 250;

fn env_or(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// CPU time of this process so far (user + system), in seconds.
fn cpu_seconds() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tail {
    Growing,
    Prewritten,
    Fallocated,
}

/// One file appended to in one way, with the latencies of its syncs.
struct Target {
    tail: Tail,
    file: File,
    offset: u64,
    sync_nanos: Vec<u64>,
    cpu: f64,
}

impl Target {
    fn create(dir: &Path, tail: Tail, capacity: u64) -> Target {
        let path = dir.join(format!("{tail:?}.dat").to_lowercase());
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        match tail {
            Tail::Growing => {}
            Tail::Prewritten => {
                let zeros = vec![0u8; 1 << 20];
                for _ in 0..capacity.div_ceil(zeros.len() as u64) {
                    file.write_all(&zeros).unwrap();
                }
            }
            Tail::Fallocated => {
                // SAFETY: a valid descriptor; fallocate only reserves blocks.
                let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, capacity as libc::off_t) };
                assert_eq!(r, 0, "fallocate: {}", std::io::Error::last_os_error());
            }
        }
        file.sync_all().unwrap();
        File::open(dir).unwrap().sync_all().unwrap();
        Target {
            tail,
            file,
            offset: 0,
            sync_nanos: Vec::new(),
            cpu: 0.0,
        }
    }

    fn round(&mut self, record: &[u8], n: usize) {
        let cpu0 = cpu_seconds();
        for _ in 0..n {
            self.file.write_all_at(record, self.offset).unwrap();
            self.offset += record.len() as u64;
            let t0 = Instant::now();
            self.file.sync_data().unwrap();
            self.sync_nanos.push(t0.elapsed().as_nanos() as u64);
        }
        self.cpu += cpu_seconds() - cpu0;
    }

    fn report(&mut self) {
        let v = &mut self.sync_nanos;
        v.sort_unstable();
        let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)] as f64 / 1e3;
        let mean = v.iter().sum::<u64>() as f64 / v.len() as f64 / 1e3;
        println!(
            "{:<11} {} syncs: fdatasync p50 {:.1} µs, p99 {:.1} µs, mean {:.1} µs; CPU {:.1} µs per append + sync",
            format!("{:?}", self.tail).to_lowercase(),
            v.len(),
            at(0.50),
            at(0.99),
            mean,
            self.cpu * 1e6 / v.len() as f64
        );
    }
}

fn main() {
    let syncs = env_or("PLAINT_BENCH_SYNCS", 3_000) as usize;
    let record_len = env_or("PLAINT_BENCH_RECORD", 300) as usize;
    let dir: PathBuf = std::env::var("PLAINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("target/bench-log"))
        .join("fdatasync-tail");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let capacity = (syncs * record_len) as u64 + (1 << 20);
    let mut targets: Vec<Target> = [Tail::Growing, Tail::Prewritten, Tail::Fallocated]
        .into_iter()
        .map(|t| Target::create(&dir, t, capacity))
        .collect();
    let record: Vec<u8> = (0..record_len).map(|i| b'a' + (i % 26) as u8).collect();
    let mut done = 0;
    while done < syncs {
        let n = ROUND.min(syncs - done);
        for t in &mut targets {
            t.round(&record, n);
        }
        done += n;
    }
    println!(
        "{record_len} B per append, rounds of {ROUND} alternating, {}",
        dir.display()
    );
    for t in &mut targets {
        t.report();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
