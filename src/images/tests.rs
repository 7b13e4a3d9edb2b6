use super::*;

const SRC: &str = "https://example.org/Dockerfile#L1";

fn table(yaml: &str) -> Result<ImageTable, String> {
    ImageTable::from_text(yaml, "test.yaml")
}

fn family<'a>(t: &'a ImageTable, image: &str) -> Option<&'a str> {
    t.find(image).map(|r| r.family.as_str())
}

#[test]
fn the_embedded_table_loads() {
    let t = ImageTable::built_in().unwrap_or_else(|e| panic!("{e}"));
    assert!(t.rows().len() >= 25, "{} rows", t.rows().len());
    assert!(!t.root_commands().is_empty());
    assert_eq!(t.find("mcr.microsoft.com/dotnet/aspnet:8.0").and_then(ImageRow::ids), Some((1654, 1654)));
}

#[test]
fn rows_without_sources_are_rejected() {
    let cases = [
        ("user: {uid: 999}", "row 1 (x): user has no source"),
        ("writable: [{path: /data}]", "row 1 (x): writable path /data has no source"),
        ("env: [{name: A, value: b, source: ''}]", "row 1 (x): env A has no source"),
        ("capabilities: [{keep: NET_BIND_SERVICE, source: 'docs'}]", "is not an https:// URL"),
        ("ports: [{port: 80, env: PORT}]", "row 1 (x): port 80 has no source"),
        ("source: 'docs'\n    user: {any: true, source: https://example.org/d}", "the row has source \"docs\""),
    ];
    for (fact, expected) in cases {
        let e = table(&format!("images:\n  - family: x\n    match: [x]\n    {fact}\n")).expect_err(fact);
        assert!(e.starts_with("The image table test.yaml is not valid: "), "{e}");
        assert!(e.contains(expected), "{fact}: {e}");
    }
}

/// The built-in table names, for every row, the file its image comes
/// from (a user's row may leave it out: its facts carry their sources).
#[test]
fn every_built_in_row_has_a_source() {
    let t = ImageTable::built_in().unwrap_or_else(|e| panic!("{e}"));
    let without: Vec<&str> = t.rows().iter().filter(|r| r.source.is_none()).map(|r| r.family.as_str()).collect();
    assert!(without.is_empty(), "rows without a source: {without:?}");
    let row = "images:\n  - family: x\n    match: [x]\n    user: {any: true, source: https://example.org/d}\n";
    assert!(ImageTable::from_text(row, "user.yaml").is_ok(), "a user's row needs no row source");
}

#[test]
fn shadowed_rows_are_rejected() {
    let e = table(&format!(
        "images:\n  - {{family: pg, match: [postgres], user: {{uid: 999, source: {SRC}}}}}\n  \
         - {{family: pg18, match: [docker.io/library/postgres], tags: '>=18', user: {{uid: 999, source: {SRC}}}}}\n"
    ))
    .expect_err("shadowed");
    assert!(e.contains("row 2 (pg18) can never match: row 1 (pg) comes first"), "{e}");
    assert!(e.contains("overlapping patterns in the wrong order"), "{e}");
    let e = table(&format!(
        "images:\n  - {{family: all, match: [bitnami/*], user: {{uid: 1001, source: {SRC}}}}}\n  \
         - {{family: redis, match: [bitnami/redis], user: {{uid: 1001, source: {SRC}}}}}\n"
    ))
    .expect_err("a wildcard row first");
    assert!(e.contains("row 2 (redis) can never match"), "{e}");
    // The narrower row first is the right order.
    table(&format!(
        "images:\n  - {{family: pg18, match: [postgres], tags: '>=18', user: {{uid: 999, source: {SRC}}}}}\n  \
         - {{family: pg, match: [postgres], user: {{uid: 999, source: {SRC}}}}}\n"
    ))
    .expect("narrower first");
}

#[test]
fn user_is_exactly_one_kind() {
    for user in [
        format!("{{uid: 1, any: true, source: {SRC}}}"),
        format!("{{source: {SRC}}}"),
        format!("{{any: true, gid: 3, source: {SRC}}}"),
        format!("{{rootOnly: needs it, source: {SRC}}}"),
        format!("{{uid: 0, source: {SRC}}}"),
    ] {
        let e = table(&format!("images:\n  - family: x\n    match: [x]\n    user: {user}\n")).expect_err(&user);
        assert!(e.contains("row 1 (x): user"), "{user}: {e}");
    }
}

