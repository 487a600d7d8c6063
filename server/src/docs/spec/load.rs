//! Text to `serde_json::Value`, for JSON and YAML, with a budget on the size of the result
//! (YAML aliases can make a small text expand to an enormous document) and user-facing
//! error messages with line and column. Both parsers stop at 128 levels of nesting.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::SpecFormat;

/// What a node costs against the budget (strings cost their length too).
const NODE_COST: usize = 4;

/// Parses `text` as `format`, or says why not in a user-facing message.
pub(super) fn load(text: &str, format: SpecFormat) -> Result<Value, String> {
    // A plain document costs at most about NODE_COST per byte of text; aliases that
    // blow it up past that are refused.
    let budget = Cell::new(NODE_COST * text.len() + (1 << 20));
    let seed = Budgeted { budget: &budget };
    match format {
        SpecFormat::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = seed.deserialize(&mut de).map_err(json_error)?;
            de.end().map_err(json_error)?;
            Ok(value)
        }
        SpecFormat::Yaml => {
            serde_saphyr::with_deserializer_from_str_with_options(text, yaml_options(), |de| {
                seed.deserialize(de)
            })
            .map_err(|e| yaml_error(&e))
        }
    }
}

/// YAML 1.2's core schema (`yes`/`on` stay text, as in JSON Schema examples); `.nan` and
/// `.inf` reach the visitor (which makes them `null`); plain messages, no snippets.
fn yaml_options() -> serde_saphyr::Options {
    let mut o = serde_saphyr::Options::default();
    o.with_snippet = false;
    o.strict_booleans = true;
    o.non_finite_float_policy = serde_saphyr::options::NonFiniteFloatPolicy::PassThrough;
    o
}

fn json_error(e: serde_json::Error) -> String {
    let message = strip_position(&e.to_string());
    if e.line() > 0 {
        format!(
            "Invalid JSON at line {}, column {}: {message}.",
            e.line(),
            e.column()
        )
    } else {
        format!("Invalid JSON: {message}.")
    }
}

fn yaml_error(e: &serde_saphyr::Error) -> String {
    let raw = e.without_snippet().to_string();
    if raw.contains("multiple YAML documents") {
        return "Invalid YAML: the text holds more than one YAML document (separated by \
                `---`); an API spec is a single document."
            .to_string();
    }
    let message = strip_position(&raw);
    match e.location().filter(|l| l.line() > 0) {
        Some(l) => format!(
            "Invalid YAML at line {}, column {}: {message}.",
            l.line(),
            l.column()
        ),
        None => format!("Invalid YAML: {message}."),
    }
}

/// Drops the parsers' own " at line N column M" / " at position N" (said up front instead).
fn strip_position(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 4..];
        let skip = position_len(after);
        if skip == 0 {
            out.push_str(" at ");
        }
        rest = &after[skip..];
    }
    out.push_str(rest);
    out.trim_end_matches('.').to_string()
}

/// The length of "line N column M" (or "line N, column M") or "position N" at the start
/// of `s`, else 0.
fn position_len(s: &str) -> usize {
    fn digits(s: &str) -> usize {
        s.bytes().take_while(u8::is_ascii_digit).count()
    }
    if let Some(r) = s.strip_prefix("line ") {
        let n = digits(r);
        if n > 0 {
            for sep in [" column ", ", column "] {
                if let Some(r2) = r[n..].strip_prefix(sep) {
                    let m = digits(r2);
                    if m > 0 {
                        return 5 + n + sep.len() + m;
                    }
                }
            }
        }
    } else if let Some(r) = s.strip_prefix("position ") {
        let n = digits(r);
        if n > 0 {
            return 9 + n;
        }
    }
    0
}

/// Deserializes a `serde_json::Value` while charging `budget`.
#[derive(Clone, Copy)]
struct Budgeted<'b> {
    budget: &'b Cell<usize>,
}

impl Budgeted<'_> {
    fn charge<E: de::Error>(&self, cost: usize) -> Result<(), E> {
        let left = self.budget.get();
        if cost > left {
            return Err(E::custom(
                "the document is too large once its aliases (`*name`) are expanded",
            ));
        }
        self.budget.set(left - cost);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Budgeted<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key, charged like a string.
struct Key<'b>(Budgeted<'b>);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        let s = String::deserialize(d)?;
        self.0.charge(NODE_COST + s.len())?;
        Ok(s)
    }
}

use serde::Deserialize;

impl<'de> Visitor<'de> for Budgeted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        // NaN and infinities (YAML `.nan`, `.inf`) have no JSON form.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.charge(NODE_COST + v.len())?;
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.charge(NODE_COST + v.len())?;
        Ok(Value::String(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.charge(NODE_COST)?;
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(NODE_COST)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.charge(NODE_COST)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(Key(self))? {
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_stripped() {
        assert_eq!(
            strip_position("expected value at line 1 column 2"),
            "expected value"
        );
        assert_eq!(
            strip_position("a at line 3 column 5, while parsing b at line 1 column 1"),
            "a, while parsing b"
        );
        assert_eq!(strip_position("look at this"), "look at this");
    }

    #[test]
    fn yaml_numbers_as_keys_and_aliases() {
        let v = load(
            "responses:\n  200: &a {x: 1}\n  404: *a\n",
            SpecFormat::Yaml,
        )
        .unwrap();
        assert_eq!(v["responses"]["200"]["x"], 1);
        assert_eq!(v["responses"]["404"]["x"], 1);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [");
        text.push_str(&"x,".repeat(20_000));
        text.push_str("x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n");
        let e = load(&text, SpecFormat::Yaml).unwrap_err();
        assert!(e.contains("aliases"), "{e}");
    }
}
