//! The meaning of a document: its tree as a JSON value, the way kubectl
//! sees it (aliases expanded, `<<` merges applied, YAML 1.1 scalars).
//!
//! Rules read this tree and never the text. Alias expansion is budgeted so
//! that a "billion laughs" document fails fast instead of eating memory.

use super::ParseError;
use super::scalar::{key_str, key_string, scalar_equals, scalar_value};
use super::tree::{Node, NodeKind};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Converts nodes of one document, remembering its anchors.
pub struct Semantic<'d> {
    root: &'d Node,
    /// The anchored nodes, collected on the first alias met (most
    /// documents have none, and walking every tree for them was measurable).
    anchors: Option<HashMap<usize, &'d Node>>,
    /// Nodes still allowed to be produced by expanding aliases.
    alias_budget: usize,
    /// The alias being expanded, for pointing at it when the budget runs out.
    alias_at: usize,
    text: &'d str,
    /// Keys whose values are not read (see [`Semantic::value_without`]).
    unread: &'d [&'d str],
}

impl<'d> Semantic<'d> {
    /// Prepare to read the document rooted at `root` (any node of it can
    /// then be converted on its own: aliases are looked up in the whole
    /// document).
    pub fn new(root: &'d Node, text: &'d str, max_alias_nodes: usize) -> Self {
        Semantic { root, anchors: None, alias_budget: max_alias_nodes, alias_at: 0, text, unread: &[] }
    }

