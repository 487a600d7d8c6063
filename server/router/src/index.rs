//! The compiled index: host buckets, each with a radix tree over path
//! prefixes.
//!
//! Every matcher (a route's path group, or an expression route) is given a
//! *rank* (its position in priority order). It is inserted as an [`Entry`]
//! into every bucket it can match in:
//!
//! * host buckets: exact host map, `*.suffix` map, `prefix.*` map, or the
//!   "any host" bucket (routes without hosts, expressions without an
//!   extractable `http.host ==` constraint);
//! * within a bucket: at the radix-tree node of its literal path prefix (a
//!   prefix path, the literal start of an anchored regex, or an expression's
//!   `http.path ^=` / `==` constraint), or in the bucket's "any path" list.
//!
//! Entry lists are sorted by rank, so a lookup scans each list reachable from
//! the request's host and path only until the first entry that fully
//! verifies, or until it reaches the best rank found so far.

use regex::{RegexSet, RegexSetBuilder};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// FxHash (as used by rustc): fast, non-cryptographic; keys are config data.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.add(u64::from_le_bytes(a));
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut a = [0u8; 8];
            a[..rem.len()].copy_from_slice(rem);
            self.add(u64::from_le_bytes(a));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// No regex to verify for this entry.
pub(crate) const NO_REGEX: u16 = u16::MAX;

/// Nodes with at least this many regex entries check them with one
/// [`regex::RegexSet`] pass instead of one regex per entry.
pub(crate) const SET_THRESHOLD: usize = 6;

/// One candidate: matcher rank plus what still needs checking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub rank: u32,
    /// required port (0 = any)
    pub port: u16,
    /// index of the regex path (within the group) to verify, or [`NO_REGEX`]
    pub regex: u16,
}

/// The regex entries of one trie node, checked with one regex-set pass.
/// Pattern `i` belongs to `entries[i]`; entries are in rank order.
///
/// Two engines are compiled lazily: a leftmost-first multi-pattern regex,
/// whose single anchored search yields the lowest-index (= best-ranked)
/// matching pattern, and, only if that candidate fails verification, a
/// [`RegexSet`] reporting every matching pattern.
#[derive(Debug)]
pub(crate) struct NodeSet {
    patterns: Vec<String>,
    pub entries: Vec<Entry>,
    first: OnceLock<Option<regex_automata::meta::Regex>>,
    all: OnceLock<Option<RegexSet>>,
}

impl NodeSet {
    /// Lowest-index pattern matching `path` (outer `None`: the engine
    /// could not be compiled).
    pub fn first_match(&self, path: &str) -> Option<Option<usize>> {
        let re = self
            .first
            .get_or_init(|| {
                regex_automata::meta::Regex::builder()
                    .configure(
                        regex_automata::meta::Config::new()
                            .nfa_size_limit(Some(1 << 28))
                            .hybrid_cache_capacity(1 << 24),
                    )
                    .build_many(&self.patterns)
                    .ok()
            })
            .as_ref()?;
        let input = regex_automata::Input::new(path).anchored(regex_automata::Anchored::Yes);
        Some(re.search(&input).map(|m| m.pattern().as_usize()))
    }

    /// Every matching pattern (`None`: could not be compiled).
    pub fn all_matches(&self, path: &str) -> Option<regex::SetMatches> {
        let rs = self
            .all
            .get_or_init(|| {
                RegexSetBuilder::new(&self.patterns)
                    .size_limit(1 << 28)
                    .dfa_size_limit(1 << 24)
                    .build()
                    .ok()
            })
            .as_ref()?;
        Some(rs.matches(path))
    }
}

#[derive(Debug, Default)]
struct Node {
    label: Box<[u8]>,
    /// (first byte of child label, node index), sorted by byte
    children: Vec<(u8, u32)>,
    entries: Vec<Entry>,
    /// (entry position, anchored pattern) of regex entries, until finalize
    pending: Vec<(usize, String)>,
    set: Option<Box<NodeSet>>,
}

/// Radix tree keyed by path prefixes.
#[derive(Debug)]
pub(crate) struct Trie {
    nodes: Vec<Node>,
}

impl Default for Trie {
    /// An empty trie (the root node is created on first insert).
    fn default() -> Self {
        Trie { nodes: Vec::new() }
    }
}

impl Trie {
    fn child(&self, node: usize, b: u8) -> Option<usize> {
        let ch = &self.nodes.get(node)?.children;
        ch.binary_search_by_key(&b, |c| c.0)
            .ok()
            .and_then(|i| ch.get(i))
            .map(|c| c.1 as usize)
    }

