//! Labels as the port graph keeps them: one object's labels in one
//! allocation (a big stream's pods each carry a name of their own; shared
//! strings cost more for those than they saved for the repeated keys).

use serde_json::Value;
use std::borrow::Cow;
use std::hash::{Hash, Hasher};

/// Label values that are not strings (the API rejects them, but a stream
/// may hold them) are kept as their JSON text after this mark, so that they
/// never equal a string.
const NOT_A_STRING: char = '\u{0}';

/// One object's labels, in their order: each key and value written as its
/// length in bytes, `:`, then itself (`3:app3:web`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(Box<str>);

impl Labels {
    /// The labels of a JSON object (none if it is not one).
    pub fn of(map: Option<&Value>) -> Labels {
        let Some(map) = map.and_then(Value::as_object) else { return Labels::default() };
        Labels::from_pairs(map.iter().map(|(k, v)| (k.as_str(), text(v))))
    }

    /// Labels from (key, value) pairs, values as [`text`] writes them.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Labels {
        use std::fmt::Write;
        let pairs: Vec<(K, V)> = pairs.into_iter().collect();
        let strings = || pairs.iter().flat_map(|(k, v)| [k.as_ref(), v.as_ref()]);
        // Made in one allocation of the exact size: it is kept for the run.
        let digits = |n: usize| n.checked_ilog10().map_or(1, |d| d as usize + 1);
        let size = strings().map(|s| digits(s.len()) + 1 + s.len()).sum();
        let mut out = String::with_capacity(size);
        for s in strings() {
            // Writing to a String cannot fail.
            let _ = write!(out, "{}:{s}", s.len());
        }
        Labels(out.into_boxed_str())
    }

    /// One label.
    pub fn single(key: &str, value: &str) -> Labels {
        Labels::from_pairs([(key, value)])
    }

    /// A label's value, if it is a string.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.text(key).filter(|v| !v.starts_with(NOT_A_STRING))
    }

    /// Whether the label `key` is `value` (as a selector compares them).
    pub fn has(&self, key: &str, value: &Value) -> bool {
        self.text(key) == Some(text(value).as_ref())
    }

    /// Whether these labels, read as a Service selector, select an object
    /// with `labels`: every pair present. An empty selector selects nothing
    /// harden can see (the Service's endpoints are managed by hand).
    pub fn selects(&self, labels: &Labels) -> bool {
        !self.0.is_empty() && self.iter().all(|(k, v)| labels.text(k) == Some(v))
    }

    /// The first label, values as [`text`] writes them.
    pub fn first_pair(&self) -> Option<(&str, &str)> {
        self.iter().next()
    }

    /// Every label, values as [`text`] writes them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut rest: &str = &self.0;
        let mut next = move || {
            let (len, tail) = rest.split_once(':')?;
            let (s, tail) = tail.split_at_checked(len.parse().ok()?)?;
            rest = tail;
            Some(s)
        };
        std::iter::from_fn(move || Some((next()?, next()?)))
    }

    fn text(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// A label value as the index compares it: a string as it is, anything
/// else as marked JSON.
pub fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        other => Cow::Owned(format!("{NOT_A_STRING}{other}")),
    }
}

/// A (namespace, key, value) triple as a number: how the graph keeps the
/// labels of pods that need only be found, never named (see
/// `graph::OtherPods`), and how Services are looked up by selector.
/// Values as [`text`] writes them.
pub fn triple(namespace: &str, key: &str, value: &str) -> u64 {
    // Fixed keys: the same triple hashes the same for every pod of a run.
    let mut h = std::hash::DefaultHasher::new();
    (namespace, key, value).hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_compare_as_strings_and_other_values_never_equal_a_string() {
        let l = Labels::of(Some(&json!({"app": "web", "v": 1, "s": "1"})));
        assert!(l.has("app", &json!("web")));
        assert!(l.has("v", &json!(1)) && !l.has("v", &json!("1")));
        assert!(l.has("s", &json!("1")) && !l.has("s", &json!(1)));
        assert_eq!((l.get("app"), l.get("v"), l.get("x")), (Some("web"), None, None));
    }

    #[test]
    fn labels_come_back_as_they_went_in_whatever_their_text() {
        let pairs = [("app", "web"), ("", ""), ("a:b", "12:x"), ("ключ", "значение"), ("k", "\u{0}{\"a\":1}")];
        let l = Labels::from_pairs(pairs);
        assert_eq!(l.iter().collect::<Vec<_>>(), pairs);
        assert_eq!(l.first_pair(), Some(("app", "web")));
        assert_eq!((l.get("a:b"), l.get("ключ"), l.get("k")), (Some("12:x"), Some("значение"), None));
        assert_eq!(Labels::default().iter().count(), 0);
    }

    #[test]
    fn a_service_selector_needs_every_pair_and_an_empty_one_selects_nothing() {
        let l = Labels::of(Some(&json!({"app": "web", "tier": "fe", "v": 1})));
        let sel = |v: Value| Labels::of(Some(&v));
        assert!(sel(json!({"app": "web"})).selects(&l));
        assert!(sel(json!({"v": 1})).selects(&l) && !sel(json!({"v": "1"})).selects(&l));
        assert!(!sel(json!({"app": "web", "tier": "be"})).selects(&l));
        assert!(!sel(json!({})).selects(&l));
        assert!(!Labels::of(None).selects(&l));
    }

    #[test]
    fn triples_tell_namespaces_keys_and_values_apart() {
        let t = triple("a", "app", "web");
        assert_eq!(t, triple("a", "app", "web"));
        assert!(
            [triple("b", "app", "web"), triple("a", "ap", "pweb"), triple("a", "app", "we")].iter().all(|x| *x != t)
        );
    }
}
