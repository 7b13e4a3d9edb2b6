//! `service-account-token` (harden default): `automountServiceAccountToken:
//! false` for pods that run as the `default` service account and do not say
//! otherwise. A pod with its own service account most likely talks to the
//! API, so it is left alone.

use crate::plan::change::Control;
use crate::plan::pod::{Pod, PodPlan};
use serde_json::{Value, json};

pub const ID: &str = "service-account-token";

pub fn plan(pod: &Pod, out: &mut PodPlan) {
    // The profile does not ask for it, or it is already decided: nothing to do.
    let Some(want) = pod.profile.pod.automount_service_account_token else { return };
    if pod.get("/automountServiceAccountToken").is_some() || !pod.site.pod_security_context {
        return;
    }
    let account = pod.get("/serviceAccountName").or_else(|| pod.get("/serviceAccount")).and_then(Value::as_str);
    if account.is_some_and(|a| a != "default") {
        return; // its own service account: it most likely needs the token
    }
    out.set(
        "/automountServiceAccountToken",
        json!(want),
        Control::HardenDefault,
        "the default service account's token is not needed by a pod that does not talk to the API",
    );
}
