//! A mergeable quantile sketch with a relative error bound (DDSketch's logarithmic
//! buckets): a value `v ≥ 1` falls in bucket `ceil(ln v / ln γ)` with
//! `γ = (1 + α) / (1 − α)`; the bucket's representative `2γ^i / (γ + 1)` is within `α`
//! of every value in it. `α` = 1 %, so any quantile is within 1 % of the exact value at
//! its rank (the issue allows 2 %). Merging adds counts bucket by bucket, so minute
//! sketches merge into exact hour and day sketches and any set of rows merges into one.
//!
//! Values are whole numbers (microseconds, bytes); 0 has a bucket of its own. Counts
//! saturate at `u64::MAX` instead of overflowing (data planes send them: a merge of
//! huge counts must neither panic nor wrap to a small number).
//!
//! Encoding (stored as a BLOB and shipped by data planes): byte 1 (format), then
//! LEB128 varints: zero count, number of non-empty buckets, then for each bucket in
//! ascending index order the index delta (the first zigzag-encoded, the rest as the
//! gap from the previous index) and the count.

/// Relative accuracy.
pub const ALPHA: f64 = 0.01;
const FORMAT: u8 = 1;
/// Highest bucket index: values up to 2^53 (far beyond any latency or size).
const MAX_INDEX: i32 = 1_900;

fn gamma() -> f64 {
    (1.0 + ALPHA) / (1.0 - ALPHA)
}

/// A sketch of non-negative whole numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    zero: u64,
    /// Index of `counts[0]`.
    offset: i32,
    counts: Vec<u64>,
    count: u64,
}

/// `ln γ`, computed once.
fn ln_gamma() -> f64 {
    use std::sync::OnceLock;
    static LN: OnceLock<f64> = OnceLock::new();
    *LN.get_or_init(|| gamma().ln())
}

/// The bucket of `v ≥ 1` by definition: `ceil(ln v / ln γ)`, clamped.
fn index_exact(v: u64) -> i32 {
    let i = ((v as f64).ln() / ln_gamma()).ceil() as i32;
    i.clamp(0, MAX_INDEX)
}

/// [`index_exact`] as tables, so the data plane's per-request path does no `ln`
/// (five sketch insertions per request).
struct IndexTable {
    /// `upper[i]`: the largest value whose bucket is at most `i`.
    upper: Vec<u64>,
    /// Values below 64: their buckets.
    small: [u16; 64],
    /// For `v ≥ 64` with highest bit `e`: the bucket of the smallest value sharing
    /// `v`'s 7 highest bits, at `(e − 6) · 64 + (the 6 bits after the highest)`. A
    /// 1/64 octave is narrower than a bucket (γ ≈ 1.0202 is ~1/34 octave), so `v`'s
    /// bucket is that one or the next.
    first: Vec<u16>,
}

fn table() -> &'static IndexTable {
    use std::sync::OnceLock;
    static TABLE: OnceLock<IndexTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        // `index_exact` never decreases as `v` grows: binary search each bucket's end.
        let upper = (0..=MAX_INDEX)
            .map(|i| {
                let (mut lo, mut hi) = (1u64, u64::MAX);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2 + 1;
                    if index_exact(mid) <= i {
                        lo = mid;
                    } else {
                        hi = mid - 1;
                    }
                }
                lo
            })
            .collect();
        let mut small = [0u16; 64];
        for (v, b) in small.iter_mut().enumerate().skip(1) {
            *b = index_exact(v as u64) as u16;
        }
        let first = (6..64u32)
            .flat_map(|e| (0..64u64).map(move |k| (64 + k) << (e - 6)))
            .map(|lowest| index_exact(lowest) as u16)
            .collect();
        IndexTable {
            upper,
            small,
            first,
        }
    })
}

/// Builds the bucket table now rather than on the first value recorded.
pub fn prepare() {
    table();
}

/// The bucket of `v ≥ 1`: equal to [`index_exact`], by table lookup.
fn index_of(v: u64) -> i32 {
    let t = table();
    if v < 64 {
        return i32::from(t.small[v as usize]);
    }
    let e = 63 - v.leading_zeros();
    let k = ((e - 6) as usize) << 6 | ((v >> (e - 6)) & 63) as usize;
    let mut i = usize::from(t.first[k]);
    while i < MAX_INDEX as usize && t.upper[i] < v {
        i += 1;
    }
    i as i32
}

fn value_of(i: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(i) / (g + 1.0)
}

impl Sketch {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many values were added.
    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn add(&mut self, v: u64) {
        self.add_n(v, 1);
    }

    pub fn add_n(&mut self, v: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.count = self.count.saturating_add(n);
        if v == 0 {
            self.zero = self.zero.saturating_add(n);
            return;
        }
        let i = index_of(v);
        self.bump(i, n);
    }

