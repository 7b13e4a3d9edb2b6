//! Text for *new* nodes only: the keys, items and scalars harden inserts.
//! Existing text is never re-rendered.

use super::layout::DocLayout;
use crate::yaml::ScalarStyle;
use crate::yaml::scalar::{double_quoted, is_plain_safe_at, render_scalar, single_quoted};
use serde_json::Value;

/// `key: value` lines at column `col`, each ending with a newline.
pub fn block_entries(out: &mut String, entries: &[(&String, &Value)], col: usize, lay: &DocLayout) {
    for (k, v) in entries {
        pad(out, col);
        block_entry_body(out, k, v, col, lay);
    }
}

/// `key: value` from the key on (no leading indentation).
fn block_entry_body(out: &mut String, key: &str, v: &Value, col: usize, lay: &DocLayout) {
    out.push_str(&render_scalar(&Value::String(key.to_string())));
    out.push(':');
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push_str(lay.newline);
            let items: Vec<_> = m.iter().collect();
            block_entries(out, &items, col + lay.step, lay);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str(lay.newline);
            block_items(out, a, col + lay.seq_offset, lay);
        }
        _ => {
            out.push(' ');
            out.push_str(&flow(v));
            out.push_str(lay.newline);
        }
    }
}

/// `- item` lines with the dash at column `dash_col`.
pub fn block_items(out: &mut String, items: &[Value], dash_col: usize, lay: &DocLayout) {
    for item in items {
        pad(out, dash_col);
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => {
                // The first key shares the dash's line; the rest line up under it.
                let inner = dash_col + 2;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        pad(out, inner);
                    }
                    block_entry_body(out, k, v, inner, lay);
                }
            }
            _ => {
                out.push_str(&flow(item));
                out.push_str(lay.newline);
            }
        }
    }
}

/// A value in flow style: `{a: 1, b: [x, y]}`.
pub fn flow(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> =
                m.iter().map(|(k, v)| format!("{}: {}", render_scalar(&Value::String(k.clone())), flow(v))).collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        scalar => render_scalar(scalar),
    }
}

/// A replacement for an existing scalar, keeping its quoting where the new
/// value allows it: quoted stays quoted the same way, plain stays plain
/// where the new string is safe plain there (block or flow context).
pub fn replacement_scalar(v: &Value, original: ScalarStyle, in_flow: bool) -> String {
    match (v, original) {
        (Value::String(s), ScalarStyle::SingleQuoted) => single_quoted(s).unwrap_or_else(|| double_quoted(s)),
        (Value::String(s), ScalarStyle::DoubleQuoted) => double_quoted(s),
        (Value::String(s), _) if is_plain_safe_at(s, in_flow) => s.clone(),
        (Value::String(s), _) => double_quoted(s),
        _ => render_scalar(v),
    }
}

fn pad(out: &mut String, col: usize) {
    out.extend(std::iter::repeat_n(' ', col));
}
