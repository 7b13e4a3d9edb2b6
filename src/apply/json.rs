//! Text for new nodes in a JSON document: JSON values and members, laid
//! out like the document's own (its indentation step, one member a line or
//! all on one, with or without spaces). JSON is YAML, so the verify stage
//! reads the result as it reads any other.

use super::layout::JsonStyle;
use serde_json::Value;

/// `v` as JSON. With `pretty`, every member gets a line of its own,
/// indented one step from `indent`, the indentation of the line `v` starts
/// on; the closing bracket goes back to `indent`.
pub fn value(v: &Value, indent: usize, pretty: bool, style: &JsonStyle, newline: &str) -> String {
    let mut out = String::new();
    write_value(&mut out, v, indent, pretty, style, newline);
    out
}

/// `"key": value`, the value as [`value`] writes it.
pub fn member(key: &str, v: &Value, indent: usize, pretty: bool, style: &JsonStyle, newline: &str) -> String {
    let mut out = String::new();
    write_key(&mut out, key, style);
    write_value(&mut out, v, indent, pretty, style, newline);
    out
}

/// What goes between two members or items written on one line.
pub fn separator(style: &JsonStyle) -> &'static str {
    if style.compact { "," } else { ", " }
}

fn write_key(out: &mut String, key: &str, style: &JsonStyle) {
    out.push_str(&Value::String(key.to_string()).to_string());
    out.push_str(if style.compact { ":" } else { ": " });
}

fn write_value(out: &mut String, v: &Value, indent: usize, pretty: bool, style: &JsonStyle, newline: &str) {
    let (open, close, len) = match v {
        Value::Object(m) => ('{', '}', m.len()),
        Value::Array(a) => ('[', ']', a.len()),
        scalar => return out.push_str(&scalar.to_string()),
    };
    out.push(open);
    if len == 0 {
        out.push(close);
        return;
    }
    let inner = indent + style.step;
    let members: Box<dyn Iterator<Item = (Option<&String>, &Value)>> = match v {
        Value::Object(m) => Box::new(m.iter().map(|(k, v)| (Some(k), v))),
        Value::Array(a) => Box::new(a.iter().map(|v| (None, v))),
        _ => Box::new(std::iter::empty()),
    };
    for (i, (key, v)) in members.enumerate() {
        if i > 0 {
            out.push_str(if pretty { "," } else { separator(style) });
        }
        if pretty {
            out.push_str(newline);
            out.extend(std::iter::repeat_n(' ', inner));
        }
        if let Some(key) = key {
            write_key(out, key, style);
        }
        write_value(out, v, inner, pretty, style, newline);
    }
    if pretty {
        out.push_str(newline);
        out.extend(std::iter::repeat_n(' ', indent));
    }
    out.push(close);
}
