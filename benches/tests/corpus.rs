//! Integration tests of the corpus generator: determinism, slicing, type
//! mix, validity under `misp_core::normalize`, value reuse, CIDRs, ACL
//! variety, real values and the written MISP feed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use misp_benches::corpus::{
    Corpus, CorpusConfig, CorpusStats, GeneratedAttribute, RealValues, ValueKind,
};
use misp_core::normalize;

fn all(corpus: &Corpus) -> Vec<GeneratedAttribute> {
    corpus.attributes().collect()
}

/// A corpus config without any value reuse: every value is fresh.
fn no_reuse(seed: u64, n: u64) -> CorpusConfig {
    let mut c = CorpusConfig::realistic(seed, n);
    c.reuse.shared_share = 0.0;
    c.reuse.cidr_shared_share = 0.0;
    c.reuse.heavy_hitters = 0;
    c.in_network_share = 0.0;
    c
}

#[test]
fn same_seed_same_corpus_other_seed_other_corpus() {
    let a = Corpus::realistic(7, 20_000).unwrap();
    let b = Corpus::realistic(7, 20_000).unwrap();
    let c = Corpus::realistic(8, 20_000).unwrap();
    let (va, vb, vc) = (all(&a), all(&b), all(&c));
    assert_eq!(va.len(), 20_000);
    assert_eq!(va, vb);
    assert_ne!(va, vc);
    assert_eq!(
        a.events().collect::<Vec<_>>(),
        b.events().collect::<Vec<_>>()
    );
    for e in 0..a.event_count() {
        assert_eq!(a.objects(e), b.objects(e));
    }
    let same_values = va
        .iter()
        .zip(&vc)
        .filter(|(x, y)| x.value == y.value)
        .count();
    assert!(
        same_values < 200,
        "{same_values} values shared between seeds"
    );
}

