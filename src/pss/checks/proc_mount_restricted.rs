//! `procMount_restricted` (restricted, **v1.35+**): containers must keep the
//! default `/proc` masks even in a user namespace.
//!
//! Field: `securityContext.procMount` of every container. Allowed: unset or
//! `Default`, regardless of `spec.hostUsers`. Baseline `procMount` started
//! allowing anything for `hostUsers: false` pods in 1.35; this check, which
//! overrides it under restricted, keeps restricted as strict as before.

use super::proc_mount::proc_mount_1_0;
use crate::pss::{Check, Level, VersionedCheck};

pub(crate) static CHECK: Check = Check {
    id: "procMount_restricted",
    level: Level::Restricted,
    versions: &[VersionedCheck { since: 35, run: proc_mount_1_0, overrides: &["procMount"] }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pss::pod::Pod;
    use serde_json::json;

    #[test]
    fn ignores_host_users() {
        let spec =
            json!({"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]});
        let v = (CHECK.versions[0].run)(&Pod::new(None, &spec)).expect("fails");
        assert_eq!(v.reason, "procMount");
        assert_eq!(v.detail, r#"container "a" must not set securityContext.procMount to "Unmasked""#);
    }
}
