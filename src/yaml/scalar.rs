//! What a scalar means, read the way kubectl reads it, and how to write a
//! new one so that every reader sees the value we meant.
//!
//! kubectl, Helm and kustomize read YAML through go-yaml v2 (YAML 1.1):
//! `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0644` is octal 420, `1_000`
//! is 1000, and timestamps stay strings. A value harden writes must mean the
//! same thing to a YAML 1.1 reader and to a YAML 1.2 reader, so anything
//! either could read as a non-string is quoted.

use super::tree::{Node, NodeKind, ScalarStyle};
use serde_json::{Number, Value};

/// The value of a plain (unquoted) scalar under go-yaml v2 rules.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        _ => {}
    }
    if let Some(b) = yaml11_bool(s) {
        return Value::Bool(b);
    }
    let first = s.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(n) = resolve_number(s) {
            return n;
        }
    }
    Value::String(s.to_string())
}

fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// go-yaml v2: underscores are dropped, then Go's `ParseInt(s, 0, 64)`
/// (`0x`, `0o`, `0b`, and a leading `0` for octal), then the YAML float
/// pattern, then the infinities and NaN.
fn resolve_number(s: &str) -> Option<Value> {
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(i) = parse_go_int(&plain) {
        return Some(Value::Number(i));
    }
    if is_yaml_float(&plain) {
        let f: f64 = plain.parse().ok()?;
        return Number::from_f64(f).map(Value::Number);
    }
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN"
        | ".NAN" => Some(Value::String(s.to_string())),
        _ => None,
    }
}

fn parse_go_int(s: &str) -> Option<Number> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let (radix, body) = if let Some(r) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        (16, r)
    } else if let Some(r) = digits.strip_prefix("0o").or_else(|| digits.strip_prefix("0O")) {
        (8, r)
    } else if let Some(r) = digits.strip_prefix("0b").or_else(|| digits.strip_prefix("0B")) {
        (2, r)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if neg {
        // i64::MIN has no positive counterpart; go through i128.
        let v = -(magnitude as i128);
        i64::try_from(v).ok().map(Number::from)
    } else {
        Some(Number::from(magnitude))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && matches!(b[i], b'-' | b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'-' | b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// Whether a scalar, as written, means exactly `v` — without building the
/// value for the common case of a plain string (the editor and the verify
/// stage compare every scalar of a document).
pub fn scalar_equals(value: &str, style: ScalarStyle, tag: Option<&str>, v: &Value) -> bool {
    match (style, tag, v) {
        (ScalarStyle::Plain, None, Value::String(s)) if s != value => false,
        (ScalarStyle::Plain, None, Value::String(_)) => plain_is_string(value),
        (ScalarStyle::Plain, None, _) => resolve_plain(value) == *v,
        (_, None, Value::String(s)) => s == value,
        (_, None, _) => false,
        _ => scalar_value(value, style, tag) == *v,
    }
}

/// Whether a plain scalar reads as a string (not null, a boolean or a number).
fn plain_is_string(s: &str) -> bool {
    if matches!(s, "" | "~" | "null" | "Null" | "NULL") || yaml11_bool(s).is_some() {
        return false;
    }
    let first = s.as_bytes()[0];
    !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) || resolve_number(s).is_none()
}

/// The JSON key a scalar key node stands for, borrowed when it is written
/// as a plain string (almost always).
pub fn key_str<'n>(value: &'n str, style: ScalarStyle, tag: Option<&str>) -> std::borrow::Cow<'n, str> {
    if tag.is_none() && (style != ScalarStyle::Plain || plain_is_string(value)) {
        std::borrow::Cow::Borrowed(value)
    } else {
        std::borrow::Cow::Owned(key_string(&scalar_value(value, style, tag)))
    }
}

