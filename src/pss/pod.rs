//! A read-only view of a pod as the upstream checks see it, plus the small
//! formatting helpers (`joinQuote`, `pluralize`, `%q`) whose exact output the
//! upstream messages depend on.
//!
//! Values arrive as untyped JSON. Upstream works on decoded Go structs, so a
//! missing pointer field is `nil` and a missing string field is `""`. We mirror
//! that: anything missing, `null` or of the wrong JSON type is treated as
//! absent, and an absent string inside a present object reads as `""` (its Go
//! zero value). Nothing here panics on odd input.

use serde_json::{Map, Value};

/// A JSON object, the only shape a Kubernetes struct can have.
pub(crate) type Obj = Map<String, Value>;

/// `v` as an object, or `None` for anything else (including `null`).
pub(crate) fn as_obj(v: Option<&Value>) -> Option<&Obj> {
    v.and_then(Value::as_object)
}

/// The object at `key`, if it is one.
pub(crate) fn obj<'a>(o: &'a Obj, key: &str) -> Option<&'a Obj> {
    as_obj(o.get(key))
}

/// The boolean at `key`, if it is one (a `*bool` that is non-nil).
pub(crate) fn boolean(o: &Obj, key: &str) -> Option<bool> {
    o.get(key).and_then(Value::as_bool)
}

/// The string at `key`, if it is one (a `*string` that is non-nil).
pub(crate) fn string<'a>(o: &'a Obj, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// The string at `key` with Go's zero value: `""` when absent.
pub(crate) fn string_or_empty<'a>(o: &'a Obj, key: &str) -> &'a str {
    string(o, key).unwrap_or("")
}

/// The array at `key`, or an empty slice.
pub(crate) fn array<'a>(o: &'a Obj, key: &str) -> &'a [Value] {
    o.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

/// The strings of the array at `key`; non-string items are skipped.
pub(crate) fn strings<'a>(o: &'a Obj, key: &str) -> impl Iterator<Item = &'a str> {
    array(o, key).iter().filter_map(Value::as_str)
}

/// Whether the number at `key` is present and zero. Integers are what the API
/// accepts; a float that equals zero is counted too, to err on the strict side.
pub(crate) fn is_zero(o: &Obj, key: &str) -> bool {
    match o.get(key) {
        Some(Value::Number(n)) => n.as_i64() == Some(0) || n.as_u64() == Some(0) || n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// One container of any kind, as `visitContainers` hands it to a check.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Container<'a> {
    /// `name`, or `""` when missing (Go's zero value).
    pub name: &'a str,
    pub obj: &'a Obj,
}

impl<'a> Container<'a> {
    /// `securityContext`, when it is an object.
    pub fn security_context(&self) -> Option<&'a Obj> {
        obj(self.obj, "securityContext")
    }
}

/// The pod (or pod template) under evaluation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pod<'a> {
    meta: Option<&'a Obj>,
    spec: Option<&'a Obj>,
}

impl<'a> Pod<'a> {
    pub fn new(meta: Option<&'a Value>, spec: &'a Value) -> Self {
        Pod { meta: as_obj(meta), spec: spec.as_object() }
    }

    /// A top-level PodSpec boolean that is a plain `bool` in Go: absent is false.
    pub fn spec_flag(&self, key: &str) -> bool {
        self.spec.and_then(|s| boolean(s, key)).unwrap_or(false)
    }

    /// `spec.securityContext`, when it is an object.
    pub fn security_context(&self) -> Option<&'a Obj> {
        self.spec.and_then(|s| obj(s, "securityContext"))
    }

    /// Every container in upstream `visitContainers` order: initContainers,
    /// containers, then ephemeralContainers. Non-object entries are skipped.
    pub fn containers(&self) -> Vec<Container<'a>> {
        let Some(spec) = self.spec else { return Vec::new() };
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(|key| array(spec, key))
            .filter_map(Value::as_object)
            .map(|o| Container { name: string_or_empty(o, "name"), obj: o })
            .collect()
    }

    /// `spec.volumes` entries that are objects.
    pub fn volumes(&self) -> Vec<&'a Obj> {
        self.spec.map_or(&[][..], |s| array(s, "volumes")).iter().filter_map(Value::as_object).collect()
    }

    /// Annotations with string values (a `map[string]string` cannot hold anything else).
    pub fn annotations(&self) -> Vec<(&'a str, &'a str)> {
        let Some(a) = self.meta.and_then(|m| obj(m, "annotations")) else { return Vec::new() };
        a.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v))).collect()
    }

    /// One annotation, if present with a string value.
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        self.meta.and_then(|m| obj(m, "annotations")).and_then(|a| string(a, key))
    }

    /// `spec.os.name == "windows"`, the switch for the 1.25+ Windows exemptions.
    pub fn is_windows(&self) -> bool {
        self.spec.and_then(|s| obj(s, "os")).and_then(|os| string(os, "name")) == Some("windows")
    }

    /// Upstream `relaxPolicyForUserNamespacePod`: `spec.hostUsers` is set and false.
    pub fn in_user_namespace(&self) -> bool {
        self.spec.and_then(|s| boolean(s, "hostUsers")) == Some(false)
    }
}

/// Upstream `joinQuote`: wrap each item in double quotes, no escaping.
pub(crate) fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let inner: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    format!("\"{}\"", inner.join("\", \""))
}

/// Upstream `pluralize`.
pub(crate) fn pluralize<'s>(singular: &'s str, plural: &'s str, count: usize) -> &'s str {
    if count == 1 { singular } else { plural }
}

/// `container "a"` / `containers "a", "b"`: the prefix most details start with.
pub(crate) fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!("{} {}", pluralize("container", "containers", names.len()), join_quote(names))
}

/// Go's `%q` for a string: double-quoted with Go escapes, printable Unicode kept.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() && (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\U{:08x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn join_quote_and_pluralize_match_upstream() {
        assert_eq!(join_quote::<&str>(&[]), "");
        assert_eq!(join_quote(&["a"]), "\"a\"");
        assert_eq!(join_quote(&["a", "b"]), "\"a\", \"b\"");
        assert_eq!(containers_phrase(&["a", "b"]), "containers \"a\", \"b\"");
        assert_eq!(containers_phrase(&["a"]), "container \"a\"");
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("unconfined"), "\"unconfined\"");
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    }

    #[test]
    fn visit_order_is_init_regular_ephemeral() {
        let spec = json!({
            "ephemeralContainers": [{"name": "e"}],
            "containers": [{"name": "c"}, "junk", {"image": "x"}],
            "initContainers": [{"name": "i"}],
        });
        let pod = Pod::new(None, &spec);
        let names: Vec<&str> = pod.containers().iter().map(|c| c.name).collect();
        assert_eq!(names, ["i", "c", "", "e"]);
    }

    #[test]
    fn odd_shapes_are_absent() {
        let spec =
            json!({"securityContext": "x", "containers": {"name": "c"}, "os": {"name": 3}, "hostUsers": "false"});
        let meta = json!({"annotations": {"a": 1, "b": "2"}});
        let pod = Pod::new(Some(&meta), &spec);
        assert!(pod.security_context().is_none());
        assert!(pod.containers().is_empty());
        assert!(!pod.is_windows());
        assert!(!pod.in_user_namespace());
        assert_eq!(pod.annotations(), [("b", "2")]);
        let not_an_object = json!([1, 2]);
        assert!(Pod::new(None, &not_an_object).containers().is_empty());
    }
}
