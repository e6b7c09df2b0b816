use std::time::Instant;
use misp_benches::correlation_input::StringCorpus;
fn main() {
    let n = 1_000_000u64;
    let c = StringCorpus::new(42, n);
    let t = Instant::now();
    let mut total = 0usize;
    c.for_each(|g| total += g.value.len());
    println!("generate: {:?} ({total})", t.elapsed());
    let t = Instant::now();
    let mut ok = 0usize;
    c.for_each(|g| { if let Ok(v) = misp_core::normalize(g.ty, g.value) { ok += v.value1().len(); } });
    println!("generate+normalize: {:?} ({ok})", t.elapsed());
    let t = Instant::now();
    let mut set = std::collections::HashMap::<String, u32>::new();
    c.for_each(|g| { let l = set.len() as u32; set.entry(g.value.to_owned()).or_insert(l); });
    println!("generate+std hashmap intern: {:?} ({})", t.elapsed(), set.len());
}
