//! Engine snapshot figures on a generated corpus: save time and size, open
//! time, time to the first answer after opening, query speed on the
//! mapped snapshot against the in-memory engine, and the decode that the
//! first change after opening needs (`to_engine`).
//!
//! ```text
//! cargo run --release -p misp-benches --example engine_snapshot_figures -- [N] [advanced]
//! ```
//!
//! N defaults to 10,000,000 attributes of the realistic generator
//! ([`misp_benches::corpus`]). The snapshot is written to the system
//! temporary directory (or `$SNAPSHOT_DIR`) and removed at the end. Open
//! and first-query times are measured on a file the page cache holds
//! (it was just written); CPU times are printed with wall times.

use std::hint::black_box;
use std::time::Instant;

use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::{cpu_time, feed_corpus};
use misp_correlate::correlation::{Config, EngineBuilder, Id};
use misp_correlate::snapshot::EngineSnapshot;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let advanced = args.iter().any(|a| a == "advanced");
    let corpus = Corpus::realistic(42, n).expect("corpus");
    let t = Instant::now();
    let mut b = EngineBuilder::with_config(Config {
        advanced,
        ..Config::default()
    });
    feed_corpus(&corpus, &mut b).expect("feed");
    let engine = b.build().expect("build").engine;
    println!(
        "built {n} attributes (advanced: {advanced}) in {:?}",
        t.elapsed()
    );

    let dir = std::env::var_os("SNAPSHOT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("engine-snapshot-figures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("engine.snap");
    let t = Instant::now();
    EngineSnapshot::save_engine(&engine, &path).expect("save");
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "save: {:?}, {:.1} MiB",
        t.elapsed(),
        size as f64 / 1048576.0
    );

    // Open, and open + first answer, several times (median).
    let ids: Vec<u64> = (0..100_000u64).map(|i| (i * 7_919) % n).collect();
    let mut opens = Vec::new();
    let mut firsts = Vec::new();
    let mut cpu_opens = Vec::new();
    for round in 0..11 {
        let (c0, t0) = (cpu_time(), Instant::now());
        let snap = EngineSnapshot::open(&path).expect("open");
        let opened = t0.elapsed();
        let cpu = cpu_time() - c0;
        let t1 = Instant::now();
        let first = snap
            .correlations_of(Id::Num(ids[round % ids.len()]), None)
            .map(|c| c.len())
            .unwrap_or(0);
        black_box(first);
        firsts.push(t1.elapsed());
        opens.push(opened);
        cpu_opens.push(cpu);
    }
    opens.sort_unstable();
    firsts.sort_unstable();
    cpu_opens.sort_unstable();
    println!(
        "open: median {:?} (min {:?}, max {:?}); CPU median {:?} (10 ms ticks)",
        opens[5], opens[0], opens[10], cpu_opens[5]
    );
    println!(
        "first query after open (correlations_of): median {:?} (max {:?})",
        firsts[5], firsts[10]
    );

    // Query speed: correlations_of over the same identities.
    let snap = EngineSnapshot::open(&path).expect("open");
    let run = |f: &dyn Fn(u64) -> usize| {
        let (c0, t0) = (cpu_time(), Instant::now());
        let mut total = 0usize;
        for &id in &ids {
            total += f(id);
        }
        (t0.elapsed(), cpu_time() - c0, total)
    };
    for _ in 0..2 {
        let (mw, mc, mt) = run(&|id| {
            engine
                .correlations_of(Id::Num(id), None)
                .map(|c| c.len())
                .unwrap_or(0)
        });
        let (sw, sc, st) = run(&|id| {
            snap.correlations_of(Id::Num(id), None)
                .map(|c| c.len())
                .unwrap_or(0)
        });
        assert_eq!(mt, st, "same answers");
        println!(
            "correlations_of x{}: in memory {mw:?} ({mc:?} CPU), snapshot {sw:?} ({sc:?} CPU): snapshot at {:.0} % of in-memory speed",
            ids.len(),
            100.0 * mw.as_secs_f64() / sw.as_secs_f64()
        );
    }
    let (c0, t0) = (cpu_time(), Instant::now());
    let s1 = engine.summary();
    let (mw, mc) = (t0.elapsed(), cpu_time() - c0);
    let (c0, t0) = (cpu_time(), Instant::now());
    let s2 = snap.summary();
    let (sw, sc) = (t0.elapsed(), cpu_time() - c0);
    assert_eq!(s1, s2);
    println!(
        "summary (cached on the engine after build): in memory {mw:?} ({mc:?} CPU), snapshot first {sw:?} ({sc:?} CPU)"
    );
    // The first change after opening: decode into an in-memory engine.
    let (c0, t0) = (cpu_time(), Instant::now());
    let decoded = snap.to_engine().expect("to_engine");
    let (dw, dc) = (t0.elapsed(), cpu_time() - c0);
    assert_eq!(decoded.attribute_count(), engine.attribute_count());
    println!("to_engine (decode before the first change): {dw:?} ({dc:?} CPU, all threads)");
    let _ = std::fs::remove_dir_all(&dir);
}
