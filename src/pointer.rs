//! JSON pointers (RFC 6901) read without allocating.
//!
//! `serde_json::Value::pointer` builds a `String` per token (to unescape
//! `~0`/`~1`, which almost no token has); rules and the port pass look up
//! pointers for every container of every pod, so that was a measurable
//! share of the run. Same answers, token for token.

use serde_json::Value;
use std::borrow::Cow;

pub trait Pointer {
    /// The value at `pointer`, as `serde_json::Value::pointer` finds it.
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl Pointer for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        rest.split('/').try_fold(self, |target, token| {
            let token = unescape(token);
            match target {
                Value::Object(map) => map.get(token.as_ref()),
                Value::Array(list) => index(&token).and_then(|i| list.get(i)),
                _ => None,
            }
        })
    }
}

/// A token with `~1` read as `/` and `~0` as `~`.
pub fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') { Cow::Owned(token.replace("~1", "/").replace("~0", "~")) } else { Cow::Borrowed(token) }
}

/// A token with `~` written `~0` and `/` written `~1` (label and
/// annotation keys hold slashes).
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Append one token to a pointer.
pub fn push_token(ptr: &mut String, token: &str) {
    ptr.push('/');
    ptr.push_str(&escape(token));
}

/// A list index as RFC 6901 writes it: no sign, no leading zeros.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_what_serde_json_finds() {
        let v = json!({"a": {"b/c": [1, {"d~e": 2}], "": 3}, "0": 4});
        for p in
            ["", "/a", "/a/b~1c", "/a/b~1c/1/d~0e", "/a/b~1c/01", "/a/b~1c/+1", "/a/", "/0", "a", "/x/y", "/a/b~1c/9"]
        {
            assert_eq!(v.at(p), v.pointer(p), "{p}");
        }
    }
}
