//! Schemas: the named ones (`components/schemas` or `definitions`) with the graph of
//! references between them, type summaries (`array<Pet>`), constraint lines and the
//! nested property trees. See the module docs for the expansion strategy.

use serde_json::{Map, Value};

use super::components::Comp;
use super::html::{desc_of, esc};
use super::refs::{ref_of, resolve};
use super::render::Renderer;
use super::MAX_SCHEMA_DEPTH;

/// How deep a one-line type summary goes (`array<array<…>>`).
const MAX_SUMMARY_DEPTH: usize = 6;

/// Where a schema is being rendered.
#[derive(Clone, Copy)]
pub(super) struct St {
    /// Levels of inline nesting so far.
    depth: usize,
    /// The named schema being defined, for the recursion marker.
    owner: Option<usize>,
}

impl St {
    /// A schema in an operation.
    pub fn op() -> St {
        St {
            depth: 0,
            owner: None,
        }
    }
    fn deeper(self) -> St {
        St {
            depth: self.depth + 1,
            ..self
        }
    }
}

fn has_children(obj: &Map<String, Value>) -> bool {
    [
        "properties",
        "patternProperties",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
    ]
    .iter()
    .any(|k| obj.contains_key(*k))
        || obj
            .get("additionalProperties")
            .is_some_and(Value::is_object)
}

impl<'a> Renderer<'a> {
    /// A schema attached to an operation (body, response, parameter): its type line,
    /// description, constraints and property tree.
    pub(super) fn schema_root(&mut self, schema: &'a Value) {
        self.out
            .push_str("<div class=\"spec-schema-root\"><p class=\"spec-type\">");
        self.summary(schema, None, 0);
        self.out.push_str("</p>");
        desc_of(&mut self.out, schema);
        self.details(schema);
        self.children(schema, St::op());
        self.out.push_str("</div>");
    }