    fn bump(&mut self, i: i32, n: u64) {
        if self.counts.is_empty() {
            self.offset = i;
            self.counts.push(n);
            return;
        }
        if i < self.offset {
            let grow = (self.offset - i) as usize;
            let mut v = vec![0; grow + self.counts.len()];
            v[grow..].copy_from_slice(&self.counts);
            self.counts = v;
            self.offset = i;
        }
        let at = (i - self.offset) as usize;
        if at >= self.counts.len() {
            self.counts.resize(at + 1, 0);
        }
        self.counts[at] = self.counts[at].saturating_add(n);
    }

    /// Adds every value of `other`.
    pub fn merge(&mut self, other: &Sketch) {
        self.zero = self.zero.saturating_add(other.zero);
        self.count = self.count.saturating_add(other.zero);
        for (k, &n) in other.counts.iter().enumerate() {
            if n > 0 {
                self.count = self.count.saturating_add(n);
                self.bump(other.offset + k as i32, n);
            }
        }
    }

    /// The value at quantile `q` (0..=1): the estimate of the value of rank
    /// `floor(q · (count − 1))` (0-based) in sorted order. `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let q = q.clamp(0.0, 1.0);
        let rank = (q * (self.count - 1) as f64).floor() as u64;
        if rank < self.zero {
            return Some(0.0);
        }
        let mut seen = self.zero;
        for (k, &n) in self.counts.iter().enumerate() {
            seen = seen.saturating_add(n);
            if seen > rank {
                return Some(value_of(self.offset + k as i32));
            }
        }
        self.counts
            .len()
            .checked_sub(1)
            .map(|k| value_of(self.offset + k as i32))
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.counts.len() * 2);
        out.push(FORMAT);
        put_varint(&mut out, self.zero);
        let nonzero = self.counts.iter().filter(|&&n| n > 0).count() as u64;
        put_varint(&mut out, nonzero);
        let mut prev: Option<i32> = None;
        for (k, &n) in self.counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let i = self.offset + k as i32;
            match prev {
                None => put_varint(&mut out, zigzag(i)),
                Some(p) => put_varint(&mut out, (i - p) as u64),
            }
            put_varint(&mut out, n);
            prev = Some(i);
        }
        out
    }

    /// Adds the values of an encoded sketch without decoding it into a sketch of its
    /// own (no allocation: the query engine merges thousands of rows). On bytes that
    /// are not a sketch it returns `false` and leaves `self` unchanged.
    pub fn merge_encoded(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return true;
        }
        // Validate first, so that a broken row changes nothing.
        if !Self::walk(bytes, |_, _| {}) {
            return false;
        }
        let mut zero = 0;
        Self::walk(bytes, |i, n| match i {
            None => zero = n,
            Some(i) => {
                self.count = self.count.saturating_add(n);
                self.bump(i, n);
            }
        });
        self.zero = self.zero.saturating_add(zero);
        self.count = self.count.saturating_add(zero);
        true
    }

    /// Takes the values of an encoded sketch out again: the inverse of
    /// [`Sketch::merge_encoded`] for a sketch that holds them (bucket counts are exact,
    /// so a local day = its UTC day's sketch − the hours it lends + those it borrows).
    /// Counts never go below zero. On bytes that are not a sketch it returns `false`
    /// and leaves `self` unchanged.
    pub fn remove_encoded(&mut self, bytes: &[u8]) -> bool {
        if bytes.is_empty() {
            return true;
        }
        if !Self::walk(bytes, |_, _| {}) {
            return false;
        }
        let offset = self.offset;
        let (zero, counts, count) = (&mut self.zero, &mut self.counts, &mut self.count);
        Self::walk(bytes, |i, n| {
            let slot = match i {
                None => Some(&mut *zero),
                Some(i) => usize::try_from(i - offset)
                    .ok()
                    .and_then(|at| counts.get_mut(at)),
            };
            if let Some(c) = slot {
                let m = n.min(*c);
                *c -= m;
                *count = count.saturating_sub(m);
            }
        });
        true
    }

    /// Calls `f(None, zero count)` then `f(Some(index), count)` for each bucket of an
    /// encoded sketch; `false` when the bytes are not a sketch.
    fn walk(bytes: &[u8], mut f: impl FnMut(Option<i32>, u64)) -> bool {
        if bytes.first() != Some(&FORMAT) {
            return false;
        }
        let mut at = 1;
        let Some(zero) = get_varint(bytes, &mut at) else {
            return false;
        };
        f(None, zero);
        let Some(buckets) = get_varint(bytes, &mut at) else {
            return false;
        };
        if buckets > (MAX_INDEX as u64 + 1) {
            return false;
        }
        let mut prev: Option<i32> = None;
        for _ in 0..buckets {
            let Some(raw) = get_varint(bytes, &mut at) else {
                return false;
            };
            let i = match prev {
                None => match unzigzag(raw) {
                    Some(i) => i,
                    None => return false,
                },
                Some(p) => match i32::try_from(raw).ok().filter(|&g| g > 0) {
                    Some(gap) => match p.checked_add(gap) {
                        Some(i) => i,
                        None => return false,
                    },
                    None => return false,
                },
            };
            if !(0..=MAX_INDEX).contains(&i) {
                return false;
            }
            let Some(n) = get_varint(bytes, &mut at) else {
                return false;
            };
            f(Some(i), n);
            prev = Some(i);
        }
        at == bytes.len()
    }

    /// Reads [`Sketch::encode`]'s bytes; `None` when they are not a sketch (an empty
    /// input is an empty sketch).
    pub fn decode(bytes: &[u8]) -> Option<Sketch> {
        if bytes.is_empty() {
            return Some(Sketch::new());
        }
        if bytes[0] != FORMAT {
            return None;
        }
        let mut at = 1;
        let mut s = Sketch::new();
        let zero = get_varint(bytes, &mut at)?;
        s.zero = zero;
        s.count = zero;
        let buckets = get_varint(bytes, &mut at)?;
        if buckets > (MAX_INDEX as u64 + 1) {
            return None;
        }
        let mut prev: Option<i32> = None;
        for _ in 0..buckets {
            let raw = get_varint(bytes, &mut at)?;
            let i = match prev {
                None => unzigzag(raw)?,
                Some(p) => {
                    let gap = i32::try_from(raw).ok()?;
                    if gap == 0 {
                        return None;
                    }
                    p.checked_add(gap)?
                }
            };
            if !(0..=MAX_INDEX).contains(&i) {
                return None;
            }
            let n = get_varint(bytes, &mut at)?;
            s.count = s.count.saturating_add(n);
            s.bump(i, n);
            prev = Some(i);
        }
        if at != bytes.len() {
            return None;
        }
        Some(s)
    }
}

