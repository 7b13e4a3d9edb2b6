//! Will it start? For each image family of `data/images.yaml`, a workload
//! of that image hardened with the defaults: the exact YAML
//! (`tests/fixtures/images/expected/NAME.yaml`) and what harden says on
//! stderr (`NAME.stderr`), each read and checked against the row's sources
//! ("the output starts, by the row's own requirements"). Every output,
//! hardened again, stays as it is.
//!
//! `HARDEN_BLESS=1 cargo test --test images` rewrites the expected files;
//! read every one before keeping it.

mod support;
mod write_support;

use serde_json::Value;
use support::harden as run_stdin;
use write_support::{expect_in, run, stderr, stdout};

const FIXTURES: &str = "tests/fixtures/images";
const EXPECTED: &str = "tests/fixtures/images/expected";

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}.yaml")
}

/// Harden the fixture, compare stdout and stderr with their expected files,
/// and harden the output again: nothing changes. Returns stdout.
fn scenario(name: &str, args: &[&str]) -> String {
    scenario_as(name, name, args)
}

/// The same, with the expected files named `expected`.
fn scenario_as(name: &str, expected: &str, args: &[&str]) -> String {
    let path = fixture(name);
    let mut all = args.to_vec();
    all.push(&path);
    let o = run(&all);
    assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    expect_in(EXPECTED, &format!("{expected}.yaml"), &out);
    expect_in(EXPECTED, &format!("{expected}.stderr"), &err);
    let mut again = args.to_vec();
    again.extend(["-q", "--pss-version", "latest", "-"]);
    let second = run_stdin(&again, out.as_bytes());
    assert_eq!(second.stdout, out, "{name}: hardening the output again changes it");
    out
}

macro_rules! scenarios {
    ($($test:ident: $name:literal $(, $arg:literal)*;)*) => {$(
        #[test]
        fn $test() {
            scenario($name, &[$($arg),*]);
        }
    )*};
}

scenarios! {
    nginx_official_with_service: "nginx-official-with-service";
    nginx_official_templates: "nginx-official-templates";
    nginx_before_1_27_5_keeps_its_pid_in_var_run: "nginx-1.26-alpine-pid-in-var-run";
    nginx_from_a_registry_mirror_is_nginx: "nginx-from-a-registry-mirror";
    nginx_unprivileged_runs_as_101: "nginx-unprivileged";
    httpd_official: "httpd-official";
    redis_official_without_volume: "redis-official-without-volume";
    redis_alpine_with_pvc: "redis-alpine-with-pvc";
    postgres16_emptydir_default_pgdata: "postgres16-emptydir-default-pgdata";
    postgres16_pvc_default_pgdata: "postgres16-pvc-default-pgdata";
    postgres16_owner_sets_pgdata: "postgres16-owner-sets-pgdata";
    postgres17_alpine: "postgres17-alpine";
    postgres18_plain: "postgres18-plain";
    mysql_official: "mysql-official";
    mariadb_official: "mariadb-official";
    mariadb_ubi: "mariadb-ubi";
    mongo_official: "mongo-official";
    rabbitmq_official: "rabbitmq-official";
    rabbitmq_alpine: "rabbitmq-alpine";
    memcached_official: "memcached-official";
    haproxy_with_config: "haproxy-with-config";
    traefik_official: "traefik-official";
    caddy_official: "caddy-official";
    caddy_owner_drops_all: "caddy-owner-drops-all";
    prometheus_official: "prometheus-official";
    prometheus_distroless_quay: "prometheus-distroless-quay";
    grafana_official: "grafana-official";
    elasticsearch_official: "elasticsearch-official";
    elasticsearch_owner_made_root_read_only: "elasticsearch-owner-made-root-read-only";
    opensearch_official: "opensearch-official";
    python_official: "python-official";
    python_pip_install_at_start: "python-pip-install-at-start";
    node_official: "node-official";
    dotnet_aspnet: "dotnet-aspnet";
    busybox_official: "busybox-official";
    alpine_apk_add_at_start: "alpine-apk-add-at-start";
    bitnami_nginx: "bitnami-nginx";
    bitnami_postgresql: "bitnami-postgresql";
    bitnami_other_image: "bitnami-other-image";
    distroless_nonroot: "distroless-nonroot";
    distroless_root_tag: "distroless-root-tag";
    chainguard_nginx: "chainguard-nginx";
    ingress_nginx_controller: "ingress-nginx-controller";
    ingress_nginx_controller_chroot: "ingress-nginx-controller-chroot";
    docker_dind: "docker-dind";
    wordpress_official: "wordpress-official";
    wordpress_cli_job: "wordpress-cli-job";
    zookeeper_official: "zookeeper-official";
    zookeeper_with_config: "zookeeper-with-config";
    registry_official: "registry-official";
    vault_official: "vault-official";
    unknown_images: "unknown-images";
    nginx_official_no_ports_declared: "nginx-official-no-ports-declared";
    nginx_official_configmap_move: "nginx-official-configmap-move", "--ports", "move";
    nginx_official_move_config_not_in_stream: "nginx-official-move-config-not-in-stream", "--ports", "move";
    nginx_official_shared_configmap_moves_nobody: "nginx-official-shared-configmap", "--ports", "move";
    httpd_configmap_move: "httpd-configmap-move", "--ports", "move";
    haproxy_configmap_move: "haproxy-configmap-move", "--ports", "move";
    redis_flag_port_is_high: "redis-flag-port-is-high";
    traefik_flag_present_is_rewritten: "traefik-flag-present";
}

