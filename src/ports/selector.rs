//! Label selectors as NetworkPolicies, monitors and other references write
//! them (`matchLabels` + `matchExpressions`), and the pods they select. A
//! Service's plain map is `labels::Selector`.

use super::labels::{Labels, text};
use serde_json::Value;

/// A `metav1.LabelSelector`: an empty selector selects everything.
pub fn label_selector_selects(selector: &Value, labels: &Labels) -> bool {
    let Some(sel) = selector.as_object() else { return false };
    let mut pairs = sel.get("matchLabels").and_then(Value::as_object).into_iter().flatten();
    let mut exprs = sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten();
    pairs.all(|(k, v)| labels.is(k, &text(v))) && exprs.all(|e| expression(e, labels))
}

fn expression(e: &Value, labels: &Labels) -> bool {
    let key = e.get("key").and_then(Value::as_str).unwrap_or("");
    let mut values = e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
    match e.get("operator").and_then(Value::as_str) {
        Some("In") => values.any(|v| labels.is(key, v)),
        Some("NotIn") => !values.any(|v| labels.is(key, v)),
        Some("Exists") => labels.has_string(key),
        Some("DoesNotExist") => !labels.has_string(key),
        _ => false,
    }
}

/// The label of a namespace that harden knows without seeing the
/// Namespace: its name. A namespace selector is matched against it alone.
pub const NAMESPACE_NAME: &str = "kubernetes.io/metadata.name";

/// Which pods (or, for a ServiceMonitor, which Services) an object selects:
/// in which namespaces, with which labels.
#[derive(Clone, Debug, PartialEq)]
pub struct PodSelector {
    /// The namespace, if it is given by name (None: any the next field admits).
    pub namespace: Option<String>,
    /// A label selector over the namespace's labels, if there is one.
    pub namespace_labels: Option<Value>,
    /// A label selector over the object's own labels (null: selects nothing).
    pub labels: Value,
}

impl PodSelector {
    /// Pods of `namespace` that `labels` (a label selector) selects.
    pub fn in_namespace(namespace: &str, labels: Option<&Value>) -> PodSelector {
        PodSelector { namespace: Some(namespace.into()), namespace_labels: None, labels: labels.cloned().into() }
    }

    /// Whether it selects an object of `namespace` with `labels`.
    pub fn selects(&self, namespace: &str, labels: &Labels) -> bool {
        let of_namespace = |sel| label_selector_selects(sel, &Labels::from_pairs([(NAMESPACE_NAME, namespace)]));
        self.namespace.as_deref().is_none_or(|n| n == namespace)
            && self.namespace_labels.as_ref().is_none_or(of_namespace)
            && label_selector_selects(&self.labels, labels)
    }
}

/// A label selector that selects the namespaces named in `names`.
pub fn namespaces_named(names: Option<&Value>) -> Value {
    let names: Vec<&Value> = names.and_then(Value::as_array).into_iter().flatten().collect();
    serde_json::json!({"matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": names}]})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Labels {
        Labels::of(Some(&v))
    }

    #[test]
    fn label_selectors_follow_the_api() {
        let v = json!({"app": "web", "v": 1});
        let expression =
            |op: &str, values: Value| json!({"matchExpressions": [{"key": "app", "operator": op, "values": values}]});
        let cases = [
            (json!({}), true),
            (json!({"matchLabels": {"app": "web", "v": 1}}), true),
            (json!({"matchLabels": {"app": "web", "v": "1"}}), false),
            (expression("In", json!(["web", "api"])), true),
            (expression("NotIn", json!(["web"])), false),
            (json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}), true),
            (json!({"matchExpressions": [{"key": "v", "operator": "Exists"}]}), false),
            (Value::Null, false),
        ];
        for (selector, selects) in cases {
            assert_eq!(label_selector_selects(&selector, &labels(v.clone())), selects, "{selector}");
        }
    }

    #[test]
    fn a_pod_selector_needs_its_namespace_and_its_labels() {
        let web = labels(json!({"app": "web"}));
        let sel = PodSelector::in_namespace("shop", Some(&json!({"matchLabels": {"app": "web"}})));
        assert!(sel.selects("shop", &web) && !sel.selects("data", &web));
        assert!(!PodSelector::in_namespace("shop", None).selects("shop", &web), "no selector selects nothing");
        let named = PodSelector {
            namespace: None,
            namespace_labels: Some(namespaces_named(Some(&json!(["shop", "data"])))),
            labels: json!({}),
        };
        assert!(named.selects("data", &web) && !named.selects("other", &web));
    }
}