fn zigzag(i: i32) -> u64 {
    ((i << 1) ^ (i >> 31)) as u32 as u64
}

fn unzigzag(v: u64) -> Option<i32> {
    let v = u32::try_from(v).ok()?;
    Some(((v >> 1) as i32) ^ -((v & 1) as i32))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact value of rank floor(q (n-1)) of sorted `values`.
    fn exact(sorted: &[u64], q: f64) -> f64 {
        sorted[(q * (sorted.len() - 1) as f64).floor() as usize] as f64
    }

    fn check(mut values: Vec<u64>) {
        let mut s = Sketch::new();
        for &v in &values {
            s.add(v);
        }
        values.sort_unstable();
        for q in [0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
            let e = exact(&values, q);
            let got = s.quantile(q).unwrap();
            let err = if e == 0.0 { got } else { (got - e).abs() / e };
            assert!(err <= 0.02, "q={q}: exact {e}, sketch {got}, error {err}");
        }
        let back = Sketch::decode(&s.encode()).unwrap();
        assert_eq!(back, s);
    }

    /// A small deterministic generator (xorshift), so the tests need no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f64 {
            (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn uniform_within_bound() {
        let mut r = Rng(42);
        check((0..100_000).map(|_| 1 + r.next() % 100_000).collect());
    }

    #[test]
    fn bimodal_within_bound() {
        let mut r = Rng(7);
        check(
            (0..100_000)
                .map(|i| {
                    if i % 10 < 7 {
                        800 + r.next() % 400
                    } else {
                        250_000 + r.next() % 50_000
                    }
                })
                .collect(),
        );
    }

    #[test]
    fn long_tail_within_bound() {
        // Pareto with shape 1.2: most values small, a few huge.
        let mut r = Rng(99);
        check(
            (0..100_000)
                .map(|_| (500.0 / (1.0 - r.unit()).max(1e-9).powf(1.0 / 1.2)) as u64)
                .collect(),
        );
    }

    #[test]
    fn zeros_and_small_values() {
        check(vec![0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
        assert_eq!(Sketch::new().quantile(0.5), None);
    }

    #[test]
    fn merging_equals_adding_everything_to_one() {
        let mut r = Rng(3);
        let values: Vec<u64> = (0..50_000).map(|_| r.next() % 10_000_000).collect();
        let mut whole = Sketch::new();
        let mut parts = vec![Sketch::new(); 60];
        for (k, &v) in values.iter().enumerate() {
            whole.add(v);
            parts[k % 60].add(v);
        }
        let mut merged = Sketch::new();
        for p in &parts {
            merged.merge(&Sketch::decode(&p.encode()).unwrap());
        }
        assert_eq!(merged.count(), whole.count());
        for q in [0.5, 0.95, 0.99] {
            assert_eq!(merged.quantile(q), whole.quantile(q));
        }
    }

    #[test]
    fn merging_encoded_bytes_equals_merging_sketches() {
        let mut r = Rng(11);
        let mut a = Sketch::new();
        let mut b = Sketch::new();
        for k in 0..5_000 {
            let v = if k % 7 == 0 { 0 } else { r.next() % 1_000_000 };
            if k % 2 == 0 {
                a.add(v);
            } else {
                b.add(v);
            }
        }
        let mut merged = a.clone();
        merged.merge(&b);
        let mut via_bytes = a.clone();
        assert!(via_bytes.merge_encoded(&b.encode()));
        assert_eq!(via_bytes.count(), merged.count());
        for q in [0.0, 0.5, 0.99, 1.0] {
            assert_eq!(via_bytes.quantile(q), merged.quantile(q));
        }
        let mut empty = Sketch::new();
        assert!(empty.merge_encoded(&a.encode()));
        assert_eq!(empty.quantile(0.5), a.quantile(0.5));
        let before = via_bytes.clone();
        assert!(!via_bytes.merge_encoded(&[1, 0, 5]));
        assert!(!via_bytes.merge_encoded(&[2, 0, 0]));
        assert_eq!(via_bytes, before);
    }

    #[test]
    fn removing_encoded_bytes_undoes_a_merge() {
        let mut r = Rng(5);
        let mut a = Sketch::new();
        let mut b = Sketch::new();
        for k in 0..4_000 {
            // b holds the tail: taking it out moves every upper quantile.
            if k % 3 == 0 {
                b.add(if k % 9 == 0 {
                    0
                } else {
                    5_000_000 + r.next() % 1_000_000
                });
            } else {
                a.add(r.next() % 100_000);
            }
        }
        let mut both = a.clone();
        both.merge(&b);
        assert_ne!(both.quantile(0.99), a.quantile(0.99));
        assert!(both.remove_encoded(&b.encode()));
        assert_eq!(both.count(), a.count());
        for q in [0.0, 0.5, 0.95, 0.99, 1.0] {
            assert_eq!(both.quantile(q), a.quantile(q), "q {q}");
        }
        // Removing what is not there leaves counts at zero, never below.
        let mut small = Sketch::new();
        small.add(10);
        assert!(small.remove_encoded(&b.encode()));
        assert_eq!(small.count(), 1);
        let itself = small.encode();
        assert!(small.remove_encoded(&itself));
        assert!(small.is_empty());
        assert_eq!(small.quantile(0.5), None);
        let before = a.clone();
        assert!(!a.remove_encoded(&[1, 0, 5]));
        assert_eq!(a, before);
    }

    #[test]
    fn the_bucket_table_equals_the_definition() {
        for v in 1..200_000u64 {
            assert_eq!(index_of(v), index_exact(v), "{v}");
        }
        for &u in &table().upper {
            for v in [u.saturating_sub(1).max(1), u, u.saturating_add(1)] {
                assert_eq!(index_of(v), index_exact(v), "{v}");
            }
        }
        let mut r = Rng(99);
        for _ in 0..200_000 {
            let x = r.next();
            let v = (x >> (x % 64)).max(1);
            assert_eq!(index_of(v), index_exact(v), "{v}");
        }
        assert_eq!(index_of(u64::MAX), MAX_INDEX);
        assert_eq!(index_of(1), 0);
    }

    #[test]
    fn counts_saturate_instead_of_overflowing() {
        let mut huge = Sketch::new();
        huge.add_n(1_000, u64::MAX - 1);
        huge.add_n(0, u64::MAX / 2);
        assert_eq!(huge.count(), u64::MAX);
        let mut merged = huge.clone();
        merged.merge(&huge);
        merged.merge(&huge);
        assert_eq!(merged.count(), u64::MAX);
        let bytes = huge.encode();
        let mut via_bytes = huge.clone();
        assert!(via_bytes.merge_encoded(&bytes));
        assert_eq!(via_bytes.count(), u64::MAX);
        // stored sketches of saturated counts still read back
        let back = Sketch::decode(&merged.encode()).unwrap();
        assert_eq!(back.count(), u64::MAX);
        assert!(back.quantile(0.99).is_some());
        let mut one = Sketch::new();
        one.add_n(7, u64::MAX);
        one.add_n(7, 5);
        assert_eq!(one.count(), u64::MAX);
        assert!(one.quantile(1.0).is_some());
    }

    #[test]
    fn garbage_is_refused() {
        assert!(Sketch::decode(&[2, 0, 0]).is_none());
        assert!(Sketch::decode(&[1, 0, 5]).is_none());
        assert!(Sketch::decode(&[
            1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ])
        .is_none());
        let mut good = Sketch::new();
        good.add(10);
        let mut bytes = good.encode();
        bytes.push(0);
        assert!(Sketch::decode(&bytes).is_none());
    }
}