/// The value of a scalar node: plain ones resolved, tagged ones as tagged,
/// every other style a string.
pub fn scalar_value(value: &str, style: ScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("str") | Some("binary") => return Value::String(value.to_string()),
        Some("null") => return Value::Null,
        Some("bool") => return yaml11_bool(value).map_or_else(|| Value::String(value.to_string()), Value::Bool),
        Some("int") | Some("float") => {
            return resolve_number(value).unwrap_or_else(|| Value::String(value.to_string()));
        }
        _ => {}
    }
    match style {
        ScalarStyle::Plain => resolve_plain(value),
        _ => Value::String(value.to_string()),
    }
}

/// The string a mapping key becomes in JSON (what kubectl compares keys by):
/// `1` and `"1"` are the same key, `yes` is `true`. `None` for keys that are
/// collections or aliases, which no manifest uses and which are compared by
/// their source text.
pub fn key_identity(node: &Node, text: &str) -> Option<String> {
    match &node.kind {
        NodeKind::Scalar { value, style, tag } => Some(key_string(&scalar_value(value, *style, tag.as_deref()))),
        _ => text.get(node.span.start..node.span.end).map(|s| s.to_string()),
    }
}

pub fn key_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `s` can be written as a plain scalar and still be read back, by
/// YAML 1.1 and 1.2 readers alike, as exactly this string, wherever it goes
/// (new text may land in block or flow context).
pub fn is_plain_safe(s: &str) -> bool {
    plain_safe(s, true, false)
}

/// Whether `s` can replace a plain scalar in block (or, with `in_flow`,
/// flow) context and be read back, by YAML 1.1 and 1.2 readers alike, as
/// exactly this string. Unlike new text, it may start with a `-` that a
/// non-space follows (a flag such as `--port=8080`: both kinds of reader
/// take the dash as part of the scalar), and in block context it may hold
/// flow indicators after its first character.
pub fn is_plain_safe_at(s: &str, in_flow: bool) -> bool {
    plain_safe(s, in_flow, true)
}

fn plain_safe(s: &str, in_flow: bool, dash_first: bool) -> bool {
    if s.is_empty() || s.trim() != s {
        return false;
    }
    if !matches!(resolve_plain(s), Value::String(_)) {
        return false;
    }
    // YAML 1.2 readers also take these as numbers or specials, and YAML 1.1
    // ones read sexagesimals (`1:30`) and timestamps.
    if looks_numeric_or_special(s) {
        return false;
    }
    let mut chars = s.chars();
    let first = chars.next().unwrap_or(' ');
    // `-x` is a plain scalar to every reader (`- x` and `---` are not);
    // `?x` and `:x` are not to go-yaml v2 in flow context: never written.
    let flag = dash_first && first == '-' && chars.next().is_some_and(|c| c != ' ') && !s.starts_with("---");
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) && !flag {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    // Flow indicators would end the scalar inside `{}`/`[]`.
    if in_flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    s.chars().all(|c| !c.is_control())
}

fn looks_numeric_or_special(s: &str) -> bool {
    let b = s.as_bytes();
    let numeric_start = b[0].is_ascii_digit() || matches!(b[0], b'-' | b'+');
    // YAML 1.1 sexagesimals: 1:30, 190:20:30.15
    if numeric_start && s.contains(':') && s.chars().all(|c| c.is_ascii_digit() || ":_.+-".contains(c)) {
        return true;
    }
    // YAML 1.1 timestamps: 2001-12-14, 2001-12-14t21:59:43.10-05:00
    if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' {
        return true;
    }
    matches!(s.to_ascii_lowercase().as_str(), ".inf" | "-.inf" | "+.inf" | ".nan")
}

/// A new scalar in YAML text: strings plain when safe, else double-quoted.
pub fn render_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if is_plain_safe(s) => s.clone(),
        Value::String(s) => double_quoted(s),
        // Collections are rendered by the editor, never as scalars.
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