    fn new_node(&mut self, label: &[u8]) -> u32 {
        self.nodes.push(Node {
            label: label.into(),
            ..Node::default()
        });
        (self.nodes.len() - 1) as u32
    }

    fn set_child(&mut self, node: usize, b: u8, idx: u32) {
        if let Some(n) = self.nodes.get_mut(node) {
            match n.children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => n.children[i].1 = idx,
                Err(i) => n.children.insert(i, (b, idx)),
            }
        }
    }

    fn push_entry(&mut self, node: usize, e: Entry, pattern: Option<&str>) {
        if let Some(n) = self.nodes.get_mut(node) {
            if let Some(p) = pattern {
                n.pending.push((n.entries.len(), p.to_string()));
            }
            n.entries.push(e);
        }
    }

    pub fn insert(&mut self, key: &[u8], e: Entry, pattern: Option<&str>) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let mut node = 0usize;
        let mut k = key;
        loop {
            let Some(&first) = k.first() else {
                self.push_entry(node, e, pattern);
                return;
            };
            match self.child(node, first) {
                None => {
                    let idx = self.new_node(k);
                    self.push_entry(idx as usize, e, pattern);
                    self.set_child(node, first, idx);
                    return;
                }
                Some(c) => {
                    let label = &self.nodes[c].label;
                    let l = label.iter().zip(k).take_while(|(a, b)| a == b).count();
                    if l == label.len() {
                        node = c;
                        k = &k[l..];
                        continue;
                    }
                    // split the edge at l (0 < l < label.len())
                    let head: Box<[u8]> = label[..l].into();
                    let tail: Box<[u8]> = label[l..].into();
                    let tail_first = tail[0];
                    self.nodes[c].label = tail;
                    let mid = self.new_node(&head);
                    self.set_child(mid as usize, tail_first, c as u32);
                    self.set_child(node, first, mid);
                    node = mid as usize;
                    k = &k[l..];
                }
            }
        }
    }

    /// Group the regex entries of crowded nodes into regex sets.
    pub fn finalize(&mut self) {
        for n in &mut self.nodes {
            let pending = std::mem::take(&mut n.pending);
            if pending.len() < SET_THRESHOLD {
                continue;
            }
            let mut patterns = Vec::with_capacity(pending.len());
            let mut set_entries = Vec::with_capacity(pending.len());
            let mut in_set = vec![false; n.entries.len()];
            for (pos, pat) in pending {
                if let (Some(e), Some(flag)) = (n.entries.get(pos), in_set.get_mut(pos)) {
                    set_entries.push(*e);
                    patterns.push(pat);
                    *flag = true;
                }
            }
            let mut i = 0;
            n.entries.retain(|_| {
                let keep = !in_set.get(i).copied().unwrap_or(false);
                i += 1;
                keep
            });
            n.set = Some(Box::new(NodeSet {
                patterns,
                entries: set_entries,
                first: OnceLock::new(),
                all: OnceLock::new(),
            }));
        }
    }

    /// Force compilation of all regex sets.
    pub fn precompile(&self) {
        for n in &self.nodes {
            if let Some(s) = &n.set {
                let _ = s.first_match("");
            }
        }
    }

    /// Call `f` with the entry list (and regex set) of every node whose key
    /// is a prefix of `path`, shortest first.
    #[inline]
    pub fn walk<'s>(&'s self, path: &[u8], mut f: impl FnMut(&'s [Entry], Option<&'s NodeSet>)) {
        let mut node = 0usize;
        let mut rest = path;
        loop {
            if let Some(n) = self.nodes.get(node) {
                if !n.entries.is_empty() || n.set.is_some() {
                    f(&n.entries, n.set.as_deref());
                }
            }
            let Some(&b) = rest.first() else { return };
            let Some(c) = self.child(node, b) else { return };
            let label = &self.nodes[c].label;
            if rest.starts_with(label) {
                rest = &rest[label.len()..];
                node = c;
            } else {
                return;
            }
        }
    }
}

/// Entries of one host bucket.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    pub trie: Trie,
    pub any_path: Vec<Entry>,
}

impl Bucket {
    /// Add an entry under a path prefix (`None`: any path). `pattern` is the
    /// anchored regex of a regex path entry.
    pub fn add(&mut self, path_prefix: Option<&str>, e: Entry, pattern: Option<&str>) {
        match path_prefix {
            Some(p) => self.trie.insert(p.as_bytes(), e, pattern),
            None => self.any_path.push(e),
        }
    }

