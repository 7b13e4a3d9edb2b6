//! Label selectors as NetworkPolicies and monitors write them
//! (`matchLabels` + `matchExpressions`). A Service's plain map is
//! `Labels::selects`.

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
}
