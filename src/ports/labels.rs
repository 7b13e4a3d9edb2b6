//! Labels as the port graph keeps them: as numbers. A stream holds many
//! pods and Services, and labels are only ever matched (by selectors),
//! never read back, so each (key, value) pair is kept as its hash ([`pair`]).
//! Two pairs that hash the same (one in 2^64) could make a selector seem to
//! select an object.

use serde_json::Value;
use std::hash::{Hash, Hasher};

/// Label values that are not strings (the API rejects them, but a stream
/// may hold them) are hashed as their JSON text after this mark, so that
/// they never equal a string.
const NOT_A_STRING: char = '\u{0}';

/// An object's labels: each label's [`pair`], sorted, then the hash of
/// each key whose value is a string (for `Exists`), sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labels(Box<[u64]>);

impl Labels {
    /// The labels of a JSON object (none if it is not one).
    pub fn of(map: Option<&Value>) -> Labels {
        let labels = map.and_then(Value::as_object).into_iter().flatten();
        Labels::from_pairs(labels.map(|(k, v)| (k.as_str(), text(v))))
    }

    /// Labels from (key, value) pairs, values as [`text`] writes them.
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (K, V)>) -> Labels {
        let (mut hashes, mut keys) = (Vec::new(), Vec::new());
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            hashes.push(pair(k, v));
            keys.push(hash(&(k, v.starts_with(NOT_A_STRING))));
        }
        hashes.sort_unstable();
        keys.sort_unstable();
        hashes.extend(keys);
        Labels(hashes.into())
    }

    /// Each label's [`pair`], sorted.
    pub fn pairs(&self) -> &[u64] {
        &self.0[..self.0.len() / 2]
    }

    /// Whether the label `key` is `value` (as [`text`] writes values).
    pub fn is(&self, key: &str, value: &str) -> bool {
        self.pairs().binary_search(&pair(key, value)).is_ok()
    }

    /// Whether the label `key` is there with a string value.
    pub fn has_string(&self, key: &str) -> bool {
        self.0[self.0.len() / 2..].binary_search(&hash(&(key, false))).is_ok()
    }
}

/// A Service's selector: each pair's [`pair`], in its order. It selects
/// an object that has every pair; an empty one selects nothing harden can
/// see (the Service's endpoints are managed by hand).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector(Box<[u64]>);

impl Selector {
    pub fn of(map: Option<&Value>) -> Selector {
        let pairs = map.and_then(Value::as_object).into_iter().flatten();
        Selector(pairs.map(|(k, v)| pair(k, &text(v))).collect())
    }

    #[cfg(test)]
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Selector {
        Selector(pairs.iter().map(|(k, v)| pair(k, v)).collect())
    }

    pub fn pairs(&self) -> &[u64] {
        &self.0
    }

    pub fn selects(&self, labels: &Labels) -> bool {
        !self.0.is_empty() && self.0.iter().all(|p| labels.pairs().binary_search(p).is_ok())
    }
}

/// A label value as the index compares it: a string as it is, anything
/// else as marked JSON.
pub fn text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => s.into(),
        other => format!("{NOT_A_STRING}{other}").into(),
    }
}

/// A label's (key, value) as a number, values as [`text`] writes them.
pub fn pair(key: &str, value: &str) -> u64 {
    hash(&(key, value))
}

/// A [`pair`] in a namespace, as a number: how the graph keeps the labels
/// of pods that need only be found, never matched by other selectors (see
/// `graph::OtherPods`), and how Services are looked up by selector.
pub fn in_namespace(namespace: &str, pair: u64) -> u64 {
    hash(&(namespace, pair))
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
    fn strings_compare_as_strings_and_other_values_never_equal_a_string() {
        let l = Labels::of(Some(&json!({"app": "web", "v": 1, "s": "1"})));
        let is = |key, value: Value| l.is(key, &text(&value));
        assert!(is("app", json!("web")) && !is("app", json!("we")) && !is("ap", json!("web")));
        assert!(is("v", json!(1)) && !is("v", json!("1")));
        assert!(is("s", json!("1")) && !is("s", json!(1)));
        assert_eq!(["app", "v", "s", "x"].map(|k| l.has_string(k)), [true, false, true, false]);
    }

    #[test]
    fn a_service_selector_needs_every_pair_and_an_empty_one_selects_nothing() {
        let l = Labels::of(Some(&json!({"app": "web", "tier": "fe", "v": 1})));
        let sel = |v: Value| Selector::of(Some(&v));
        assert!(sel(json!({"app": "web"})).selects(&l));
        assert!(sel(json!({"v": 1})).selects(&l) && !sel(json!({"v": "1"})).selects(&l));
        assert!(!sel(json!({"app": "web", "tier": "be"})).selects(&l));
        assert!(!sel(json!({})).selects(&l));
        assert!(!Selector::of(None).selects(&l));
    }

    #[test]
    fn pairs_tell_namespaces_keys_and_values_apart() {
        let t = in_namespace("a", pair("app", "web"));
        assert_eq!(t, in_namespace("a", pair("app", "web")));
        let others = [in_namespace("b", pair("app", "web")), in_namespace("a", pair("ap", "pweb"))];
        assert!(others.iter().all(|x| *x != t) && pair("app", "we") != pair("app", "web"));
    }
}