    #[inline]
    pub fn visit<'s>(&'s self, path: &[u8], f: &mut impl FnMut(&'s [Entry], Option<&'s NodeSet>)) {
        if !self.any_path.is_empty() {
            f(&self.any_path, None);
        }
        self.trie.walk(path, &mut *f);
    }
}

/// Which host bucket an entry goes to.
#[derive(Debug, Clone)]
pub(crate) enum HostKey<'a> {
    Exact(&'a str),
    Suffix(&'a str),
    Prefix(&'a str),
    Any,
}

/// All buckets.
#[derive(Debug, Default)]
pub(crate) struct Index {
    exact: FxMap<Box<str>, Bucket>,
    suffix: FxMap<Box<str>, Bucket>,
    prefix: FxMap<Box<str>, Bucket>,
    any_host: Bucket,
}

impl Index {
    /// An index expecting about `exact_hosts` distinct exact hosts.
    pub fn with_capacity(exact_hosts: usize) -> Self {
        let mut i = Index::default();
        i.exact.reserve(exact_hosts);
        i
    }

    pub fn bucket_mut(&mut self, k: HostKey<'_>) -> Option<&mut Bucket> {
        fn get<'m>(m: &'m mut FxMap<Box<str>, Bucket>, h: &str) -> Option<&'m mut Bucket> {
            if m.contains_key(h) {
                m.get_mut(h)
            } else {
                Some(m.entry(h.into()).or_default())
            }
        }
        match k {
            HostKey::Exact(h) => get(&mut self.exact, h),
            HostKey::Suffix(h) => get(&mut self.suffix, h),
            HostKey::Prefix(h) => get(&mut self.prefix, h),
            HostKey::Any => Some(&mut self.any_host),
        }
    }

    fn buckets_mut(&mut self) -> impl Iterator<Item = &mut Bucket> {
        self.exact
            .values_mut()
            .chain(self.suffix.values_mut())
            .chain(self.prefix.values_mut())
            .chain(std::iter::once(&mut self.any_host))
    }

    /// Group regex entries into per-node regex sets (after all inserts).
    pub fn finalize(&mut self) {
        for b in self.buckets_mut() {
            b.trie.finalize();
        }
    }

    /// Compile every regex set now.
    pub fn precompile(&self) {
        let all = self
            .exact
            .values()
            .chain(self.suffix.values())
            .chain(self.prefix.values())
            .chain(std::iter::once(&self.any_host));
        for b in all {
            b.trie.precompile();
        }
    }

    /// Visit every entry list that may match a request for `host` / `path`.
    #[inline]
    pub fn visit<'s>(
        &'s self,
        host: &str,
        path: &[u8],
        mut f: impl FnMut(&'s [Entry], Option<&'s NodeSet>),
    ) {
        if let Some(b) = self.exact.get(host) {
            b.visit(path, &mut f);
        }
        if !self.suffix.is_empty() || !self.prefix.is_empty() {
            for (i, _) in host.match_indices('.') {
                if !self.suffix.is_empty() {
                    if let Some(b) = self.suffix.get(&host[i + 1..]) {
                        b.visit(path, &mut f);
                    }
                }
                if !self.prefix.is_empty() {
                    if let Some(b) = self.prefix.get(&host[..i]) {
                        b.visit(path, &mut f);
                    }
                }
            }
        }
        self.any_host.visit(path, &mut f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(rank: u32) -> Entry {
        Entry {
            rank,
            port: 0,
            regex: NO_REGEX,
        }
    }

    #[test]
    fn trie_prefixes() {
        let mut t = Trie::default();
        for (i, k) in ["/", "/foo", "/foobar", "/fo", "/bar", "/foo/x", ""]
            .iter()
            .enumerate()
        {
            t.insert(k.as_bytes(), e(i as u32), None);
        }
        let mut got = Vec::new();
        t.walk(b"/foobar/baz", |l, _| got.extend(l.iter().map(|e| e.rank)));
        got.sort();
        assert_eq!(got, vec![0, 1, 2, 3, 6]);
        let mut got = Vec::new();
        t.walk(b"/fo", |l, _| got.extend(l.iter().map(|e| e.rank)));
        got.sort();
        assert_eq!(got, vec![0, 3, 6]);
        let mut got = Vec::new();
        t.walk(b"/foo/x", |l, _| got.extend(l.iter().map(|e| e.rank)));
        got.sort();
        assert_eq!(got, vec![0, 1, 3, 5, 6]);
    }
}
