//! What each rule and Pod Security control means, in words, for the report
//! and for SARIF rule descriptors (GitHub shows `help` next to each alert).
//! Kept here, apart from the rules, because it is presentation; an id this
//! table does not know still gets a generic text rather than nothing.

/// A short title and a paragraph of help.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Help {
    pub title: &'static str,
    pub text: &'static str,
}

/// Help for a harden rule id (the `rule` of a change or note).
pub fn rule(id: &str) -> Help {
    let (title, text) = match id {
        "windows-os" => (
            "Declare the pod's OS (spec.os.name: windows)",
            "A pod that a Windows node selector sends to Windows gets spec.os.name: windows, the field API validation and the Pod Security checks (from v1.25) use to know that Linux-only fields do not apply. Not a Pod Security requirement (harden default).",
        ),
        "container-administrator" => (
            "Windows containers must not run as ContainerAdministrator",
            "A Windows pod or container running as ContainerAdministrator can never satisfy runAsNonRoot: the kubelet refuses to start it. harden cannot choose another user for the image; set windowsOptions.runAsUserName to a non-administrator account.",
        ),
        "root-only" => (
            "Images that can only run as root",
            "A container whose image needs root (its row in harden's image table says so, or its command installs packages at start) cannot pass Pod Security restricted, which requires runAsNonRoot: a blocker, with the reason and a non-root alternative.",
        ),
        "image-env" => (
            "Environment an image needs when hardened",
            "The variables an image's row in harden's table says it needs under harden's settings (a read-only root, a non-root UID), set where the container does not set them already. Not a Pod Security requirement (harden default).",
        ),
        "unknown-image" => (
            "Images harden's table does not know",
            "A container whose image no row of harden's image table matches is hardened on two assumptions: it writes only /tmp and runs as any UID. Check that it starts, or add a row (--images), or let harden read the image's config from its registry (--resolve-images): the notes then say what it read.",
        ),
        "run-as-non-root" => (
            "Run as non-root (runAsNonRoot: true)",
            "Pod Security restricted (check runAsNonRoot) requires runAsNonRoot: true at pod level or on every container; an explicit false fails.",
        ),
        "run-as-user" => (
            "Run with a numeric non-root UID",
            "Pod Security restricted forbids runAsUser: 0 (check runAsUser, from v1.23). The numeric UID, GID and fsGroup themselves are a harden default, not a Pod Security requirement: without a numeric UID the kubelet refuses runAsNonRoot for images whose USER is unset or a name.",
        ),
        "seccomp" => (
            "Use the runtime's default seccomp profile",
            "Pod Security restricted (check seccompProfile_restricted, from v1.19) requires seccompProfile.type RuntimeDefault or Localhost at pod level or on every container; baseline forbids Unconfined.",
        ),
        "privilege-escalation" => (
            "Forbid privilege escalation (allowPrivilegeEscalation: false)",
            "Pod Security restricted (check allowPrivilegeEscalation) requires every container to set allowPrivilegeEscalation: false explicitly; unset counts as true. Windows pods are exempt from v1.25.",
        ),
        "capabilities" => (
            "Drop all capabilities (capabilities.drop: [ALL])",
            "Pod Security restricted (check capabilities_restricted, from v1.22) requires every container to drop ALL (exactly that string) and to add nothing but NET_BIND_SERVICE.",
        ),
        "read-only-root-filesystem" => (
            "Read-only root filesystem, writable /tmp",
            "readOnlyRootFilesystem: true with an emptyDir at /tmp. Not a Pod Security requirement (harden default): it keeps an attacker from changing the container's files.",
        ),
        "resources" => (
            "CPU and memory requests, a memory limit",
            "Requests and a memory limit where missing, from the profile (no CPU limit: it throttles). Not a Pod Security requirement (harden default).",
        ),
        "service-account-token" => (
            "Do not mount the default service account's token",
            "automountServiceAccountToken: false for pods on the default service account. Not a Pod Security requirement (harden default).",
        ),
        "unprivileged-port" => (
            "Serve on unprivileged ports",
            "A non-root process cannot bind ports below 1024: harden moves the port (80 to 8080, 443 to 8443) with everything that points at it, or allows the bind with the sysctl net.ipv4.ip_unprivileged_port_start. Not a Pod Security requirement (harden default).",
        ),
        "namespace-pod-security" => (
            "Namespace Pod Security labels below the hardened level",
            "The namespace's pod-security.kubernetes.io/enforce, audit or warn label admits or reports at a lower level than the one harden hardened to, so the cluster would not keep these workloads at that level. Information only; harden does not change labels.",
        ),
        "edit-refused" => (
            "Fixes that could not be written",
            "harden planned fixes for this document but could not write them without changing more than the fix (aliases, merge keys). The document is left as it is.",
        ),
        "withheld" => (
            "Fixes withheld because of violations",
            "harden leaves a pod with violations it cannot fix (host access, privileges) byte-identical, including the fixes it could make; --partial applies those fixes and keeps the violations.",
        ),
        "skipped" => (
            "Resource left alone",
            "The resource was not hardened: an annotation or the config exempts it, or it is a patch fragment rather than a complete workload.",
        ),
        _ => ("harden rule", "A hardening rule; see harden's README for the rules."),
    };
    Help { title, text }
}

