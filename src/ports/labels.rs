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

/// What a label selector asks of an object's labels.
pub trait LabelLookup {
    /// Whether the label `key` is `value` (as [`text`] writes values).
    fn is(&self, key: &str, value: &str) -> bool;
    /// Whether the label `key` is there with a string value.
    fn has_string(&self, key: &str) -> bool;
}

impl LabelLookup for Labels {
    fn is(&self, key: &str, value: &str) -> bool {
        self.text(key) == Some(value)
    }

    fn has_string(&self, key: &str) -> bool {
        self.text(key).is_some_and(|v| !v.starts_with(NOT_A_STRING))
    }
}

/// An object's labels as numbers, for objects whose labels are only ever
/// matched by label selectors, never read back (a Service's, which a
/// ServiceMonitor selects): each label's (key, value) and, for a string
/// value, its key, hashed, sorted. A stream holds many Services; this is
/// half the size of their labels' text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelHashes(Box<[u64]>);

impl LabelHashes {
    /// The hashes of a JSON object's labels (none if it is not one).
    pub fn of(map: Option<&Value>) -> LabelHashes {
        let labels = map.and_then(Value::as_object).into_iter().flatten();
        let keys = labels.clone().filter(|(_, v)| v.is_string()).map(|(k, _)| hash(&(k.as_str(),)));
        let mut hashes: Vec<u64> = labels.map(|(k, v)| hash(&(k.as_str(), text(v).as_ref()))).chain(keys).collect();
        hashes.sort_unstable();
        LabelHashes(hashes.into())
    }
}

impl LabelLookup for LabelHashes {
    fn is(&self, key: &str, value: &str) -> bool {
        self.0.binary_search(&hash(&(key, value))).is_ok()
    }

    fn has_string(&self, key: &str) -> bool {
        self.0.binary_search(&hash(&(key,))).is_ok()
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
    hash(&(namespace, key, value))
}

/// A value as a number; fixed keys: the same value hashes the same for
/// every object of a run.
fn hash(value: &impl Hash) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_compare_as_strings_and_other_values_never_equal_a_string_as_text_or_hashed() {
        let v = json!({"app": "web", "v": 1, "s": "1"});
        let (text_form, hashed) = (Labels::of(Some(&v)), LabelHashes::of(Some(&v)));
        let lookups: [&dyn LabelLookup; 2] = [&text_form, &hashed];
        for l in lookups {
            let is = |key, value: Value| l.is(key, &text(&value));
            assert!(is("app", json!("web")) && !is("app", json!("we")) && !is("ap", json!("web")));
            assert!(is("v", json!(1)) && !is("v", json!("1")));
            assert!(is("s", json!("1")) && !is("s", json!(1)));
            let strings = ["app", "v", "s", "x"].map(|k| l.has_string(k));
            assert_eq!(strings, [true, false, true, false]);
        }
    }

    #[test]
    fn labels_come_back_as_they_went_in_whatever_their_text() {
        let pairs = [("app", "web"), ("", ""), ("a:b", "12:x"), ("ключ", "значение"), ("k", "\u{0}{\"a\":1}")];
        let l = Labels::from_pairs(pairs);
        assert_eq!(l.iter().collect::<Vec<_>>(), pairs);
        assert_eq!(l.first_pair(), Some(("app", "web")));
        assert!(l.is("a:b", "12:x") && l.is("ключ", "значение") && !l.has_string("k"));
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
        let others = [triple("b", "app", "web"), triple("a", "ap", "pweb"), triple("a", "app", "we")];
        assert!(others.iter().all(|x| *x != t));
    }
}
