//! Each form of each server's listen directive, as a table: the text, and
//! what it must become (or `=`: unchanged).

use super::*;
use proptest::prelude::*;

const MOVES: &[(u64, u64)] = &[(80, 8080), (443, 8443)];

/// (directive, text, expected text or "=" for unchanged)
const CASES: &[(&str, &str, &str)] = &[
    // nginx
    ("listen", "listen 80;", "listen 8080;"),
    ("listen", "    listen       80;", "    listen       8080;"),
    ("listen", "listen [::]:80;", "listen [::]:8080;"),
    ("listen", "listen 0.0.0.0:80 default_server;", "listen 0.0.0.0:8080 default_server;"),
    ("listen", "listen 443 ssl;", "listen 8443 ssl;"),
    ("listen", "listen 80 reuseport;", "listen 8080 reuseport;"),
    ("listen", "listen 127.0.0.1;", "listen 127.0.0.1:8080;"),
    ("listen", "listen [::1];", "listen [::1]:8080;"),
    ("listen", "listen \"80\";", "listen \"8080\";"),
    ("listen", "listen\n    80\n    default_server;", "listen\n    8080\n    default_server;"),
    ("listen", "server { listen 80; server_name a; }", "server { listen 8080; server_name a; }"),
    ("listen", "server {\r\n    listen 80;\r\n}\r\n", "server {\r\n    listen 8080;\r\n}\r\n"),
    ("listen", "listen 8080;", "="),
    ("listen", "listen 180;", "="),
    ("listen", "listen 800;", "="),
    ("listen", "proxy_pass http://x:80;", "="),
    ("listen", "# listen 80;", "="),
    ("listen", "server_name a; # listen 80;\n", "="),
    ("listen", "listen unix:/var/run/nginx.sock;", "="),
    ("listen", "Listen 80;", "="),
    ("listen", "return 301 https://$host:80$request_uri;", "="),
    ("listen", "set $x \"listen 80;\";", "="),
    // httpd
    ("Listen", "Listen 80", "Listen 8080"),
    ("Listen", "Listen 0.0.0.0:80", "Listen 0.0.0.0:8080"),
    ("Listen", "Listen [::]:80 http", "Listen [::]:8080 http"),
    ("Listen", "listen 80\n", "listen 8080\n"),
    ("Listen", "  LISTEN 443 https\r\n", "  LISTEN 8443 https\r\n"),
    ("Listen", "<VirtualHost *:80>\n</VirtualHost>", "<VirtualHost *:8080>\n</VirtualHost>"),
    ("Listen", "<virtualhost *:80 [::]:80 >", "<virtualhost *:8080 [::]:8080 >"),
    ("Listen", "<VirtualHost *>", "="),
    ("Listen", "#Listen 80", "="),
    ("Listen", "  # Listen 80", "="),
    ("Listen", "Listen 8080", "="),
    ("Listen", "Listen 180", "="),
    ("Listen", "ServerName www.example.com:80", "="),
    ("Listen", "ProxyPass / http://backend:80/", "="),
    // haproxy
    ("bind", "frontend f\n  bind :80\n", "frontend f\n  bind :8080\n"),
    ("bind", "frontend f\n  bind *:80\n", "frontend f\n  bind *:8080\n"),
    ("bind", "frontend f\n  bind 0.0.0.0:80 ssl crt /x.pem\n", "frontend f\n  bind 0.0.0.0:8080 ssl crt /x.pem\n"),
    ("bind", "frontend f\n  bind :::80 v4v6\n", "frontend f\n  bind :::8080 v4v6\n"),
    ("bind", "listen l\n  bind :80,:8081\n", "listen l\n  bind :8080,:8081\n"),
    ("bind", "listen l\n  bind :80,:443 # both\n", "listen l\n  bind :8080,:8443 # both\n"),
    ("bind", "listen l\n  bind ipv4@:80\n", "listen l\n  bind ipv4@:8080\n"),
    ("bind", "frontend f *:80\n", "frontend f *:8080\n"),
    ("bind", "frontend f\r\n\tbind :80\r\n", "frontend f\r\n\tbind :8080\r\n"),
    ("bind", "frontend f\n  bind :8080\n", "="),
    ("bind", "frontend f\n  # bind :80\n", "="),
    ("bind", "frontend f\n  bind unix@/run/x.sock\n", "="),
    ("bind", "frontend f\n  bind /run/x.sock\n", "="),
    ("bind", "backend b\n  bind :80\n  server s 10.0.0.1:80\n", "="),
    ("bind", "global\n  bind :80\n", "="),
    ("bind", "bind :80\n", "="),
    (
        "bind",
        "frontend f\n  bind :80\nbackend b\n  server s x:80 check\n",
        "frontend f\n  bind :8080\nbackend b\n  server s x:80 check\n",
    ),
];

