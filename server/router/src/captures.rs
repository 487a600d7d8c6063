//! Regex captures returned with a match.
//!
//! Captured text is stored once (a copy of the searched text) with group
//! spans into it, and group names are shared with the compiled regex, so
//! recording captures costs a few allocations regardless of the group count.

use std::sync::Arc;

/// Numbered and named captures of the matching regex(es).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captures {
    text: String,
    numbered: Vec<Option<(usize, usize)>>,
    named: Vec<(Arc<str>, usize, usize)>,
}

impl Captures {
    /// Whether there is nothing captured.
    pub fn is_empty(&self) -> bool {
        self.numbered.is_empty() && self.named.is_empty()
    }

    /// Number of numbered slots (group 0 included).
    pub fn len(&self) -> usize {
        self.numbered.len()
    }

    fn slice(&self, s: usize, e: usize) -> Option<&str> {
        self.text.get(s..e)
    }

    /// Numbered group `i` (0 is the whole match).
    pub fn get(&self, i: usize) -> Option<&str> {
        let (s, e) = (*self.numbered.get(i)?)?;
        self.slice(s, e)
    }

    /// Named group.
    pub fn name(&self, n: &str) -> Option<&str> {
        let (_, s, e) = self.named.iter().find(|(k, _, _)| &**k == n)?;
        self.slice(*s, *e)
    }

    /// Numbered groups in order; `None` for groups that did not participate.
    pub fn numbered(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        self.numbered
            .iter()
            .map(|g| g.and_then(|(s, e)| self.slice(s, e)))
    }

    /// Named groups that participated, in pattern order.
    pub fn named(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.named
            .iter()
            .filter_map(|(k, s, e)| Some((&**k, self.slice(*s, *e)?)))
    }

    /// Record the groups found in `hay` (overwriting earlier values of the
    /// same group, as Kong does across predicates).
    pub(crate) fn record(
        &mut self,
        names: &[Option<Arc<str>>],
        locs: &regex::CaptureLocations,
        hay: &str,
    ) {
        let base = self.text.len();
        self.text.push_str(hay);
        for i in 0..locs.len() {
            if let Some((s, e)) = locs.get(i) {
                if self.numbered.len() <= i {
                    self.numbered.resize(i + 1, None);
                }
                if let Some(slot) = self.numbered.get_mut(i) {
                    *slot = Some((base + s, base + e));
                }
                if let Some(Some(n)) = names.get(i) {
                    match self.named.iter_mut().find(|(k, _, _)| k == n) {
                        Some(slot) => {
                            slot.1 = base + s;
                            slot.2 = base + e;
                        }
                        None => self.named.push((n.clone(), base + s, base + e)),
                    }
                }
            }
        }
    }
}
