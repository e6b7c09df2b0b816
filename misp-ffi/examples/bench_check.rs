//! The Rust side of `python/bench_check.py`: times a batch warninglist
//! check done directly with `misp-correlate`, the baseline the Python
//! bindings are compared with.
//!
//! ```text
//! cargo run --release -p misp-ffi --example bench_check -- LISTS VALUES_TSV COUNT REPEAT
//! ```
//!
//! Reads the first `COUNT` `type<TAB>value` lines of `VALUES_TSV`, loads
//! the warninglists under `LISTS` (MISP-compatible), then `REPEAT` times
//! builds the queries from the in-memory pairs and runs
//! `Matcher::check_batch` over them. Prints one JSON line:
//! `{"values": N, "hits": H, "best_seconds": S, "seconds": [...]}`.

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
    let [lists, values, count, repeat] = args.as_slice() else {
        return Err("usage: bench_check LISTS VALUES_TSV COUNT REPEAT".into());
    };
    let count: usize = count.parse().map_err(|e| format!("COUNT: {e}"))?;
    let repeat: usize = repeat.parse().map_err(|e| format!("REPEAT: {e}"))?;
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

    let mut seconds = Vec::with_capacity(repeat);
    let mut hits = 0;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let queries: Vec<Query<'_>> = pairs
            .iter()
            .map(|(t, v)| Query::new(QueryType::Name(t), v))
            .collect();
        let batch = matcher.check_batch(&queries, ToIdsGate::Off);
        hits = batch.hit_count();
        seconds.push(start.elapsed().as_secs_f64());
    }
    let best = seconds.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "{{\"values\": {}, \"hits\": {hits}, \"best_seconds\": {best}, \"seconds\": {seconds:?}}}",
        pairs.len()
    );
    Ok(())
}
