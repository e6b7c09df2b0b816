//! The ssdeep similarity graph (contract §7.2).
//!
//! A *node* is one distinct normalised ssdeep value (ssdeep hashes are
//! case-sensitive base64, so the value, not its lower-cased match key, is
//! what is compared) with the slots of the indexed ssdeep attributes that
//! carry it. Two nodes are joined by an *edge* when their match keys
//! differ and `fuzzy_compare` scores them at or above the threshold.
//!
//! Edges are cached because scoring is the expensive part; they connect
//! distinct values, not attributes, so their number does not grow with
//! repeated values. Attribute pairs are derived from them on demand.
//! Candidate nodes come from the ssdeep module's n-gram index, so a new
//! value is only scored against values sharing a 7-character run of the
//! hash with it — the same condition under which `fuzzy_compare` can
//! score above zero — never against all of them.

use ahash::AHashMap;
use smallvec::SmallVec;

/// One distinct ssdeep value.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Match key of the value.
    pub(crate) key: u32,
    /// Sorted slots of the attributes carrying the value.
    pub(crate) attrs: SmallVec<[u32; 2]>,
    /// (other node, score), for every node scoring at least the threshold.
    pub(crate) edges: Vec<(u32, u8)>,
}

/// The graph.
#[derive(Debug, Default)]
pub(crate) struct FuzzyGraph {
    pub(crate) nodes: AHashMap<u32, Node>,
    index: Index,
}

impl FuzzyGraph {
    /// Adds `slot`, whose value is string `sid` (`text`) with match key
    /// `key`. A value that is not a valid ssdeep hash gets no node.
    pub(crate) fn insert(&mut self, sid: u32, text: &str, key: u32, slot: u32, threshold: u32) {
        if let Some(n) = self.nodes.get_mut(&sid) {
            if let Err(i) = n.attrs.binary_search(&slot) {
                n.attrs.insert(i, slot);
            }
            return;
        }
        let Some(hash) = parse(text) else { return };
        let mut edges = Vec::new();
        for other in self.index.candidates(&hash) {
            let Some(theirs) = self.index.get(other) else {
                continue;
            };
            let Some(o) = self.nodes.get_mut(&other) else {
                continue;
            };
            if o.key == key {
                continue;
            }
            let score = compare(&hash, theirs);
            if score >= threshold {
                let score = score.min(100) as u8;
                // Edges stay sorted by node, whatever the order of
                // insertion (a snapshot rebuilds the graph in slot order).
                let at = o.edges.partition_point(|e| e.0 < sid);
                o.edges.insert(at, (sid, score));
                edges.push((other, score));
            }
        }
        edges.sort_unstable();
        self.index.insert(sid, &hash);
        let mut attrs = SmallVec::new();
        attrs.push(slot);
        self.nodes.insert(sid, Node { key, attrs, edges });
    }

    /// Removes `slot` from value `sid`; the node goes with its last slot.
    pub(crate) fn remove(&mut self, sid: u32, slot: u32) {
        let Some(n) = self.nodes.get_mut(&sid) else {
            return;
        };
        if let Ok(i) = n.attrs.binary_search(&slot) {
            n.attrs.remove(i);
        }
        if !n.attrs.is_empty() {
            return;
        }
        let edges = std::mem::take(&mut n.edges);
        self.nodes.remove(&sid);
        self.index.remove(sid);
        for (other, _) in edges {
            if let Some(o) = self.nodes.get_mut(&other) {
                o.edges.retain(|(x, _)| *x != sid);
            }
        }
    }

    /// Builds the graph of `members` — (value sid, key, slot) — whose
    /// texts are in `texts`.
    pub(crate) fn build(
        &mut self,
        members: &[(u32, u32, u32)],
        texts: &AHashMap<u32, String>,
        threshold: u32,
    ) {
        for &(sid, key, slot) in members {
            if let Some(t) = texts.get(&sid) {
                self.insert(sid, t, key, slot, threshold);
            }
        }
    }

    /// The node of value `sid`.
    pub(crate) fn node(&self, sid: u32) -> Option<&Node> {
        self.nodes.get(&sid)
    }
}

// ----- the ssdeep module, as the graph uses it -----------------------------

type Hash = crate::ssdeep::SsdeepHash;

fn parse(text: &str) -> Option<Hash> {
    Hash::parse(text).ok()
}

fn compare(a: &Hash, b: &Hash) -> u32 {
    crate::ssdeep::fuzzy_compare(a, b)
}

/// Candidate generation and hash storage: the ssdeep module's window
/// index over node ids.
#[derive(Debug, Default)]
struct Index(crate::ssdeep::FuzzyIndex);

impl Index {
    fn candidates(&self, hash: &Hash) -> Vec<u32> {
        self.0.candidates(hash)
    }

    fn get(&self, id: u32) -> Option<&Hash> {
        self.0.get(id)
    }

    fn insert(&mut self, id: u32, hash: &Hash) {
        self.0.insert(id, hash);
    }

    fn remove(&mut self, id: u32) {
        self.0.remove(id);
    }
}
