//! `fuzzy_compare` against libfuzzy 2.14.1 on the committed vectors
//! `testdata/ssdeep/compare-vectors.tsv` (built by
//! `testdata/ssdeep/make-vectors.sh` from libfuzzy's own `fuzzy_compare`),
//! plus, if set, the file named by `SSDEEP_EXTRA_VECTORS`.
//!
//! Each line is `hash_a TAB hash_b TAB libfuzzy's score` (-1 when libfuzzy
//! refuses). For every pair:
//!
//! * both values MISP accepts and both parse: our score equals libfuzzy's;
//! * a value MISP accepts fails to parse (a part too long for libfuzzy):
//!   libfuzzy's score is not positive (-1, or 0 for incompatible block
//!   sizes), so nothing correlates either way;
//! * a value MISP refuses (its validation regex does not match): it does
//!   not parse.

use std::path::{Path, PathBuf};

use misp_correlate::Error;
use misp_correlate::ssdeep::{SsdeepHash, fuzzy_compare};
use regex::Regex;

struct Vector {
    line: usize,
    a: String,
    b: String,
    score: i32,
}

fn read_vectors(path: &Path) -> Vec<Vector> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [a, b, score] = fields.as_slice() else {
                panic!(
                    "{}:{}: expected 3 fields: {line:?}",
                    path.display(),
                    index + 1
                );
            };
            Vector {
                line: index + 1,
                a: a.to_string(),
                b: b.to_string(),
                score: score.parse().unwrap_or_else(|error| {
                    panic!("{}:{}: score {score:?}: {error}", path.display(), index + 1)
                }),
            }
        })
        .collect()
}

fn committed_vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/ssdeep/compare-vectors.tsv")
}

/// Counts of what was checked, to assert that every branch was exercised.
#[derive(Debug, Default)]
struct Checked {
    equal: usize,
    positive: usize,
    between_1_and_99: usize,
    too_long: usize,
    not_misp: usize,
}

fn check(path: &Path) -> Checked {
    let misp = Regex::new(r"^([0-9]+):([0-9a-zA-Z/+]*):([0-9a-zA-Z/+]*)$").unwrap();
    let vectors = read_vectors(path);
    let mut checked = Checked::default();
    let mut failures = Vec::new();
    for vector in &vectors {
        let where_ = format!("{}:{}", path.display(), vector.line);
        let parsed = (SsdeepHash::parse(&vector.a), SsdeepHash::parse(&vector.b));
        if !misp.is_match(&vector.a) || !misp.is_match(&vector.b) {
            for (text, result) in [(&vector.a, &parsed.0), (&vector.b, &parsed.1)] {
                if !misp.is_match(text) {
                    assert!(
                        result.is_err(),
                        "{where_}: {text:?} is not MISP syntax but parsed"
                    );
                }
            }
            checked.not_misp += 1;
            continue;
        }
        match parsed {
            (Ok(a), Ok(b)) => {
                let ours = fuzzy_compare(&a, &b);
                if i64::from(ours) != i64::from(vector.score) {
                    failures.push(format!(
                        "{where_}: {:?} vs {:?}: libfuzzy {}, ours {ours}",
                        vector.a, vector.b, vector.score
                    ));
                }
                assert_eq!(ours, fuzzy_compare(&b, &a), "{where_}: not symmetric");
                checked.equal += 1;
                if ours > 0 {
                    checked.positive += 1;
                }
                if (1..100).contains(&ours) {
                    checked.between_1_and_99 += 1;
                }
            }
            (a, b) => {
                for result in [a, b] {
                    if let Err(error) = result {
                        match error {
                            Error::InvalidSsdeep { kind, .. } => assert!(
                                kind.is_misp_valid(),
                                "{where_}: MISP accepts it but: {error}"
                            ),
                            other => panic!("{where_}: unexpected error {other}"),
                        }
                    }
                }
                assert!(
                    vector.score <= 0,
                    "{where_}: libfuzzy scores {} but a hash was refused",
                    vector.score
                );
                checked.too_long += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ from libfuzzy:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    checked
}

#[test]
fn fuzzy_compare_equals_libfuzzy_on_the_committed_vectors() {
    let checked = check(&committed_vectors());
    // The file covers every branch generously (see make-vectors.sh).
    assert!(checked.equal >= 2500, "{checked:?}");
    assert!(checked.between_1_and_99 >= 1000, "{checked:?}");
    assert!(checked.positive >= 1300, "{checked:?}");
    assert!(checked.too_long >= 100, "{checked:?}");
    assert!(checked.not_misp >= 10, "{checked:?}");
}

/// A larger, uncommitted vector file:
/// `OUT=/tmp/big.tsv testdata/ssdeep/make-vectors.sh 7 100000 100000`, then
/// `SSDEEP_EXTRA_VECTORS=/tmp/big.tsv cargo test -p misp-correlate --test
/// ssdeep_vectors -- --ignored`.
#[test]
#[ignore = "needs SSDEEP_EXTRA_VECTORS naming a file from make-vectors.sh"]
fn fuzzy_compare_equals_libfuzzy_on_extra_vectors() {
    let path = std::env::var_os("SSDEEP_EXTRA_VECTORS")
        .expect("set SSDEEP_EXTRA_VECTORS to a file written by make-vectors.sh");
    let checked = check(Path::new(&path));
    assert!(checked.equal > 0, "{checked:?}");
    eprintln!("{}: {checked:?}", Path::new(&path).display());
}
