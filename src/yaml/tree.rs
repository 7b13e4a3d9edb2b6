//! The span-carrying YAML tree: what the source text says, and where.
//!
//! Every node keeps the byte range it covers in the source, so the `apply`
//! stage can splice edits into the original text and leave every other byte
//! alone. Values are kept as the source spells them; what they *mean* (YAML
//! 1.1 booleans, octal numbers, merges) is worked out by [`super::semantic`].

/// A half-open byte range into the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// How a scalar is written. Only plain scalars are resolved to booleans,
/// numbers and null; every other style is a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// Block (`key: value` lines, `- item` lines) or flow (`{}` / `[]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Block,
    Flow,
}

#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    Scalar {
        value: String,
        style: ScalarStyle,
        /// A core-schema tag such as `!!str`, by suffix (`str`); custom tags are
        /// kept as written but do not change how the value is read.
        tag: Option<String>,
    },
    Mapping {
        layout: Layout,
        entries: Vec<Entry>,
    },
    Sequence {
        layout: Layout,
        items: Vec<Node>,
    },
    /// `*name`: refers to the node that defined anchor `id`.
    Alias(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// The anchor id this node defines (`&name`), if any.
    pub anchor: Option<usize>,
}

impl Node {
    /// A plain scalar's text, for key lookup and the like.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn is_null_scalar(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain, tag: None }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The `<<` merge key, which only counts when written plain.
    pub fn is_merge_key(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain, .. } if value == "<<")
    }

    /// Move every span of this subtree by `by` bytes (a tree parsed from a
    /// piece of a text, placed back where the piece came from).
    pub fn shift(&mut self, by: usize) {
        self.span = Span::new(self.span.start + by, self.span.end + by);
        match &mut self.kind {
            NodeKind::Mapping { entries, .. } => {
                for e in entries {
                    e.key.shift(by);
                    e.value.shift(by);
                }
            }
            NodeKind::Sequence { items, .. } => items.iter_mut().for_each(|n| n.shift(by)),
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }

    /// Visit this node and every node below it, depth first, in source order.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Node)) {
        f(self);
        match &self.kind {
            NodeKind::Mapping { entries, .. } => {
                for e in entries {
                    e.key.walk(f);
                    e.value.walk(f);
                }
            }
            NodeKind::Sequence { items, .. } => items.iter().for_each(|n| n.walk(f)),
            NodeKind::Scalar { .. } | NodeKind::Alias(_) => {}
        }
    }
}

/// What [`Document::kind`] can tell without reading the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    Absent,
    Named(&'a str),
    Unknown,
}

/// One document of a stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub root: Node,
    /// Where the document's own text begins: its `---` marker if it has one,
    /// else its root node.
    pub start: usize,
    /// Where it ends: after its `...` marker if it has one, else where the next
    /// document (or the stream) begins.
    pub end: usize,
    /// Whether the document had an explicit `---`.
    pub explicit_start: bool,
}

impl Document {
    /// The top-level `kind`: `Kind::Absent` when the document has no such
    /// key (it cannot be a Kubernetes object), the text when it is a plain or
    /// quoted scalar, `Kind::Unknown` otherwise (an alias, say). Enough to
    /// tell whether a document needs reading at all.
    pub fn kind(&self) -> Kind<'_> {
        let NodeKind::Mapping { entries, .. } = &self.root.kind else { return Kind::Absent };
        match entries.iter().find(|e| e.key.as_str() == Some("kind") || e.key.is_merge_key()) {
            None => Kind::Absent,
            Some(e) if e.key.is_merge_key() => Kind::Unknown,
            Some(e) => e.value.as_str().map_or(Kind::Unknown, Kind::Named),
        }
    }

    /// Whether the document is a Kubernetes object: a mapping with
    /// `apiVersion` and `kind` (or a `<<` merge that may give them).
    pub fn is_kubernetes_object(&self) -> bool {
        let NodeKind::Mapping { entries, .. } = &self.root.kind else { return false };
        let has = |key: &str| entries.iter().any(|e| e.key.as_str() == Some(key) || e.key.is_merge_key());
        has("apiVersion") && has("kind")
    }

    /// Whether the document is JSON: its top node is a flow mapping whose
    /// keys, all the way down, are double-quoted. Every document kubectl
    /// reads as JSON (it does when the stream starts with `{`) is; a flow
    /// mapping with plain keys is YAML written in flow style.
    pub fn is_json(&self) -> bool {
        if !matches!(self.root.kind, NodeKind::Mapping { layout: Layout::Flow, .. }) {
            return false;
        }
        let mut all = true;
        self.root.walk(&mut |n| {
            if let NodeKind::Mapping { entries, .. } = &n.kind {
                all &= entries
                    .iter()
                    .all(|e| matches!(e.key.kind, NodeKind::Scalar { style: ScalarStyle::DoubleQuoted, .. }));
            }
        });
        all
    }

    /// Move the document and its spans by `by` bytes (see [`Node::shift`]).
    pub fn shift(&mut self, by: usize) {
        self.root.shift(by);
        self.start += by;
        self.end += by;
    }
}