/// A `Flag` row whose flag the command line lacks: harden adds no args
/// (they would replace the image's command); `--ports move` moves the
/// manifest side and says what to add.
#[test]
fn traefik_flag_absent_adds_no_args() {
    let out = scenario_as("traefik-official", "traefik-flag-absent-move", &["--ports", "move"]);
    assert!(!out.contains("args"), "{out}");
    assert!(out.contains("containerPort: 8080"), "{out}");
}

/// The image's row, not the manifest, says nginx listens on 80: the report
/// names the row and its source where it keeps the port with the sysctl.
#[test]
fn nginx_official_no_ports_declared_report_names_the_row() {
    let o = run(&["-q", "-o", "report", &fixture("nginx-official-no-ports-declared")]);
    assert!(o.status.success());
    let report = stdout(&o);
    assert!(
        report.contains(
            "harden cannot tell container \"nginx\" to listen elsewhere: row nginx says the image reads port 80 from \
             `listen` in /etc/nginx/conf.d/default.conf, which is not in this stream; source: \
             https://github.com/nginx/pkg-oss/blob/e6727633b9dd48a3208c42b9827abbdcd771560a/debian/debian/nginx.default.conf#L2"
        ),
        "{report}"
    );
    assert!(!stdout(&run(&[&fixture("nginx-official-no-ports-declared")])).contains("containerPort"), "none invented");
}

#[test]
fn dotnet_profile_on_a_dotnet_image() {
    scenario_as("dotnet-aspnet", "dotnet-aspnet-dotnet-profile", &["--profile", "dotnet"]);
}

/// The same workload hardened twice over: a container harden expects not to
/// start fails `--check` even where nothing is left to change.
#[test]
fn will_not_start_fails_the_check_gate() {
    let hardened = scenario("caddy-owner-drops-all", &[]);
    let o = run_stdin(&["--check", "-"], hardened.as_bytes());
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("will not start as hardened: row caddy says the image needs NET_BIND_SERVICE"));
    // The same image, hardened by harden itself, passes the gate.
    let fine = scenario("caddy-official", &[]);
    let o = run_stdin(&["--check", "-"], fine.as_bytes());
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// `--partial` applies the fixes to a root-only container: it then will not start.
#[test]
fn root_only_with_partial_is_reported_as_not_starting() {
    let o = run(&["--partial", &fixture("alpine-apk-add-at-start")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("runAsNonRoot: true"), "the other fixes are applied");
    let err = stderr(&o);
    assert!(err.contains("the command `apk add` it runs at start (it needs root:"), "{err}");
    assert!(
        err.contains(
            "container \"tools\": will not start as hardened: the command `apk add` it runs at start needs root"
        ),
        "{err}"
    );
}

/// A path the image writes under a read-only volume: it will not start.
#[test]
fn a_read_only_volume_over_a_written_path_will_not_start() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: replica}\nspec:\n  containers:\n  - name: redis\n    image: redis:8.2\n    volumeMounts:\n    - {name: data, mountPath: /data, readOnly: true}\n  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: snapshot}\n";
    let o = run_stdin(&["--check", "-o", "yaml", "-"], input.as_bytes());
    assert_eq!(o.code, 1);
    let err = &o.stderr;
    assert!(
        err.contains(
            "Pod/replica: container \"redis\": will not start as hardened: row redis says the image writes /data"
        ),
        "{err}"
    );
    assert!(err.contains("but volume data is mounted read-only at /data"), "{err}");
    assert!(!o.stdout.contains("harden-data"), "no emptyDir over the owner's volume");
}