/// A string in double quotes; JSON escaping is valid YAML escaping.
pub fn double_quoted(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// A string in single quotes, if it can be written that way on one line.
pub fn single_quoted(s: &str) -> Option<String> {
    if s.chars().any(|c| c.is_control()) {
        return None;
    }
    Some(format!("'{}'", s.replace('\'', "''")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_are_read_as_yaml_1_1() {
        for (s, b) in [("yes", true), ("No", false), ("ON", true), ("off", false), ("y", true), ("true", true)] {
            assert_eq!(resolve_plain(s), json!(b), "{s}");
        }
    }

    #[test]
    fn numbers_are_read_as_go_yaml_v2() {
        assert_eq!(resolve_plain("0644"), json!(420));
        assert_eq!(resolve_plain("0o644"), json!(420));
        assert_eq!(resolve_plain("0x1F"), json!(31));
        assert_eq!(resolve_plain("1_000"), json!(1000));
        assert_eq!(resolve_plain("-12"), json!(-12));
        assert_eq!(resolve_plain("1.10"), json!(1.1));
        assert_eq!(resolve_plain("08"), json!(8.0));
        assert_eq!(resolve_plain("1e3"), json!(1000.0));
        assert_eq!(resolve_plain("2001-12-14"), json!("2001-12-14"));
        assert_eq!(resolve_plain("100m"), json!("100m"));
        assert_eq!(resolve_plain("1.2.3"), json!("1.2.3"));
    }

    #[test]
    fn comparing_without_building_agrees_with_building() {
        let values =
            [json!("x"), json!("yes"), json!(true), json!(80), json!(null), json!("80"), json!(1.5), json!("")];
        for text in ["x", "yes", "true", "80", "~", "", "1.5", "0644", "08", "1_000", "-", ".inf"] {
            for style in [ScalarStyle::Plain, ScalarStyle::DoubleQuoted] {
                for v in &values {
                    assert_eq!(
                        scalar_equals(text, style, None, v),
                        scalar_value(text, style, None) == *v,
                        "{text:?} {style:?} {v}"
                    );
                }
                assert_eq!(key_str(text, style, None), key_string(&scalar_value(text, style, None)), "{text:?}");
            }
        }
    }

    #[test]
    fn ambiguous_strings_are_quoted_when_written() {
        for s in [
            "yes",
            "on",
            "NO",
            "y",
            "0644",
            "8080",
            "1.10",
            "",
            "~",
            "null",
            "1e3",
            "2001-12-14",
            "1:30",
            "a: b",
            "#x",
            "*x",
            " x",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "RuntimeDefault",
            "ALL",
            "http://+:8080",
            "100m",
            "128Mi",
            "/tmp",
            "harden-tmp",
            "registry.k8s.io/pause:3.9",
        ] {
            assert!(is_plain_safe(s), "{s:?} can stay plain");
        }
        assert_eq!(render_scalar(&json!("8080")), "\"8080\"");
        assert!(!is_plain_safe("--port=8080"), "new text may land anywhere: a leading dash is quoted");
    }

    #[test]
    fn a_replacement_keeps_plain_what_is_plain_safe_where_it_stands() {
        for s in ["--port=8080", "-p", "-v=2", "--listen=:8080"] {
            assert!(is_plain_safe_at(s, false) && is_plain_safe_at(s, true), "{s:?}");
        }
        // Block context takes flow indicators after the first character.
        assert!(is_plain_safe_at("--listen=[::]:8080", false));
        assert!(!is_plain_safe_at("--listen=[::]:8080", true));
        // YAML 1.1 and 1.2 readers would read these as something else, or
        // not as one plain scalar.
        for s in [
            "-", "- x", "---x", "-1", "-1.5", "-.inf", "-0x1F", "-1_000", "-1e3", "-1:30", "yes", "0644", "~", "null",
            "1e3", "1_000", "?x", ":x", "-x #y", "-x: y",
        ] {
            assert!(!is_plain_safe_at(s, false), "{s:?} must be quoted");
        }
        assert_eq!(render_scalar(&json!(8080)), "8080");
    }
}
