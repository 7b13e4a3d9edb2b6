//! What the plan stage produces: Changes (a JSON-pointer operation with the
//! rule and the Pod Security control behind it), Notes and Blockers.
//! Nothing here knows about output formats.

use serde_json::Value;

/// The Pod Security control a change satisfies, or harden's own default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// A Pod Security Standards check, by its upstream check ID.
    Pss(&'static str),
    /// Not required by Pod Security: readOnlyRootFilesystem, numeric UIDs,
    /// resources, ports, the service-account token.
    HardenDefault,
}

impl std::fmt::Display for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Control::Pss(id) => write!(f, "PSS {id}"),
            Control::HardenDefault => f.write_str("harden default (not a Pod Security requirement)"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Set the value at the pointer (creating missing parent mappings).
    Set,
    /// Append the value to the list at the pointer (creating it if missing).
    Append,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub op: Op,
    /// Absolute JSON pointer from the document root.
    pub pointer: String,
    pub value: Value,
    /// The value it replaces, if any (None: the field was absent).
    pub before: Option<Value>,
    pub rule: &'static str,
    pub control: Control,
    pub reason: String,
    /// The container it concerns, if it is a container field.
    pub container: Option<String>,
}

impl Change {
    /// Whether this change replaced a value someone had written explicitly.
    pub fn overrides(&self) -> bool {
        self.before.is_some()
    }
}

/// Something harden noticed and deliberately left alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub pointer: String,
    pub rule: &'static str,
    pub container: Option<String>,
    pub message: String,
    /// Needs the user's attention (shown on stderr), not just information.
    pub warning: bool,
}

/// A setting that the target level can never admit and that harden will not
/// remove (host access, privileges): the pod is left unchanged and reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Blocker {
    pub container: Option<String>,
    /// What is set, e.g. `privileged=true`.
    pub what: String,
    /// The control it violates, e.g. `PSS privileged`.
    pub control: String,
    /// How the API server words the rejection (`reason (detail)`), where a
    /// Pod Security check found it.
    pub upstream: Option<String>,
}

/// A violation the owner chose to keep: the resource, the container or the
/// rule that would fix it is opted out (`harden.dev/skip*`, a config
/// exception). Not a blocker: it withholds no fix and fails no gate, but
/// it is reported as still violating.
#[derive(Clone, Debug, PartialEq)]
pub struct OptedOut {
    pub violation: Blocker,
    /// How, e.g. `annotation harden.dev/skip: "true"`.
    pub by: String,
}