/// However many containers run unknown images, stderr gets one line.
#[test]
fn unknown_images_are_one_line_on_stderr() {
    let containers: String =
        (1..=5).map(|i| format!("  - name: c{i}\n    image: registry.corp/team/app{i}:1\n")).collect();
    let input = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: many}}\nspec:\n  containers:\n{containers}");
    let o = run_stdin(&["-"], input.as_bytes());
    let err = &o.stderr;
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(
        notes,
        [
            "note: 5 containers run images harden's table does not know (registry.corp/team/app1:1, registry.corp/team/app2:1, \
          registry.corp/team/app3:1, …): assumed they write only /tmp and run as any UID; check they start, or add rows \
          (--images); -o report lists them"
        ]
    );
    let o = run_stdin(&["-q", "-"], input.as_bytes());
    assert_eq!(o.stderr, "", "-q leaves the summary lines out");
}

/// A base image's row knows its user, not what the application built on
/// it writes: the report says so per container, stderr once, and a row of
/// the team's own that lists what it writes silences it.
#[test]
fn writes_unknown_rows_are_said_like_unknown_images() {
    let o = run(&["-o", "report", &fixture("python-official")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("image python:3.13-slim is in harden's table without what it writes (row python): assumed it writes only /tmp"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("1 container runs an image harden's table knows only in part (python:3.13-slim)"));

    let dir = tempfile::tempdir().expect("temp dir");
    let table = dir.path().join("images.yaml");
    let row = "images:\n- family: our-python-app\n  match: [python]\n  user: {any: true, source: \"https://example.com/our/Dockerfile\"}\n  writable:\n  - {path: /app/cache, why: cache, source: \"https://example.com/our/app.py\"}\n";
    std::fs::write(&table, row).expect("written");
    let own = run(&["-o", "report", "--images", table.to_str().expect("UTF-8"), &fixture("python-official")]);
    assert!(own.status.success(), "{}", stderr(&own));
    assert!(!stdout(&own).contains("without what it writes"), "{}", stdout(&own));
    assert!(!stderr(&own).contains("knows only in part"), "{}", stderr(&own));
    assert!(stdout(&own).contains("/app/cache"), "the team's row is used: {}", stdout(&own));
}

/// The reasons in the report name the row that asked for each change.
#[test]
fn the_report_names_the_row() {
    let o = run(&["-q", "-o", "report", &fixture("postgres16-emptydir-default-pgdata")]);
    assert!(o.status.success());
    expect_in(EXPECTED, "postgres16-emptydir-default-pgdata.report.txt", &stdout(&o));
}

/// A private image's row, given in a HardenConfig, an `--images` file or a
/// KRM functionConfig, hardens it exactly as the built-in row for the image
/// it copies hardens that one.
#[test]
fn a_private_row_hardens_like_the_built_in_one() {
    let config = format!("{FIXTURES}/private-image-config.yaml");
    let with_config = run(&["-q", "--config", &config, &fixture("private-image")]);
    assert!(with_config.status.success(), "{}", stderr(&with_config));
    let [official, private] = workloads(&stdout(&with_config));
    assert_eq!(private, official, "the private row hardens like the built-in one");
    assert_eq!(private["securityContext"]["runAsUser"], 999);
    let env = &private["containers"][0]["env"];
    assert_eq!(env[0], serde_json::json!({"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}));

    // The same rows as an --images file.
    let dir = tempfile::tempdir().expect("temp dir");
    let table = dir.path().join("images.yaml");
    let rows = std::fs::read_to_string(&config)
        .expect("config")
        .replace("apiVersion: harden.dev/v1alpha1\nkind: HardenConfig\n", "");
    std::fs::write(&table, rows).expect("written");
    let with_file = run(&["-q", "--images", table.to_str().expect("UTF-8"), &fixture("private-image")]);
    assert_eq!(stdout(&with_file), stdout(&with_config));

    // And as a KRM function's functionConfig.
    let config_text = std::fs::read_to_string(&config).expect("config");
    let manifest = std::fs::read_to_string(fixture("private-image")).expect("fixture");
    let items: String = manifest
        .split("---\n")
        .map(|d| d.lines().filter(|l| !l.starts_with('#')).map(|l| format!("    {l}\n")).collect::<String>())
        .map(|d| format!("  - {}", d.trim_start()))
        .collect();
    let function_config: String = config_text.lines().map(|l| format!("  {l}\n")).collect();
    let list = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{items}functionConfig:\n{function_config}"
    );
    let krm = run_stdin(&[], list.as_bytes());
    assert_eq!(krm.code, 0, "{}", krm.stderr);
    let out = harden::yaml::parse_values(&krm.stdout).expect("YAML").remove(0);
    let specs: Vec<&Value> =
        out["items"].as_array().expect("items").iter().map(|i| &i["spec"]["template"]["spec"]).collect();
    assert_eq!(specs[1]["securityContext"]["runAsUser"], 999, "{}", krm.stdout);
    assert_eq!(without_image(specs[1]), without_image(specs[0]));

    // Without the row, the private image is one harden does not know.
    let plain = run(&[&fixture("private-image")]);
    let [_, private] = workloads(&stdout(&plain));
    assert_eq!(private["securityContext"]["runAsUser"], 10001);
    assert!(
        stderr(&plain)
            .contains("1 container runs an image harden's table does not know (registry.corp/team/postgres:16)")
    );
}

/// Each Deployment's pod spec, its image left out.
fn workloads(yaml: &str) -> [Value; 2] {
    let docs = harden::yaml::parse_values(yaml).expect("YAML");
    let specs: Vec<Value> = docs.iter().map(|d| without_image(&d["spec"]["template"]["spec"])).collect();
    specs.try_into().expect("two workloads")
}

fn without_image(spec: &Value) -> Value {
    let mut spec = spec.clone();
    spec["containers"][0]["image"] = Value::Null;
    spec
}

/// A table that cannot be right is refused before anything is read.
#[test]
fn an_images_file_without_sources_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = dir.path().join("images.yaml");
    std::fs::write(&table, "images:\n  - family: ours\n    match: [registry.corp/ours]\n    user: {uid: 5000}\n")
        .expect("written");
    let o = run(&["--images", table.to_str().expect("UTF-8"), &fixture("private-image")]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("is not valid: row 1 (ours): user has no source."), "{}", stderr(&o));
}

/// An image that needs root, which its manifest already runs as another
/// user: nothing to block (the owner chose), but it will not start.
#[test]
fn a_root_only_image_run_as_non_root_will_not_start() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: builder}\nspec:\n  securityContext: {runAsUser: 1000}\n  containers:\n  - name: dind\n    image: docker:28-dind\n";
    let o = run_stdin(&["--check", "-"], input.as_bytes());
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "Pod/builder: container \"dind\": will not start as hardened: image docker:28-dind (row docker-dind) needs root: \
             Docker-in-Docker requires a privileged container; fix: none documented"
        ),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("violates"), "not a blocker: {}", o.stderr);
}