    /// The node anchor `id` names.
    fn anchored(&mut self, id: usize) -> Option<&'d Node> {
        let root = self.root;
        let anchors = self.anchors.get_or_insert_with(|| {
            let mut anchors = HashMap::new();
            root.walk(&mut |n| {
                if let Some(id) = n.anchor {
                    anchors.insert(id, n);
                }
            });
            anchors
        });
        anchors.get(&id).copied()
    }

    /// Check, without building any value, that expanding the document's
    /// aliases stays within the budget: the same limit [`Semantic::value`]
    /// enforces, for documents that are otherwise not read.
    pub fn check_aliases(&mut self, root: &'d Node) -> Result<(), ParseError> {
        let mut sizes: HashMap<usize, usize> = HashMap::new();
        let mut total = 0usize;
        self.expanded_size(root, &mut sizes, &mut total)?;
        Ok(())
    }

    /// Nodes `node` stands for once its aliases are expanded; adds what
    /// aliases produce to `total` and fails once that passes the budget.
    fn expanded_size(
        &mut self,
        node: &'d Node,
        sizes: &mut HashMap<usize, usize>,
        total: &mut usize,
    ) -> Result<usize, ParseError> {
        let size = match &node.kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Sequence { items, .. } => {
                let mut n = 1;
                for i in items {
                    n += self.expanded_size(i, sizes, total)?;
                }
                n
            }
            NodeKind::Mapping { entries, .. } => {
                let mut n = 1;
                for e in entries {
                    n += self.expanded_size(&e.key, sizes, total)? + self.expanded_size(&e.value, sizes, total)?;
                }
                n
            }
            NodeKind::Alias(id) => {
                let n = *sizes.get(id).unwrap_or(&1);
                *total = total.saturating_add(n);
                if *total > self.alias_budget {
                    self.alias_at = node.span.start;
                    self.alias_budget = 0;
                    let (line, col) = super::line_col(self.text, node.span.start);
                    return Err(ParseError::at(
                        line,
                        col,
                        "aliases expand to more nodes than the limit allows (--max-alias-nodes); is this an alias bomb?",
                    ));
                }
                n
            }
        };
        if let Some(id) = node.anchor {
            sizes.insert(id, size);
        }
        Ok(size)
    }

    /// Whether `node` means exactly `v`, building values only where
    /// aliases or merges make a direct comparison unsafe.
    pub fn equals(&mut self, node: &'d Node, v: &Value) -> Result<bool, ParseError> {
        Ok(match (&node.kind, v) {
            (NodeKind::Scalar { value, style, tag }, _) => scalar_equals(value, *style, tag.as_deref(), v),
            (NodeKind::Sequence { items, .. }, Value::Array(want)) => {
                if items.len() != want.len() {
                    return Ok(false);
                }
                for (item, w) in items.iter().zip(want) {
                    if !self.equals(item, w)? {
                        return Ok(false);
                    }
                }
                true
            }
            (NodeKind::Mapping { entries, .. }, Value::Object(want))
                if !entries.iter().any(|e| e.key.is_merge_key() || !matches!(e.key.kind, NodeKind::Scalar { .. })) =>
            {
                if entries.len() != want.len() {
                    return Ok(false);
                }
                // The planned map mostly has the keys in the text's order:
                // take them in step, and look one up only where not.
                let mut in_step = want.iter();
                for e in entries {
                    let NodeKind::Scalar { value, style, tag } = &e.key.kind else { return Ok(false) };
                    let key = key_str(value, *style, tag.as_deref());
                    let w = match in_step.next() {
                        Some((k, w)) if *k == *key => Some(w),
                        _ => want.get(key.as_ref()),
                    };
                    let Some(w) = w else { return Ok(false) };
                    if !self.equals(&e.value, w)? {
                        return Ok(false);
                    }
                }
                true
            }
            (NodeKind::Sequence { .. }, _) => false,
            (NodeKind::Mapping { .. } | NodeKind::Alias(_), _) => self.value(node)? == *v,
        })
    }

    pub fn value(&mut self, node: &'d Node) -> Result<Value, ParseError> {
        self.convert(node, false)
    }

    /// The meaning of `node` with the values of the keys in `unread` left
    /// null wherever they are, for a reader that needs only the rest; `None`
    /// if the document has aliases (which must be expanded, and budgeted,
    /// whole).
    pub fn value_without(&mut self, node: &'d Node, unread: &'d [&'d str]) -> Option<Result<Value, ParseError>> {
        let mut aliases = false;
        self.root.walk(&mut |n| aliases |= matches!(n.kind, NodeKind::Alias(_)));
        if aliases {
            return None;
        }
        self.unread = unread;
        let value = self.convert(node, false);
        self.unread = &[];
        Some(value)
    }

    fn convert(&mut self, node: &'d Node, via_alias: bool) -> Result<Value, ParseError> {
        if via_alias {
            self.spend_alias_node()?;
        }
        Ok(match &node.kind {
            NodeKind::Scalar { value, style, tag } => scalar_value(value, *style, tag.as_deref()),
            NodeKind::Sequence { items, .. } => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.convert(item, via_alias)?);
                }
                Value::Array(out)
            }
            NodeKind::Mapping { entries, .. } => {
                let mut map = Map::new();
                let mut merged: Vec<Map<String, Value>> = Vec::new();
                for e in entries {
                    if e.key.is_merge_key() {
                        merged.extend(self.merge_sources(&e.value, via_alias)?);
                        continue;
                    }
                    // A scalar key straight to its string (no Value in between).
                    let key = match &e.key.kind {
                        NodeKind::Scalar { value, style, tag } => {
                            if via_alias {
                                self.spend_alias_node()?;
                            }
                            key_str(value, *style, tag.as_deref()).into_owned()
                        }
                        _ => key_string(&self.convert(&e.key, via_alias)?),
                    };
                    let value = if self.unread.contains(&key.as_str()) {
                        Value::Null
                    } else {
                        self.convert(&e.value, via_alias)?
                    };
                    map.insert(key, value);
                }
                // Explicit keys win over merged ones; earlier merge sources
                // win over later ones.
                for source in merged {
                    for (k, v) in source {
                        map.entry(k).or_insert(v);
                    }
                }
                Value::Object(map)
            }
            NodeKind::Alias(id) => {
                let target = self.anchored(*id).ok_or_else(|| {
                    let (line, col) = super::line_col(self.text, node.span.start);
                    ParseError::at(line, col, "alias refers to an unknown anchor")
                })?;
                if !via_alias {
                    self.alias_at = node.span.start;
                }
                self.convert(target, true)?
            }
        })
    }

    /// Count one node produced by expanding an alias against the budget.
    fn spend_alias_node(&mut self) -> Result<(), ParseError> {
        if self.alias_budget == 0 {
            let (line, col) = super::line_col(self.text, self.alias_at);
            return Err(ParseError::at(
                line,
                col,
                "aliases expand to more nodes than the limit allows (--max-alias-nodes); is this an alias bomb?",
            ));
        }
        self.alias_budget -= 1;
        Ok(())
    }

    /// The mappings a `<<` value merges in: one mapping, or a sequence of them.
    fn merge_sources(&mut self, value: &'d Node, via_alias: bool) -> Result<Vec<Map<String, Value>>, ParseError> {
        let v = self.convert(value, via_alias)?;
        let err = || {
            let (line, col) = super::line_col(self.text, value.span.start);
            ParseError::at(line, col, "a `<<` merge value must be a mapping or a list of mappings")
        };
        match v {
            Value::Object(m) => Ok(vec![m]),
            Value::Array(items) => {
                items.into_iter().map(|i| if let Value::Object(m) = i { Ok(m) } else { Err(err()) }).collect()
            }
            _ => Err(err()),
        }
    }
}
