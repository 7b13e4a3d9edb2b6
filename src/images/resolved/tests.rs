use super::*;
use crate::images::ImageTable;

const DIGEST: &str = "sha256:c0ffee";

fn config(user: Option<&str>, volumes: &[&str], ports: &[&str], env: &[&str]) -> ImageConfig {
    ImageConfig {
        digest: DIGEST.to_string(),
        user: user.map(str::to_string),
        exposed_ports: ports.iter().map(|p| p.to_string()).collect(),
        volumes: volumes.iter().map(|v| v.to_string()).collect(),
        env: env.iter().map(|e| e.to_string()).collect(),
        working_dir: None,
    }
}

fn row_of(c: &ImageConfig) -> ImageRow {
    merged(None, from_config("registry.corp/team/app:1", c), None)
}

#[test]
fn a_numeric_user_is_the_uid_and_the_gid_when_given() {
    for (user, ids) in [("1654", (1654, 1654)), ("1001:0", (1001, 0)), ("1234:1234", (1234, 1234))] {
        let row = row_of(&config(Some(user), &[], &[], &[]));
        assert_eq!(row.ids(), Some(ids), "{user}");
        let Some(User::Id { source, .. }) = &row.user else { panic!("{user}: no user") };
        assert_eq!(source, "registry: registry.corp/team/app:1@sha256:c0ffee config.User");
        assert_eq!(
            row.registry_notes,
            [format!("image registry.corp/team/app:1: config.User {user:?}: runs as UID {}, GID {}", ids.0, ids.1)]
        );
    }
}

#[test]
fn a_user_by_name_unset_or_root_gives_no_uid_and_says_set_user_by_uid() {
    for (user, said) in [(Some("app"), "\"app\" is a name"), (None, "is unset (root)"), (Some("0"), "\"0\" is root")] {
        let row = row_of(&config(user, &[], &[], &[]));
        assert_eq!(row.user, None, "{user:?}");
        let [note] = row.registry_notes.as_slice() else { panic!("{:?}", row.registry_notes) };
        assert!(note.starts_with(&format!("image registry.corp/team/app:1: config.User {said}: ")), "{note}");
        assert!(note.contains("set USER by UID in the image (`USER $APP_UID`"), "{note}");
    }
}

#[test]
fn app_uid_is_the_uid_when_user_is_a_name() {
    let row = row_of(&config(Some("app"), &[], &[], &["APP_UID=1654"]));
    assert_eq!(row.ids(), Some((1654, 1654)));
    assert_eq!(row.registry_notes.len(), 2, "the UID and the advice: {:?}", row.registry_notes);
    assert!(row.registry_notes[0].contains("config.Env APP_UID=1654: runs as UID 1654"));
    // Not where USER is unset: the image runs as root then, whatever APP_UID says.
    assert_eq!(row_of(&config(None, &[], &[], &["APP_UID=1654"])).user, None);
}

#[test]
fn volumes_are_writable_data_directories() {
    let row = row_of(&config(Some("1001"), &["/data", "/var/cache/app/", "relative", "/"], &[], &[]));
    let paths: Vec<(&str, bool, bool)> = row.writable.iter().map(|w| (w.path.as_str(), w.data, w.empty_dir)).collect();
    assert_eq!(paths, [("/data", true, true), ("/var/cache/app", true, true)]);
    assert!(row.registry_notes.iter().any(|n| n.ends_with("config.Volumes /data: a data directory, made writable")));
}

#[test]
fn exposed_ports_say_how_the_image_env_tells_them() {
    let env = ["ASPNETCORE_HTTP_PORTS=8080;8081", "ASPNETCORE_URLS=http://+:5000", "PORT=3000"];
    let c = config(Some("1001"), &[], &["80/tcp", "8081/tcp", "5000/tcp", "3000/tcp", "80/udp", "x/tcp"], &env);
    let hows: Vec<(u16, PortSetting)> = row_of(&c).ports.into_iter().map(|p| (p.port, p.how)).collect();
    assert_eq!(
        hows,
        [
            (80, PortSetting::Fixed),
            (8081, PortSetting::Env("ASPNETCORE_HTTP_PORTS".into())),
            (5000, PortSetting::Env("ASPNETCORE_URLS".into())),
            (3000, PortSetting::Env("PORT".into())),
        ]
    );
}