/// An init container of a database's image (a setup script) gets the paths
/// the image writes, but no warning about the workload's data: it keeps none.
#[test]
fn an_init_container_keeps_no_data() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata: {name: db}\nspec:\n  initContainers:\n  - name: init-mysql\n    image: mysql:8.4\n    command: [bash, -c, \"echo ok > /mnt/conf.d/server-id.cnf\"]\n  containers:\n  - name: mysql\n    image: mysql:8.4\n";
    let o = run_stdin(&["-"], input.as_bytes());
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Each container its own emptyDirs: the init container's first.
    let pod = harden::yaml::parse_values(&o.stdout).expect("YAML").remove(0);
    let mounts = |list: &str| -> Vec<String> {
        pod["spec"][list][0]["volumeMounts"]
            .as_array()
            .expect("mounts")
            .iter()
            .map(|m| format!("{} {}", m["name"].as_str().unwrap_or(""), m["mountPath"].as_str().unwrap_or("")))
            .collect()
    };
    assert_eq!(
        mounts("initContainers"),
        ["harden-tmp /tmp", "harden-var-run-mysqld /var/run/mysqld", "harden-var-lib-mysql /var/lib/mysql"]
    );
    assert_eq!(
        mounts("containers"),
        ["harden-tmp /tmp", "harden-var-run-mysqld-2 /var/run/mysqld", "harden-var-lib-mysql-2 /var/lib/mysql"]
    );
    let warnings: Vec<&str> = o.stderr.lines().filter(|l| l.contains("keeps its data")).collect();
    assert_eq!(warnings.len(), 1, "{}", o.stderr);
    assert!(warnings[0].starts_with("warning: Pod/db: container \"mysql\": row mysql keeps its data"), "{}", o.stderr);
}