    /// The one-line type of `schema`, with links to named schemas.
    pub(super) fn summary(&mut self, schema: &'a Value, owner: Option<usize>, depth: usize) {
        if depth > MAX_SUMMARY_DEPTH {
            self.out.push('…');
            return;
        }
        let obj = match schema {
            Value::Object(o) => o,
            Value::Bool(false) => return self.out.push_str("never"),
            _ => return self.out.push_str("any"),
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return self.ref_summary(r, owner, depth);
        }
        let types: Vec<&str> = match obj.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.is_empty() {
            let combinator = [("oneOf", " | "), ("anyOf", " | "), ("allOf", " &amp; ")]
                .into_iter()
                .find_map(|(k, sep)| Some((obj.get(k)?.as_array()?, sep)));
            if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
                self.type_word("object", obj, owner, depth);
            } else if obj.contains_key("items") {
                self.type_word("array", obj, owner, depth);
            } else if let Some((alts, sep)) = combinator.filter(|(a, _)| !a.is_empty()) {
                if alts.len() > 6 {
                    self.out
                        .push_str(if sep == " | " { "one of " } else { "all of " });
                    self.out.push_str(&alts.len().to_string());
                }
                for (i, alt) in alts.iter().enumerate().take(6) {
                    if i > 0 {
                        self.out.push_str(sep);
                    }
                    self.summary(alt, owner, depth + 1);
                }
            } else if let Some(first) = obj
                .get("enum")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                self.out.push_str(match first {
                    Value::String(_) => "string",
                    Value::Number(n) if n.is_f64() => "number",
                    Value::Number(_) => "integer",
                    Value::Bool(_) => "boolean",
                    _ => "enum",
                });
            } else if obj.contains_key("const") {
                self.out.push_str("const");
            } else {
                self.out.push_str("any");
            }
        }
        // The format goes after the first type that is not null: "string (uuid) | null".
        let mut format = obj.get("format").and_then(Value::as_str);
        for (i, t) in types.iter().enumerate() {
            if i > 0 {
                self.out.push_str(" | ");
            }
            self.type_word(t, obj, owner, depth);
            if *t != "null" || types.len() == 1 {
                if let Some(f) = format.take() {
                    self.out.push_str(" (");
                    esc(&mut self.out, f);
                    self.out.push(')');
                }
            }
        }
        if let Some(f) = format {
            self.out.push_str(" (");
            esc(&mut self.out, f);
            self.out.push(')');
        }
        let nullable = ["nullable", "x-nullable"]
            .iter()
            .any(|k| obj.get(*k).and_then(Value::as_bool) == Some(true));
        if nullable && !types.contains(&"null") {
            self.out.push_str(" | null");
        }
    }

    fn type_word(
        &mut self,
        t: &str,
        obj: &'a Map<String, Value>,
        owner: Option<usize>,
        depth: usize,
    ) {
        let ap = obj.get("additionalProperties").filter(|v| v.is_object());
        match t {
            "array" => {
                self.out.push_str("array&lt;");
                match obj.get("items").filter(|i| i.is_object() || i.is_boolean()) {
                    Some(items) => self.summary(items, owner, depth + 1),
                    None => self.out.push_str("any"),
                }
                self.out.push_str("&gt;");
            }
            "object" if ap.is_some() && !obj.contains_key("properties") => {
                self.out.push_str("map&lt;string, ");
                self.summary(ap.unwrap_or(&Value::Null), owner, depth + 1);
                self.out.push_str("&gt;");
            }
            other => esc(&mut self.out, other),
        }
    }

    fn ref_summary(&mut self, r: &'a str, owner: Option<usize>, depth: usize) {
        match self.comps.lookup(r) {
            Some((c, true)) => {
                self.used[c] = true;
                let recursive = self.comps.recursive(owner, c);
                self.out.push_str(if recursive {
                    "<a class=\"spec-ref spec-recursive\" href=\"#"
                } else {
                    "<a class=\"spec-ref\" href=\"#"
                });
                esc(&mut self.out, &self.comps.list[c].id);
                self.out.push_str("\">");
                if recursive {
                    self.out.push_str("↻ ");
                }
                esc(&mut self.out, self.comps.list[c].name);
                if recursive {
                    self.out.push_str(" (recursive)");
                }
                self.out.push_str("</a>");
            }
            other => {
                if let Some((c, _)) = other {
                    self.used[c] = true;
                }
                match resolve(self.doc, r) {
                    Some(target) => self.summary(target, owner, depth + 1),
                    None => {
                        self.out.push_str("<code class=\"spec-external-ref\">");
                        esc(&mut self.out, r);
                        self.out.push_str("</code>");
                    }
                }
            }
        }
    }

    /// The nested parts of `schema`: properties, item properties, alternatives.
    pub(super) fn children(&mut self, schema: &'a Value, st: St) {
        let Some(obj) = schema.as_object() else {
            return;
        };
        if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
            return self.ref_children(r, st);
        }
        if st.depth >= MAX_SCHEMA_DEPTH {
            if has_children(obj) {
                self.out
                    .push_str("<ul class=\"spec-schema\"><li class=\"spec-cut\">…</li></ul>");
            }
            return;
        }
        // The properties of the schema and, merged, of its `allOf` members.
        let mut merged = Merged::default();
        let mut visited = vec![schema as *const Value];
        self.merge(obj, &mut merged, &mut visited, 0);
        // The members are listed unless the type summary already names them.
        let summed_up = !["type", "properties", "additionalProperties", "items"]
            .iter()
            .any(|k| obj.contains_key(*k));
        let members = obj.get("allOf").and_then(Value::as_array);
        if let Some(members) = members.filter(|_| !summed_up) {
            self.out
                .push_str("<p class=\"spec-combinator-kind\">All of: ");
            for (i, m) in members.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                self.summary(m, st.owner, 0);
            }
            self.out.push_str("</p>");
        }
        let patterns = obj.get("patternProperties").and_then(Value::as_object);
        let additional = obj.get("additionalProperties").filter(|v| v.is_object());
        // A pure map is summed up by its type, `map<string, X>`: no row for it.
        let pure_map = merged.props.is_empty() && patterns.is_none_or(Map::is_empty);
        if !pure_map {
            self.out.push_str("<ul class=\"spec-schema\">");
            for &(name, p) in &merged.props {
                let required = merged.required.contains(&name);
                self.prop_row(name, p, required, st, Row::Property);
            }
            for (pattern, p) in patterns.into_iter().flatten() {
                self.prop_row(pattern, p, false, st, Row::Pattern);
            }
            if let Some(ap) = additional {
                self.prop_row("additional properties", ap, false, st, Row::Additional);
            }
            self.out.push_str("</ul>");
        } else if let Some(ap) = additional {
            self.children(ap, st.deeper());
        }
        for part in merged.parts {
            self.other_children(part, st);
        }
    }

    /// Collects the properties of `obj` and of its `allOf` members (followed through
    /// `$ref`s once each), and the objects whose other parts (items, alternatives) show.
    fn merge(
        &mut self,
        obj: &'a Map<String, Value>,
        merged: &mut Merged<'a>,
        visited: &mut Vec<*const Value>,
        depth: usize,
    ) {
        merged.parts.push(obj);
        for (name, p) in obj
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !merged.props.iter().any(|(n, _)| *n == name) {
                merged.props.push((name, p));
            }
        }
        for r in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                merged.required.push(r);
            }
        }
        if depth >= MAX_SCHEMA_DEPTH {
            return;
        }
        for member in obj
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = ref_of(member) {
                if let Some((c, _)) = self.comps.lookup(r) {
                    self.used[c] = true;
                }
            }
            let Some(target) = super::refs::deref(self.doc, member) else {
                continue;
            };
            let ptr = target as *const Value;
            if visited.contains(&ptr) {
                continue;
            }
            visited.push(ptr);
            if let Some(m) = target.as_object() {
                self.merge(m, merged, visited, depth + 1);
            }
        }
    }

    /// Items, alternatives, `not` and the discriminator of one (merged) schema object.
    fn other_children(&mut self, obj: &'a Map<String, Value>, st: St) {
        if let Some(items) = obj.get("items").filter(|i| i.is_object()) {
            self.children(items, st.deeper());
        }
        for (key, label) in [("oneOf", "One of"), ("anyOf", "Any of")] {
            let Some(alts) = obj.get(key).and_then(Value::as_array) else {
                continue;
            };
            self.out
                .push_str("<div class=\"spec-combinator\"><p class=\"spec-combinator-kind\">");
            self.out.push_str(label);
            self.out.push_str(":</p><ol class=\"spec-alts\">");
            for alt in alts {
                self.out.push_str("<li><span class=\"spec-type\">");
                self.summary(alt, st.owner, 0);
                self.out.push_str("</span>");
                if ref_of(alt).is_none() {
                    desc_of(&mut self.out, alt);
                    self.details(alt);
                }
                self.children(alt, st.deeper());
                self.out.push_str("</li>");
            }
            self.out.push_str("</ol></div>");
        }
        if let Some(not) = obj.get("not") {
            self.out
                .push_str("<p class=\"spec-not\">Not: <span class=\"spec-type\">");
            self.summary(not, st.owner, 0);
            self.out.push_str("</span></p>");
        }
        if let Some(d) = obj.get("discriminator") {
            let name = d
                .as_str()
                .or_else(|| d.get("propertyName").and_then(Value::as_str));
            if let Some(name) = name {
                self.out
                    .push_str("<p class=\"spec-discriminator\">Discriminator: <code>");
                esc(&mut self.out, name);
                self.out.push_str("</code></p>");
            }
        }
    }

    /// What a `$ref` points at, when it is not a named schema (those are links to
    /// their definition): a part of the document, expanded in place.
    fn ref_children(&mut self, r: &'a str, st: St) {
        if let Some((c, exact)) = self.comps.lookup(r) {
            self.used[c] = true;
            if exact {
                return;
            }
        }
        let Some(target) = resolve(self.doc, r).filter(|t| ref_of(t).is_none()) else {
            return;
        };
        // Such references could be stacked to blow up the output: they get a budget.
        if self.pointer_budget == 0 {
            return;
        }
        let before = self.out.len();
        self.children(target, st.deeper());
        let added = self.out.len() - before;
        self.pointer_budget = self.pointer_budget.saturating_sub(added);
    }

    fn prop_row(&mut self, name: &str, p: &'a Value, required: bool, st: St, kind: Row) {
        let flag = |k: &str| p.get(k).and_then(Value::as_bool) == Some(true);
        let deprecated = flag("deprecated");
        let out = &mut self.out;
        out.push_str(if deprecated {
            "<li class=\"spec-deprecated\">"
        } else {
            "<li>"
        });
        match kind {
            Row::Property => {
                out.push_str("<code class=\"spec-prop-name\">");
                esc(out, name);
                out.push_str("</code>");
            }
            Row::Pattern => {
                out.push_str("<code class=\"spec-prop-name spec-prop-pattern\">/");
                esc(out, name);
                out.push_str("/</code>");
            }
            Row::Additional => {
                out.push_str("<em class=\"spec-prop-name\">additional properties</em>")
            }
        }
        out.push_str(" <span class=\"spec-type\">");
        self.summary(p, st.owner, 0);
        let out = &mut self.out;
        out.push_str("</span>");
        if required {
            out.push_str(" <span class=\"spec-required\">required</span>");
        }
        if deprecated {
            out.push_str(" <span class=\"spec-deprecated-label\">Deprecated</span>");
        }
        if flag("readOnly") {
            out.push_str(" <span class=\"spec-flag\">read-only</span>");
        }
        if flag("writeOnly") {
            out.push_str(" <span class=\"spec-flag\">write-only</span>");
        }
        desc_of(out, p);
        self.details(p);
        self.children(p, st.deeper());
        self.out.push_str("</li>");
    }

    /// The Schemas section: every named schema, or with a tag filter those that the
    /// shown operations use (directly or not).
    pub(super) fn schemas_section(&mut self, filtered: bool) {
        let n = self.comps.list.len();
        let include = if filtered {
            self.comps.reachable(&self.used)
        } else {
            vec![true; n]
        };
        if !include.contains(&true) {
            return;
        }
        self.out
            .push_str("<section class=\"spec-schemas\" id=\"spec-schemas\"><h3>Schemas</h3>");
        for c in (0..n).filter(|&c| include[c]) {
            let Comp { name, schema, .. } = self.comps.list[c];
            let deprecated = schema.get("deprecated").and_then(Value::as_bool) == Some(true);
            self.out.push_str(if deprecated {
                "<article class=\"spec-schema-def spec-deprecated\" id=\""
            } else {
                "<article class=\"spec-schema-def\" id=\""
            });
            esc(&mut self.out, &self.comps.list[c].id);
            self.out.push_str("\"><h4 class=\"spec-schema-name\">");
            esc(&mut self.out, name);
            if deprecated {
                self.out
                    .push_str(" <span class=\"spec-deprecated-label\">Deprecated</span>");
            }
            self.out.push_str("</h4><p class=\"spec-type\">");
            self.summary(schema, Some(c), 0);
            self.out.push_str("</p>");
            desc_of(&mut self.out, schema);
            self.details(schema);
            let st = St {
                depth: 0,
                owner: Some(c),
            };
            self.children(schema, st);
            self.out.push_str("</article>");
        }
        self.out.push_str("</section>");
    }
}

/// Properties gathered from a schema and its `allOf` members.
#[derive(Default)]
struct Merged<'a> {
    props: Vec<(&'a str, &'a Value)>,
    required: Vec<&'a str>,
    /// The schema objects merged, for their items and alternatives.
    parts: Vec<&'a Map<String, Value>>,
}

#[derive(Clone, Copy)]
enum Row {
    Property,
    Pattern,
    Additional,
}