/// Help for a Pod Security check id (the control of a remaining violation).
pub fn pss(check: &str) -> Help {
    let (title, text) = match check {
        "hostNamespaces" => ("Host namespaces", "hostNetwork, hostPID and hostIPC must be unset or false."),
        "privileged" => ("Privileged containers", "securityContext.privileged must be unset or false."),
        "capabilities_baseline" => (
            "Capabilities (baseline)",
            "Added capabilities must be among the default set (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT).",
        ),
        "capabilities_restricted" => (
            "Capabilities (restricted)",
            "Every container must drop ALL and may add only NET_BIND_SERVICE (from v1.22; Windows pods exempt from v1.25).",
        ),
        "hostPathVolumes" => ("HostPath volumes", "hostPath volumes are forbidden."),
        "restrictedVolumes" => (
            "Volume types",
            "Only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes are allowed.",
        ),
        "hostPorts" => ("Host ports", "hostPort must be unset or 0."),
        "appArmorProfile" => ("AppArmor", "AppArmor profiles may only be RuntimeDefault or Localhost."),
        "seLinuxOptions" => {
            ("SELinux", "seLinuxOptions.type must be one of the container types, and user and role must be unset.")
        }
        "procMount" | "procMount_restricted" => ("/proc mount type", "procMount must be unset or Default."),
        "seccompProfile_baseline" => ("Seccomp (baseline)", "seccomp profiles must not be Unconfined."),
        "seccompProfile_restricted" => (
            "Seccomp (restricted)",
            "seccompProfile.type must be RuntimeDefault or Localhost at pod level or on every container (from v1.19).",
        ),
        "sysctls" => ("Sysctls", "Only the namespaced sysctls on the Pod Security allow-list may be set."),
        "windowsHostProcess" => ("Windows HostProcess", "windowsOptions.hostProcess must be unset or false."),
        "hostProbesAndHostLifecycle" => {
            ("Probe and lifecycle hosts", "Probes and lifecycle handlers must not set host (from v1.34).")
        }
        "allowPrivilegeEscalation" => (
            "Privilege escalation",
            "Every container must set allowPrivilegeEscalation: false (Windows pods exempt from v1.25).",
        ),
        "runAsNonRoot" => ("Running as non-root", "runAsNonRoot must be true at pod level or on every container."),
        "runAsUser" => ("Non-root user", "runAsUser must not be 0 (from v1.23)."),
        _ => ("Pod Security control", "A Pod Security Standards check."),
    };
    Help { title, text }
}

/// The check id behind a blocker's control (`PSS privileged` → `privileged`).
pub fn pss_check(control: &str) -> Option<&str> {
    control.strip_prefix("PSS ").map(str::trim)
}
