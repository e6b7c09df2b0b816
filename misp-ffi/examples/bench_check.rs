//! The Rust side of `python/bench_check.py`: times a batch warninglist
//! check done directly with `misp-correlate`, the baseline the Python
//! bindings are compared with.
//!
//! ```text
//! cargo run --release -p misp-ffi --example bench_check -- LISTS VALUES_TSV COUNT
//! ```
//!
//! Reads the first `COUNT` `type<TAB>value` lines of `VALUES_TSV` and loads
//! the warninglists under `LISTS` (MISP-compatible), then prints `ready`.
//! For each line then read on standard input it builds the queries from
//! the in-memory pairs, runs `Matcher::check_batch` over them once and
//! prints `{"values": N, "hits": H, "seconds": S, "cpu_seconds": C}` (`C`:
//! CPU time of every thread of the process during the run, from
//! `/proc/self/task/*/schedstat`; `null` where that is not available); it
//! stops at the end of its input. Being driven run by run lets the caller interleave Rust and
//! Python runs, so that both see the same machine load.

use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use misp_correlate::warninglist::{self, Improvements, Query, QueryType, ToIdsGate};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_check: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [lists, values, count] = args.as_slice() else {
        return Err("usage: bench_check LISTS VALUES_TSV COUNT".into());
    };
    let count: usize = count.parse().map_err(|e| format!("COUNT: {e}"))?;
    let text = std::fs::read_to_string(values).map_err(|e| format!("{values}: {e}"))?;
    let pairs: Vec<(String, String)> = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .take(count)
        .map(|(t, v)| (t.to_owned(), v.to_owned()))
        .collect();
    let loaded =
        warninglist::load(Path::new(lists), Improvements::MISP).map_err(|e| e.to_string())?;
    let matcher = loaded.matcher;

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        line.map_err(|e| e.to_string())?;
        let cpu_start = process_cpu_seconds();
        let start = Instant::now();
        let queries: Vec<Query<'_>> = pairs
            .iter()
            .map(|(t, v)| Query::new(QueryType::Name(t), v))
            .collect();
        let batch = matcher.check_batch(&queries, ToIdsGate::Off);
        let seconds = start.elapsed().as_secs_f64();
        let cpu_seconds = match (cpu_start, process_cpu_seconds()) {
            (Some(a), Some(b)) => (b - a).to_string(),
            _ => "null".to_owned(),
        };
        writeln!(
            out,
            "{{\"values\": {}, \"hits\": {}, \"seconds\": {seconds}, \"cpu_seconds\": {cpu_seconds}}}",
            pairs.len(),
            batch.hit_count()
        )
        .map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// CPU time used so far by every thread of this process (Linux: the sum of
/// the first field, nanoseconds on CPU, of each `/proc/self/task/*/schedstat`).
fn process_cpu_seconds() -> Option<f64> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(nanos as f64 / 1e9)
}