#[test]
fn ports_say_exactly_one_way_to_move() {
    let e = table(&format!(
        "images:\n  - family: x\n    match: [x]\n    ports: [{{port: 80, env: PORT, flag: --port, source: {SRC}}}]\n"
    ))
    .expect_err("two ways");
    assert!(e.contains("port 80 must say exactly one of env, flag, config or fixed: true"), "{e}");
    let t = table(&format!(
        "images:\n  - family: x\n    match: [x]\n    ports:\n      - {{port: 80, config: {{path: /etc/x.conf, directive: listen}}, source: {SRC}}}\n      - {{port: 81, fixed: true, source: {SRC}}}\n"
    ))
    .expect("valid");
    let ports = &t.rows()[0].ports;
    assert_eq!(ports[0].how, row::PortSetting::Config { path: "/etc/x.conf".into(), directive: "listen".into() });
    assert_eq!(ports[1].how, row::PortSetting::Fixed);
}

#[test]
fn a_row_states_a_fact() {
    let e = table("images:\n  - {family: x, match: [x], notes: hello}\n").expect_err("no fact");
    assert!(e.contains("states no fact"), "{e}");
}

#[test]
fn tags_digests_and_latest() {
    let t = table(&format!(
        "images:\n  \
         - {{family: pg18, match: [postgres], tags: '>=18', latestMatches: true, user: {{uid: 999, source: {SRC}}}}}\n  \
         - {{family: pg-alpine, match: [postgres], tags: '*alpine*', user: {{uid: 70, source: {SRC}}}}}\n  \
         - {{family: pg-old, match: [postgres], tags: '<18', user: {{uid: 999, source: {SRC}}}}}\n  \
         - {{family: pg, match: [postgres], user: {{uid: 999, source: {SRC}}}}}\n"
    ))
    .expect("valid");
    assert_eq!(family(&t, "postgres:18.1"), Some("pg18"));
    assert_eq!(family(&t, "postgres"), Some("pg18"), "untagged is latest, which pg18 claims");
    assert_eq!(family(&t, "postgres:latest"), Some("pg18"));
    assert_eq!(family(&t, "postgres:16-alpine"), Some("pg-alpine"));
    assert_eq!(family(&t, "postgres:16.4-bookworm"), Some("pg-old"));
    assert_eq!(family(&t, "postgres@sha256:abc"), Some("pg"), "a digest names no tag");
    assert_eq!(family(&t, "postgres:16@sha256:abc"), Some("pg-old"), "the tag counts next to a digest");
    assert_eq!(family(&t, "postgres:bookworm"), Some("pg"));
    assert_eq!(family(&t, "mirror.gcr.io/library/postgres:17"), Some("pg-old"));
    assert_eq!(family(&t, "bitnami/postgresql:17"), None);
}

#[test]
fn user_rows_come_first() {
    let built_in = ImageTable::built_in().expect("loads");
    let user = ImageTable::from_rows(
        vec![serde_json::json!({"family": "our-dotnet", "match": ["mcr.microsoft.com/dotnet/aspnet"],
            "user": {"uid": 5000, "source": SRC}})],
        "config.yaml",
    )
    .expect("valid");
    let t = built_in.with_user_rows(user);
    assert_eq!(family(&t, "mcr.microsoft.com/dotnet/aspnet:8.0"), Some("our-dotnet"));
    assert_eq!(family(&t, "mcr.microsoft.com/dotnet/runtime:8.0"), Some("dotnet"));
}

#[test]
fn patterns_and_fields_are_checked() {
    let e = table(&format!("images:\n  - {{family: x, match: ['nginx:1.27'], user: {{any: true, source: {SRC}}}}}\n"))
        .expect_err("a tag in a pattern");
    assert!(e.contains("put tags in `tags:`"), "{e}");
    let e = table(&format!("images:\n  - {{family: x, match: [x], writable: [{{path: var/cache, source: {SRC}}}]}}\n"))
        .expect_err("relative path");
    assert!(e.contains("not a clean absolute path"), "{e}");
    let e = table(&format!("images:\n  - {{family: x, match: [x], usr: {{any: true, source: {SRC}}}}}\n"))
        .expect_err("typo");
    assert!(e.contains("unknown field `usr`"), "{e}");
    let e = table(&format!(
        "images:\n  - {{family: x, match: [x], user: {{any: true, source: {SRC}}}}}\n  - {{family: x, match: [z], user: {{any: true, source: {SRC}}}}}\n"
    ))
    .expect_err("twice");
    assert!(e.contains("family \"x\" appears twice"), "{e}");
}

#[test]
fn root_commands_are_read_with_their_sources() {
    let t = table(&format!(
        "images: []\nrootCommands:\n  - {{programs: [apk], subcommand: add, why: w, alternative: a, source: {SRC}}}\n"
    ))
    .expect("valid");
    assert!(t.root_command(&["sh", "-c", "apk add curl"]).is_some());
    let e = table("images: []\nrootCommands:\n  - {programs: [apk], subcommand: add, why: w, alternative: a}\n")
        .expect_err("no source");
    assert!(e.contains("no https:// source"), "{e}");
}