#[test]
fn every_form_of_every_directive() {
    for (directive, text, want) in CASES {
        let got = move_listen(text, directive, MOVES);
        let want = if *want == "=" { None } else { Some(want.to_string()) };
        assert_eq!(got.text, want, "{directive}: {text:?}");
        assert_eq!(got.changed.is_empty(), got.text.is_none(), "{directive}: {text:?}: {got:?}");
        assert!(got.unrewritable.is_empty(), "{directive}: {text:?}: {got:?}");
    }
}

#[test]
fn the_changed_lines_are_numbered_from_one() {
    let text = "server {\n    listen 80;\n    listen [::]:80;\n    root /x;\n    listen 443 ssl;\n}\n";
    let got = move_listen(text, "listen", MOVES);
    assert_eq!(got.changed, [2, 3, 5]);
}

#[test]
fn forms_it_cannot_rewrite_are_named_by_line() {
    let got = move_listen("frontend f\n  bind :80-85\n  bind :443\n", "bind", MOVES);
    assert_eq!(got.text.as_deref(), Some("frontend f\n  bind :80-85\n  bind :8443\n"));
    assert_eq!((got.changed, got.unrewritable), (vec![3], vec![2]));
    let got = move_listen("server {\n  listen 80-81;\n}\n", "listen", MOVES);
    assert_eq!((got.text, got.unrewritable), (None, vec![2]));
    let got = move_listen("# httpd\nListen \\\n  80\n", "Listen", MOVES);
    assert_eq!((got.text, got.unrewritable), (None, vec![2]));
    // A range that does not name a moved port is nobody's business.
    assert_eq!(move_listen("frontend f\n  bind :9000-9010\n", "bind", MOVES), Moved::default());
}

#[test]
fn directives_it_does_not_know_change_nothing() {
    assert!(!understands("site address (:80)") && !understands("http.addr"));
    assert!(understands("listen") && understands("Listen") && understands("bind"));
    assert_eq!(move_listen(":80 {\n  respond ok\n}\n", "site address (:80)", MOVES), Moved::default());
}

proptest! {
    /// Text without the directive (nor, for httpd, a VirtualHost) comes
    /// back unchanged, however much it talks of port 80.
    #[test]
    fn text_without_the_directive_is_returned_unchanged(
        words in proptest::collection::vec(
            prop_oneof![
                Just("80"), Just(":80"), Just("*:80"), Just("[::]:80"), Just("0.0.0.0:80;"), Just("server"),
                Just("{"), Just("}"), Just(";"), Just("#"), Just("\""), Just("'"), Just("frontend f\n"),
                Just("backend"), Just("\n"), Just("\r\n"), Just("  "), Just("\\"), Just("proxy_pass"),
                Just("ServerName"), Just("443"), Just("$"), Just("${"), Just("é"),
            ],
            0..60,
        ),
        directive in prop_oneof![Just("listen"), Just("Listen"), Just("bind")],
    ) {
        let text: String = words.join(" ");
        let got = move_listen(&text, directive, MOVES);
        prop_assert_eq!(got, Moved::default());
    }

    /// Whatever the text, only ports change: without digits and colons
    /// (an implicit port gets `:8080`) the text is the same.
    #[test]
    fn only_port_digits_change(
        words in proptest::collection::vec(
            prop_oneof![
                Just("listen"), Just("Listen"), Just("bind"), Just("frontend f\n"), Just("80"), Just(":80"),
                Just("[::]:80"), Just("127.0.0.1"), Just(";"), Just("{"), Just("}"), Just("#"), Just("\n"),
                Just("\r\n"), Just(" "), Just("\""), Just("<VirtualHost"), Just("*:80>"), Just(","), Just("ssl"),
            ],
            0..60,
        ),
        directive in prop_oneof![Just("listen"), Just("Listen"), Just("bind")],
    ) {
        let text: String = words.concat();
        if let Some(new) = move_listen(&text, directive, MOVES).text {
            let strip = |s: &str| s.replace(|c: char| c.is_ascii_digit() || c == ':', "");
            prop_assert!(new.len() > text.len());
            prop_assert_eq!(strip(&new), strip(&text));
        }
    }
}
