//! The named schemas (`components/schemas` or `definitions`): ids, `$ref` lookup, and
//! the graph of references between them with its cycles (for the recursion marker and
//! for the schemas a tag's operations use).

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::html::slug;
use super::refs::{pointer_tokens, walk_refs};
use super::Dialect;

/// A named schema.
pub(super) struct Comp<'a> {
    pub name: &'a str,
    pub id: String,
    pub schema: &'a Value,
}

/// The named schemas, and which of them reference each other in a cycle.
pub(super) struct Components<'a> {
    pub list: Vec<Comp<'a>>,
    by_name: HashMap<&'a str, usize>,
    /// `#/components/schemas/` or `#/definitions/`.
    prefix: &'static str,
    prefix_tokens: &'static [&'static str],
    /// For each named schema, the named schemas its definition references.
    edges: Vec<Vec<usize>>,
    /// Strongly connected component of each named schema.
    scc: Vec<usize>,
}

impl<'a> Components<'a> {
    pub fn new(doc: &'a Value, dialect: Dialect) -> Self {
        let swagger = dialect == Dialect::Swagger2;
        let (prefix, prefix_tokens, map): (_, &'static [&'static str], _) = if swagger {
            ("#/definitions/", &["definitions"], doc.get("definitions"))
        } else {
            (
                "#/components/schemas/",
                &["components", "schemas"],
                doc.get("components").and_then(|c| c.get("schemas")),
            )
        };
        let mut list = Vec::new();
        let mut by_name = HashMap::new();
        let mut ids = HashSet::new();
        for (name, schema) in map.and_then(Value::as_object).into_iter().flatten() {
            let base = format!("schema-{}", slug(name));
            let mut id = base.clone();
            let mut n = 2;
            while !ids.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            by_name.insert(name.as_str(), list.len());
            list.push(Comp { name, id, schema });
        }
        let mut comps = Components {
            list,
            by_name,
            prefix,
            prefix_tokens,
            edges: Vec::new(),
            scc: Vec::new(),
        };
        let mut edges = Vec::with_capacity(comps.list.len());
        for c in &comps.list {
            let mut targets: Vec<usize> = Vec::new();
            walk_refs(
                c.schema,
                swagger,
                &mut Vec::new(),
                &mut |r, _| {
                    if let Some((t, _)) = comps.lookup(r) {
                        if !targets.contains(&t) {
                            targets.push(t);
                        }
                    }
                },
                &mut |_| {},
            );
            edges.push(targets);
        }
        comps.scc = strongly_connected(&edges);
        comps.edges = edges;
        comps
    }

    /// The named schema that reference `r` points into, and whether it points at the
    /// schema itself (rather than into it).
    pub fn lookup(&self, r: &str) -> Option<(usize, bool)> {
        if let Some(rest) = r.strip_prefix(self.prefix) {
            if !rest.contains(['/', '~', '%']) {
                return self.by_name.get(rest).map(|&i| (i, true));
            }
        }
        let tokens = pointer_tokens(r)?;
        let n = self.prefix_tokens.len();
        if tokens.len() <= n || tokens.iter().zip(self.prefix_tokens).any(|(a, b)| a != b) {
            return None;
        }
        let &i = self.by_name.get(tokens[n].as_ref())?;
        Some((i, tokens.len() == n + 1))
    }

    /// Whether a reference to `c` inside the expansion of `owner` leads back to `owner`.
    pub fn recursive(&self, owner: Option<usize>, c: usize) -> bool {
        owner.is_some_and(|o| o == c || self.scc[o] == self.scc[c])
    }

    /// The named schemas reachable from those marked in `roots`.
    pub fn reachable(&self, roots: &[bool]) -> Vec<bool> {
        let mut seen = roots.to_vec();
        let mut stack: Vec<usize> = (0..roots.len()).filter(|&i| roots[i]).collect();
        while let Some(c) = stack.pop() {
            for &t in &self.edges[c] {
                if !seen[t] {
                    seen[t] = true;
                    stack.push(t);
                }
            }
        }
        seen
    }
}

/// Tarjan's algorithm, without recursion: the component number of each node.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut index, mut low, mut comp) = (vec![UNSEEN; n], vec![0; n], vec![UNSEEN; n]);
    let mut on_stack = vec![false; n];
    let (mut stack, mut calls): (Vec<usize>, Vec<(usize, usize)>) = (Vec::new(), Vec::new());
    let (mut next_index, mut next_comp) = (0, 0);
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        calls.push((start, 0));
        while let Some(&mut (v, ref mut next_edge)) = calls.last_mut() {
            if let Some(&w) = edges[v].get(*next_edge) {
                *next_edge += 1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn cycles_share_a_component() {
        // 0 -> 1 -> 2 -> 1, 3 -> 3, 4 alone
        let comp = strongly_connected(&[vec![1], vec![2], vec![1], vec![3], vec![]]);
        assert_eq!(comp[1], comp[2]);
        assert_ne!(comp[0], comp[1]);
        assert_ne!(comp[3], comp[4]);
        assert_ne!(comp[0], comp[4]);
    }
}
