//! The QoS class the kubelet gives a pod (Guaranteed, Burstable,
//! BestEffort), computed as upstream computes it
//! (`pkg/apis/core/v1/helper/qos`, `ComputePodQOS`) from the pod as the API
//! server stores it: every container's missing requests filled from its
//! limits (`SetDefaults_Pod`). The class decides eviction order and, with
//! the static CPU manager, exclusive cores: the resources rule must never
//! change it, except BestEffort → Burstable where it adds requests to a pod
//! that had none.

use crate::quantity;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QosClass {
    BestEffort,
    Burstable,
    Guaranteed,
}

impl std::fmt::Display for QosClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            QosClass::BestEffort => "BestEffort",
            QosClass::Burstable => "Burstable",
            QosClass::Guaranteed => "Guaranteed",
        })
    }
}

/// The resources that decide the class (upstream's
/// `supportedQoSComputeResources`); others (ephemeral-storage, GPUs) do not.
const COMPUTE: [&str; 2] = ["cpu", "memory"];

/// The class of a pod spec. Init containers count like the others;
/// ephemeral containers have no resources. Pod-level resources
/// (`spec.resources`, the PodLevelResources feature, on by default since
/// v1.34), where set, decide alone.
pub fn pod_qos(spec: &Value) -> QosClass {
    if let Some(pod_level) = spec.get("resources").filter(|r| r.is_object()) {
        return resources_qos(Some(pod_level));
    }
    let mut pod = None;
    for list in ["initContainers", "containers"] {
        for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
            let class = resources_qos(c.get("resources"));
            match pod {
                _ if class == QosClass::Burstable => return class,
                None => pod = Some(class),
                // One BestEffort container and one Guaranteed: Burstable.
                Some(p) if p != class => return QosClass::Burstable,
                Some(_) => {}
            }
        }
    }
    pod.unwrap_or(QosClass::BestEffort)
}

/// The class of one set of resource requirements (`resources` of a
/// container): Guaranteed where cpu and memory both have a request equal to
/// a non-zero limit, BestEffort where neither has either, else Burstable.
pub fn resources_qos(resources: Option<&Value>) -> QosClass {
    let section = |name: &str| resources.and_then(|r| r.get(name)).and_then(Value::as_object);
    let (requests, limits) = (section("requests"), section("limits"));
    if requests.is_none_or(|m| m.is_empty()) && limits.is_none_or(|m| m.is_empty()) {
        return QosClass::BestEffort;
    }
    let mut class = None;
    for name in COMPUTE {
        let limit = limits.and_then(|m| m.get(name));
        // What the API server stores: a missing request is the limit.
        let request = requests.and_then(|m| m.get(name)).or(limit);
        if !same(request, limit) {
            return QosClass::Burstable;
        }
        let this = if is_zero(request) { QosClass::BestEffort } else { QosClass::Guaranteed };
        match class {
            None => class = Some(this),
            Some(c) if c != this => return QosClass::Burstable,
            Some(_) => {}
        }
    }
    class.unwrap_or(QosClass::BestEffort)
}

/// Whether a class may become another when harden adds resources: only
/// staying the same, or BestEffort → Burstable (requests where none were).
pub fn allowed(before: QosClass, after: QosClass) -> bool {
    before == after || (before == QosClass::BestEffort && after == QosClass::Burstable)
}

/// Two quantities are the same amount (an absent one is zero). A value that
/// is not a quantity is only the same as itself.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (amount(a), amount(b)) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

fn is_zero(v: Option<&Value>) -> bool {
    amount(v) == Some(0.0)
}

fn amount(v: Option<&Value>) -> Option<f64> {
    match v {
        None => Some(0.0),
        Some(v) => quantity::of_value(v),
    }
}

#[cfg(test)]
mod tests {
    use super::QosClass::{BestEffort, Burstable, Guaranteed};
    use super::*;
    use serde_json::json;

    fn pod(containers: Value) -> Value {
        json!({ "containers": containers })
    }

    #[test]
    fn a_container_class_follows_its_cpu_and_memory() {
        assert_eq!(resources_qos(None), BestEffort);
        assert_eq!(resources_qos(Some(&json!({}))), BestEffort);
        // Other resources do not count.
        assert_eq!(resources_qos(Some(&json!({"requests": {"ephemeral-storage": "1Gi"}}))), BestEffort);
        let equal = json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1000m", "memory": "1024Mi"}});
        assert_eq!(resources_qos(Some(&equal)), Guaranteed);
        let lower = json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}});
        assert_eq!(resources_qos(Some(&lower)), Burstable);
        assert_eq!(resources_qos(Some(&json!({"limits": {"memory": "1Gi"}}))), Burstable, "no cpu");
        assert_eq!(resources_qos(Some(&json!({"requests": {"cpu": "100m"}}))), Burstable);
        // A zero limit is no limit: its defaulted request is zero too.
        assert_eq!(resources_qos(Some(&json!({"limits": {"cpu": "0", "memory": 0}}))), BestEffort);
    }

    #[test]
    fn limits_without_requests_are_guaranteed_because_requests_default_to_them() {
        let r = json!({"limits": {"cpu": "4", "memory": "8Gi"}});
        assert_eq!(resources_qos(Some(&r)), Guaranteed);
        assert_eq!(pod_qos(&pod(json!([{"name": "a", "resources": r}]))), Guaranteed);
    }

    #[test]
    fn a_pod_is_guaranteed_only_if_every_container_is_init_containers_included() {
        let g = json!({"limits": {"cpu": "1", "memory": "1Gi"}});
        assert_eq!(pod_qos(&pod(json!([{"resources": g}, {"resources": g}]))), Guaranteed);
        assert_eq!(pod_qos(&pod(json!([{"resources": g}, {}]))), Burstable, "Guaranteed + BestEffort");
        assert_eq!(pod_qos(&pod(json!([{}, {"name": "b"}]))), BestEffort);
        assert_eq!(pod_qos(&json!({})), BestEffort);
        let with_init = json!({"initContainers": [{}], "containers": [{"resources": g}]});
        assert_eq!(pod_qos(&with_init), Burstable, "a BestEffort init container counts");
        let ephemeral = json!({"ephemeralContainers": [{}], "containers": [{"resources": g}]});
        assert_eq!(pod_qos(&ephemeral), Guaranteed, "ephemeral containers do not count");
    }

    #[test]
    fn pod_level_resources_decide_alone() {
        let spec = json!({
            "resources": {"limits": {"cpu": "2", "memory": "2Gi"}},
            "containers": [{}, {"resources": {"requests": {"cpu": "1"}}}]
        });
        assert_eq!(pod_qos(&spec), Guaranteed);
    }

    #[test]
    fn only_best_effort_to_burstable_is_allowed() {
        assert!(allowed(BestEffort, Burstable));
        assert!(allowed(Guaranteed, Guaranteed));
        assert!(!allowed(Guaranteed, Burstable));
        assert!(!allowed(Burstable, Guaranteed));
        assert!(!allowed(BestEffort, Guaranteed));
    }
}