#[test]
fn any_range_is_the_slice_of_the_full_stream() {
    let corpus = Corpus::realistic(3, 30_000).unwrap();
    let full = all(&corpus);
    // Cuts inside events, inside objects, at event boundaries.
    let mut cuts: Vec<u64> = vec![0, 1, 2, 999, 1000, 12_345, 29_999, 30_000];
    for e in (0..corpus.event_count()).step_by(17) {
        let r = corpus.event_attributes(e);
        cuts.push(r.start);
        cuts.push(r.start + (r.end - r.start) / 2);
        cuts.push(r.end - 1);
    }
    for e in 0..corpus.event_count() {
        for o in corpus.objects(e).into_iter().take(2) {
            cuts.push(corpus.event_attributes(e).start + u64::from(o.positions.start) + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut joined = Vec::new();
    for w in cuts.windows(2) {
        let part: Vec<_> = corpus.attributes_range(w[0]..w[1]).collect();
        assert_eq!(part.len() as u64, w[1] - w[0]);
        assert_eq!(
            part.as_slice(),
            &full[w[0] as usize..w[1] as usize],
            "range {}..{}",
            w[0],
            w[1]
        );
        joined.extend(part);
    }
    assert_eq!(joined, full);

    let chunks = corpus.chunks(7);
    assert_eq!(chunks.first().map(|r| r.start), Some(0));
    assert_eq!(chunks.last().map(|r| r.end), Some(30_000));
    assert!(chunks.windows(2).all(|w| w[0].end == w[1].start));
    let joined: Vec<_> = chunks
        .into_iter()
        .flat_map(|r| corpus.attributes_range(r))
        .collect();
    assert_eq!(joined, full);
    assert_eq!(corpus.attributes_range(29_000..40_000).count(), 1000);
    let (from, to) = (50, 10);
    assert_eq!(corpus.attributes_range(from..to).count(), 0);
}

#[test]
fn attributes_are_consistent_with_events_and_objects() {
    let corpus = Corpus::realistic(11, 50_000).unwrap();
    let mut by_event: BTreeMap<u32, Vec<GeneratedAttribute>> = BTreeMap::new();
    for a in corpus.attributes() {
        by_event.entry(a.event).or_default().push(a);
    }
    assert_eq!(by_event.len() as u32, corpus.event_count());
    for (e, attrs) in &by_event {
        let event = corpus.event(*e).unwrap();
        assert_eq!(
            event.attributes.end - event.attributes.start,
            attrs.len() as u64
        );
        for (i, a) in attrs.iter().enumerate() {
            assert_eq!(a.position as usize, i);
            assert_eq!(a.index, event.attributes.start + i as u64);
        }
        // Direct attributes first, then objects in order.
        let first_object = attrs
            .iter()
            .position(|a| a.object.is_some())
            .unwrap_or(attrs.len());
        assert!(attrs[first_object..].iter().all(|a| a.object.is_some()));
        assert!(
            attrs[..first_object]
                .iter()
                .all(|a| a.object.is_none() && a.object_relation.is_none())
        );
        for o in corpus.objects(*e) {
            for p in o.positions.clone() {
                let a = &attrs[p as usize];
                assert_eq!(a.object, Some(o.index));
                assert!(a.object_relation.is_some());
            }
        }
    }
    let uuids: HashSet<String> = corpus.events().map(|e| e.uuid).collect();
    assert_eq!(uuids.len() as u32, corpus.event_count());
}

#[test]
fn type_mix_follows_the_configuration() {
    let corpus = Corpus::realistic(5, 300_000).unwrap();
    let mut direct: HashMap<&str, u64> = HashMap::new();
    let mut n_direct = 0u64;
    let mut in_objects = 0u64;
    let mut cidrs = 0u64;
    for a in corpus.attributes() {
        if a.object.is_some() {
            in_objects += 1;
            continue;
        }
        n_direct += 1;
        *direct.entry(a.ty.name()).or_default() += 1;
        if a.value.contains('/') && a.ty.name().starts_with("ip-") {
            cidrs += 1;
        }
    }
    let mut expected: HashMap<&str, f64> = HashMap::new();
    for (kind, w) in ValueKind::realistic_mix() {
        *expected.entry(kind.type_name()).or_default() += w;
    }
    let total: f64 = expected.values().sum();
    for (ty, w) in &expected {
        let share = direct.get(ty).copied().unwrap_or(0) as f64 / n_direct as f64;
        let want = w / total;
        // Within 2 % relative or 0.1 percentage point.
        assert!(
            (share - want).abs() <= (0.02 * want).max(0.001),
            "{ty}: {share:.4} vs {want:.4}"
        );
    }
    let object_share = in_objects as f64 / 300_000.0;
    assert!(
        (0.02..0.06).contains(&object_share),
        "object share {object_share}"
    );
    let cidr_share = cidrs as f64 / n_direct as f64;
    assert!(
        (0.008..0.012).contains(&cidr_share),
        "CIDR share {cidr_share}"
    );
    // The five TweetFeed types dominate, in TweetFeed's order.
    let share = |t: &str| direct.get(t).copied().unwrap_or(0);
    assert!(share("url") > share("domain") && share("domain") > share("ip-dst"));
    assert!(share("ip-dst") > share("sha256") && share("sha256") > share("md5"));
}

#[test]
fn every_value_is_accepted_by_normalize() {
    let mut config = CorpusConfig::realistic(13, 100_000);
    config.raw_variant_share = 0.2;
    let corpus = Corpus::new(config).unwrap();
    let mut rejected = Vec::new();
    for a in corpus.attributes() {
        match normalize(a.ty, &a.value) {
            Ok(v) => assert_eq!(
                a.ty.is_composite(),
                v.value2().is_some(),
                "{} {:?}",
                a.ty,
                a.value
            ),
            Err(r) => rejected.push(format!("{} {:?}: {}", a.ty, a.value, r.reason())),
        }
        assert!(
            !a.value.contains('\n') && !a.value.trim().is_empty(),
            "{:?}",
            a.value
        );
    }
    assert!(
        rejected.is_empty(),
        "{} rejected, first: {:?}",
        rejected.len(),
        &rejected[..rejected.len().min(10)]
    );
}

#[test]
fn raw_spellings_normalise_to_the_canonical_value() {
    let mut canonical = CorpusConfig::realistic(41, 50_000);
    canonical.raw_variant_share = 0.0;
    let mut raw = canonical.clone();
    raw.raw_variant_share = 1.0;
    let (canonical, raw) = (Corpus::new(canonical).unwrap(), Corpus::new(raw).unwrap());
    let mut differ = 0;
    let mut kinds = HashSet::new();
    for (c, r) in canonical.attributes().zip(raw.attributes()) {
        assert_eq!(
            (c.index, c.ty, c.event, c.object),
            (r.index, r.ty, r.event, r.object)
        );
        let nc =
            normalize(c.ty, &c.value).unwrap_or_else(|e| panic!("{} {:?}: {e}", c.ty, c.value));
        let nr =
            normalize(r.ty, &r.value).unwrap_or_else(|e| panic!("{} {:?}: {e}", r.ty, r.value));
        assert_eq!(nc, nr, "{} {:?} vs {:?}", c.ty, c.value, r.value);
        // Canonical values are stored as MISP stores them.
        assert_eq!(
            nc.as_str(),
            c.value,
            "{} {:?} is not canonical",
            c.ty,
            c.value
        );
        if c.value != r.value {
            differ += 1;
            kinds.insert(c.ty.name());
        }
    }
    assert!(differ > 40_000, "{differ}");
    for t in [
        "url",
        "domain",
        "ip-dst",
        "md5",
        "sha256",
        "hostname|port",
        "ip-dst|port",
        "domain|ip",
        "filename|md5",
    ] {
        assert!(kinds.contains(t), "no raw spelling of {t}: {kinds:?}");
    }
}

#[test]
fn fresh_values_are_unique() {
    let corpus = Corpus::new(no_reuse(21, 100_000)).unwrap();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut clashes = Vec::new();
    for a in corpus.attributes() {
        let name = a.ty.name();
        // File names come from a vocabulary and repeat, as in real data;
        // sizes and ports are not identities.
        if matches!(name, "filename" | "size-in-bytes" | "port" | "ssdeep") {
            continue;
        }
        let v = normalize(a.ty, &a.value).unwrap();
        let mut keys = vec![v.value1().to_lowercase()];
        if a.ty.value2_correlates() {
            keys.push(v.value2().unwrap_or_default().to_lowercase());
        }
        if name.starts_with("filename|") {
            keys.remove(0);
        }
        for k in keys {
            match seen.get(&k) {
                Some(&e) if e != a.event => clashes.push((k, e, a.event)),
                _ => {
                    seen.insert(k, a.event);
                }
            }
        }
    }
    assert!(
        clashes.is_empty(),
        "{} values in two events: {:?}",
        clashes.len(),
        &clashes[..clashes.len().min(5)]
    );
}

#[test]
fn reuse_has_a_long_tail_and_heavy_hitters() {
    let mut config = CorpusConfig::realistic(17, 400_000);
    config.events = 4000;
    config.reuse.heavy_events = 1500;
    let corpus = Corpus::new(config).unwrap();
    let stats = CorpusStats::measure(&corpus);
    let keys = stats.distinct_keys as f64;
    let singles = stats.keys_in_events(1, 1) as f64;
    assert!(singles / keys > 0.8, "singletons {}", singles / keys);
    // The tail: many keys in 2-50 events, decreasing, reaching 20-50.
    let k = |lo, hi| stats.keys_in_events(lo, hi);
    assert!(k(2, 50) as f64 / keys > 0.02, "{}", k(2, 50));
    assert!(
        k(2, 2) > k(3, 3) && k(3, 3) > k(4, 4) && k(4, 4) > k(5, 5),
        "{:?}",
        stats.events_per_key
    );
    assert!(
        k(5, 10) > k(11, 20) && k(11, 20) > k(21, 50),
        "{:?}",
        stats.events_per_key
    );
    assert!(k(21, 50) >= 10, "{:?}", stats.events_per_key);
    // Heavy hitters: the host, IP and URL ones in about 1500 events; a
    // file hitter's keys (name, md5, sha1, sha256) in fewer, as each is
    // only one of the ways the file is written. Beyond the shared tail
    // there is nothing else.
    let heavy = k(1000, u32::MAX);
    assert!(
        (8..=16).contains(&heavy),
        "heavy hitters {heavy}: {:?}",
        stats.top_keys
    );
    let top = stats.top_keys.first().map_or(0, |t| t.1);
    assert!((1200..=1800).contains(&top), "{:?}", stats.top_keys);
    assert!(k(61, u32::MAX) <= 12 * 5, "{:?}", stats.events_per_key);
    // As in real feeds a minority of occurrences carries a reused key.
    let reused = stats.occurrences_on_reused_keys as f64 / stats.key_occurrences as f64;
    assert!(
        (0.10..0.30).contains(&reused),
        "reused occurrences {reused}"
    );
}

#[test]
fn cidrs_contain_generated_ips() {
    let corpus = Corpus::realistic(19, 300_000).unwrap();
    let stats = CorpusStats::measure(&corpus);
    assert!(stats.cidr_keys > 500, "{}", stats.cidr_keys);
    assert!(stats.cidr_keys_containing_ips > 50, "{stats}");
    assert!(stats.ip_keys_in_cidrs > 200, "{stats}");
    let mut v6_48 = 0;
    let mut v4_24 = 0;
    for a in corpus.attributes() {
        if a.object.is_none() && a.ty.name().starts_with("ip-") && a.value.contains('/') {
            v6_48 += usize::from(a.value.ends_with("::/48"));
            v4_24 += usize::from(a.value.ends_with(".0/24"));
        }
    }
    assert!(
        v6_48 > 50 && v4_24 > 2 * v6_48,
        "v6 /48 {v6_48}, v4 /24 {v4_24}"
    );
}

#[test]
fn acl_fields_vary() {
    let corpus = Corpus::realistic(23, 100_000).unwrap();
    let stats = CorpusStats::measure(&corpus);
    assert!(
        stats.distributions.iter().all(|&d| d > 0),
        "{:?}",
        stats.distributions
    );
    assert!(stats.distributions[5] > stats.attributes / 2);
    assert!(stats.disabled_correlation > 0);
    let mut sharing_groups = HashSet::new();
    for a in corpus.attributes() {
        assert_eq!(a.sharing_group.is_some(), a.distribution == 4);
        sharing_groups.extend(a.sharing_group);
    }
    assert!(sharing_groups.len() >= 4);
    let events: Vec<_> = corpus.events().collect();
    let orgs: HashSet<u32> = events.iter().map(|e| e.org).collect();
    let dists: HashSet<u8> = events.iter().map(|e| e.distribution).collect();
    assert!(orgs.len() >= 10, "{}", orgs.len());
    assert_eq!(dists.len(), 5);
    assert!(events.iter().any(|e| e.org != e.orgc));
    assert!(
        events
            .iter()
            .all(|e| e.sharing_group.is_some() == (e.distribution == 4))
    );
    assert!(stats.types.contains_key("ssdeep"));
    for t in [
        "filename|md5",
        "filename|sha256",
        "domain|ip",
        "ip-dst|port",
        "hostname|port",
    ] {
        assert!(stats.types.contains_key(t), "{t}");
    }
    let org = corpus.org(0).unwrap();
    assert_eq!(org.uuid.len(), 36);
    assert!(corpus.org(corpus.config().acl.orgs).is_none());
}

#[test]
fn events_vary_in_size() {
    let corpus = Corpus::realistic(29, 200_000).unwrap();
    let mut sizes: Vec<u64> = (0..corpus.event_count())
        .map(|e| {
            let r = corpus.event_attributes(e);
            r.end - r.start
        })
        .collect();
    sizes.sort_unstable();
    let mean = 200_000 / sizes.len() as u64;
    let median = sizes[sizes.len() / 2];
    let max = *sizes.last().unwrap();
    assert!(median < mean / 2, "median {median} mean {mean}");
    assert!(max > 20 * mean, "max {max} mean {mean}");
    assert!(sizes[0] >= 1);
}

#[test]
fn real_values_are_used_then_extended() {
    let mut tsv = String::new();
    for i in 0..300 {
        tsv.push_str(&format!("domain\treal{i}.example.org\n"));
        tsv.push_str(&format!("url\thttps://real{i}.example.net/p\n"));
        tsv.push_str(&format!("ip-dst\t198.51.100.{}\n", i % 250));
        tsv.push_str(&format!("md5\t{:032x}\n", i + 1));
    }
    tsv.push_str("garbage line without tab\n");
    let real = RealValues::from_reader(tsv.as_bytes(), "test.tsv").unwrap();
    assert_eq!(real.counts().hosts, 300);
    assert_eq!(real.counts().ipv4s, 250);
    assert_eq!(real.skipped_count(), 51);
    let mut config = no_reuse(31, 20_000);
    config.real_values = Some(Arc::new(real));
    config.ipv6_share = 0.0;
    let corpus = Corpus::new(config).unwrap();
    let mut real_domains = 0;
    let mut real_urls = 0;
    let mut domains = HashSet::new();
    for a in corpus.attributes() {
        normalize(a.ty, &a.value).unwrap();
        let lower = a.value.to_lowercase();
        match a.ty.name() {
            "domain" if a.object.is_none() => {
                real_domains += usize::from(lower.starts_with("real"));
                assert!(lower.ends_with(".example.org"), "{}", a.value);
                assert!(domains.insert(lower), "duplicate domain {}", a.value);
            }
            "url" => {
                real_urls += usize::from(a.value.starts_with("https://real"));
                assert!(a.value.contains(".example.net/p"), "{}", a.value);
            }
            _ => {}
        }
    }
    assert!(real_domains > 0 && real_domains <= 300, "{real_domains}");
    assert!(real_urls > 0, "{real_urls}");
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("misp-gen-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn written_feed_is_a_valid_misp_feed() {
    let corpus = Corpus::realistic(37, 10_000).unwrap();
    let dir = temp_dir("feed");
    let summary = corpus.write_feed(&dir).unwrap();
    assert_eq!(summary.attributes, 10_000);
    assert_eq!(summary.events, u64::from(corpus.event_count()));

    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let manifest = manifest.as_object().unwrap();
    assert_eq!(manifest.len() as u32, corpus.event_count());
    let expected: Vec<_> = all(&corpus);
    let mut seen_attributes = 0usize;
    let mut objects = 0u64;
    let mut attribute_uuids = HashSet::new();
    for event in corpus.events() {
        let entry = &manifest[&event.uuid];
        assert_eq!(entry["info"], event.info.as_str());
        assert_eq!(entry["date"], event.date.as_str());
        assert_eq!(entry["timestamp"], event.timestamp.to_string().as_str());
        assert!(entry["Orgc"]["uuid"].is_string());

        let path = dir.join(format!("{}.json", event.uuid));
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let e = &doc["Event"];
        assert_eq!(e["uuid"], event.uuid.as_str());
        assert_eq!(e["distribution"], event.distribution.to_string().as_str());
        assert_eq!(e["published"], event.published);
        assert!(e["Org"]["name"].is_string() && e["Orgc"]["name"].is_string());
        let mut attrs: Vec<&serde_json::Value> =
            e["Attribute"].as_array().unwrap().iter().collect();
        for o in e["Object"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            objects += 1;
            assert!(o["template_uuid"].is_string() && o["distribution"].is_string());
            for a in o["Attribute"].as_array().unwrap() {
                assert!(a["object_relation"].is_string());
                attrs.push(a);
            }
        }
        assert_eq!(
            attrs.len() as u64,
            event.attributes.end - event.attributes.start
        );
        for (a, g) in attrs
            .iter()
            .zip(&expected[event.attributes.start as usize..])
        {
            assert_eq!(a["type"], g.ty.name());
            assert_eq!(a["category"], g.category.name());
            assert_eq!(a["value"], g.value.as_str());
            assert_eq!(a["to_ids"], g.to_ids);
            assert_eq!(a["disable_correlation"], g.disable_correlation);
            assert_eq!(a["distribution"], g.distribution.to_string().as_str());
            assert_eq!(
                a["sharing_group_id"]
                    .as_str()
                    .map(|s| s.parse::<u32>().unwrap()),
                g.sharing_group
            );
            assert!(a["timestamp"].as_str().unwrap().parse::<i64>().unwrap() <= event.timestamp);
            assert!(attribute_uuids.insert(a["uuid"].as_str().unwrap().to_owned()));
            seen_attributes += 1;
        }
    }
    assert_eq!(seen_attributes, 10_000);
    assert_eq!(objects, summary.objects);
    // misp-core's reader loads it as MISP would, and nothing is refused.
    let loaded: Vec<misp_core::Event> = misp_core::json::load([&dir])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(loaded.len() as u32, corpus.event_count());
    let mut index = 0usize;
    for (event, meta) in loaded.iter().zip(corpus.events()) {
        assert_eq!(event.uuid, meta.uuid);
        assert_eq!(event.distribution, meta.distribution);
        assert_eq!(event.sharing_group_id, meta.sharing_group.map(u64::from));
        assert_eq!(event.disable_correlation, meta.disable_correlation);
        assert_eq!(event.org.uuid, corpus.org(meta.org).map(|o| o.uuid));
        assert_eq!(event.orgc.uuid, corpus.org(meta.orgc).map(|o| o.uuid));
        let objects = corpus.objects(meta.index);
        assert_eq!(event.objects.len(), objects.len());
        for (o, g) in event.objects.iter().zip(&objects) {
            assert_eq!(o.name, g.name);
            assert_eq!(o.distribution, g.distribution);
            assert_eq!(o.sharing_group_id, g.sharing_group.map(u64::from));
            assert_eq!(
                o.attributes.len() as u32,
                g.positions.end - g.positions.start
            );
        }
        for r in event.all_attributes() {
            let g = &expected[index];
            index += 1;
            assert_eq!(r.position as u32, g.position);
            assert_eq!(r.object.is_some(), g.object.is_some());
            let a = r.attribute;
            assert_eq!(
                a.uuid.as_deref(),
                Some(corpus.attribute_uuid(g.index).as_str())
            );
            assert_eq!(
                (a.type_name.as_str(), a.value.as_str()),
                (g.ty.name(), g.value.as_str())
            );
            assert_eq!(
                (a.to_ids, a.distribution, a.disable_correlation),
                (g.to_ids, g.distribution, g.disable_correlation)
            );
            assert_eq!(a.sharing_group_id, g.sharing_group.map(u64::from));
        }
    }
    assert_eq!(index, 10_000);
    let summary = misp_core::json::LoadSummary::from_paths([&dir]);
    assert_eq!(summary.attributes(), 10_000);
    assert!(summary.errors().is_empty(), "{:?}", summary.errors());
    assert!(
        summary.rejected().is_empty(),
        "{:?}",
        &summary.rejected()[..summary.rejected().len().min(5)]
    );

    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files as u32, corpus.event_count() + 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn write_feed_reports_an_unwritable_directory() {
    let corpus = Corpus::realistic(1, 100).unwrap();
    let file = temp_dir("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = corpus.write_feed(file.join("sub")).unwrap_err().to_string();
    assert!(err.contains("not-a-dir"), "{err}");
    std::fs::remove_file(&file).unwrap();
}
