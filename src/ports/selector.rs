//! Label selectors as NetworkPolicies, monitors and other references write
//! them (`matchLabels` + `matchExpressions`), and the pods they select. A
//! Service's plain map is `Labels::selects`.

use super::labels::Labels;
use serde_json::Value;

/// A `metav1.LabelSelector`: an empty selector selects everything.
pub fn label_selector_selects(selector: Option<&Value>, labels: &Labels) -> bool {
    let Some(sel) = selector.and_then(Value::as_object) else { return false };
    let labels_match =
        sel.get("matchLabels").and_then(Value::as_object).is_none_or(|m| m.iter().all(|(k, v)| labels.has(k, v)));
    let exprs_match = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|exprs| exprs.iter().all(|e| expression(e, labels)));
    labels_match && exprs_match
}

fn expression(e: &Value, labels: &Labels) -> bool {
    let key = e.get("key").and_then(Value::as_str).unwrap_or("");
    let values: Vec<&str> = e
        .get("values")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let have = labels.get(key);
    match e.get("operator").and_then(Value::as_str) {
        Some("In") => have.is_some_and(|h| values.contains(&h)),
        Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
        Some("Exists") => have.is_some(),
        Some("DoesNotExist") => have.is_none(),
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
        self.namespace.as_deref().is_none_or(|n| n == namespace)
            && self
                .namespace_labels
                .as_ref()
                .is_none_or(|sel| label_selector_selects(Some(sel), &Labels::single(NAMESPACE_NAME, namespace)))
            && label_selector_selects(Some(&self.labels), labels)
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
        let l = labels(json!({"app": "web"}));
        assert!(label_selector_selects(Some(&json!({})), &l));
        assert!(label_selector_selects(
            Some(&json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]})),
            &l
        ));
        assert!(!label_selector_selects(
            Some(&json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]})),
            &l
        ));
        assert!(label_selector_selects(
            Some(&json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})),
            &l
        ));
        assert!(!label_selector_selects(None, &l));
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