fn table() -> ImageTable {
    let src = "https://example.org/Dockerfile#L1";
    let built_in = ImageTable::from_text(
        &format!(
            "images:\n  - family: web\n    match: [registry.corp/team/web]\n    user: {{uid: 101, source: {src}}}\n    \
             capabilities: [{{keep: NET_BIND_SERVICE, why: binds 80, source: {src}}}]\n    \
             writable: [{{path: /var/cache/web, why: cache, source: {src}}}, {{path: /data, why: table, source: {src}}}]\n    \
             ports: [{{port: 80, config: {{path: /etc/web.conf, directive: listen}}, source: {src}}}, \
             {{port: 9000, flag: --admin, source: {src}}}]\n"
        ),
        "built-in",
    )
    .expect("valid");
    let user = ImageTable::from_text(
        &format!(
            "images:\n  - family: ours\n    match: [registry.corp/team/web]\n    \
             ports: [{{port: 8443, env: TLS_PORT, source: {src}}}, {{port: 443, env: HTTPS_PORT, source: {src}}}]\n"
        ),
        "user",
    )
    .expect("valid");
    built_in.with_user_rows(user)
}

#[test]
fn the_users_row_then_the_registry_then_the_built_in_row_field_by_field() {
    let reference = "registry.corp/team/web:2";
    let c = config(Some("5000"), &["/data", "/srv"], &["80/tcp", "443/tcp", "8080/tcp"], &["PORT=8080"]);
    let table = table().with_resolved(&[(reference.to_string(), c)]);
    let row = table.find(reference).expect("resolved");
    assert_eq!(row.family, "ours + registry");
    assert_eq!(row.ids(), Some((5000, 5000)), "the registry's user over the built-in row's 101");
    assert_eq!(row.capabilities.len(), 1, "the built-in row's, which neither the user nor the registry states");
    let writable: Vec<(&str, &str)> = row.writable.iter().map(|w| (w.path.as_str(), w.why.as_str())).collect();
    assert_eq!(
        writable,
        [
            ("/data", "VOLUME /data in the image's config"),
            ("/srv", "VOLUME /srv in the image's config"),
            ("/var/cache/web", "cache")
        ],
        "united by path, the registry's fact first"
    );
    let ports: Vec<(u16, PortSetting)> = row.ports.iter().map(|p| (p.port, p.how.clone())).collect();
    assert_eq!(
        ports,
        [
            (80, PortSetting::Config { path: "/etc/web.conf".into(), directive: "listen".into() }),
            (443, PortSetting::Env("HTTPS_PORT".into())),
            (8080, PortSetting::Env("PORT".into())),
            (8443, PortSetting::Env("TLS_PORT".into())),
        ],
        "the registry's ports (told as the user's row, else the built-in row, else the image's env), then the \
         user's own; the built-in row's 9000 is not exposed"
    );
    // Another tag of the same repository, not read: the rows as before.
    assert_eq!(table.find("registry.corp/team/web:3").map(|r| r.family.as_str()), Some("ours"));
}

#[test]
fn a_resolved_image_without_a_row_is_known() {
    let table = ImageTable::default().with_resolved(&[("registry.corp/x:1".to_string(), config(None, &[], &[], &[]))]);
    let row = table.find("registry.corp/x:1").expect("a row, though the image states nothing");
    assert_eq!((row.family.as_str(), row.user.as_ref()), ("registry", None));
    assert_eq!(table.find("registry.corp/x:2"), None);
}
