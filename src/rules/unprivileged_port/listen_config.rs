//! Where an app is told which port to listen on, and how to tell it
//! another: the ASP.NET Core variables, a recognised port flag, or a
//! `PORT`-style variable. Each
//! function returns the container edits, or nothing when the app cannot be
//! told this way. Outbound URLs and unrelated values are never touched.

use super::moved;
use serde_json::{Value, json};

/// One edit to a container, relative to the container.
#[derive(Clone, Debug, PartialEq)]
pub enum Edit {
    Set { pointer: String, value: Value, reason: String },
    AppendEnv { name: String, value: String, reason: String },
}

/// Hosts that mean "listen on every address" or loopback, in ASPNETCORE_URLS.
const LISTEN_HOSTS: [&str; 5] = ["+", "*", "0.0.0.0", "[::]", "localhost"];

/// Whether the container runs ASP.NET Core.
pub fn is_aspnet(container: &Value) -> bool {
    let image = container.get("image").and_then(Value::as_str).unwrap_or("");
    image.starts_with("mcr.microsoft.com/dotnet/")
        || ["ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS"]
            .iter()
            .any(|n| env_index(container, n).is_some())
}

/// The ASP.NET Core listener, moved: rewrite `ASPNETCORE_URLS` entries that
/// listen on `old`, update the `*_PORTS` variables, and set `ASPNETCORE_URLS`
/// explicitly when it is absent (images before .NET 8 set
/// `ASPNETCORE_URLS=http://+:80` themselves, which would override the
/// `*_PORTS` variables).
pub fn aspnet(container: &Value, moves: &[(u64, u64)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    match env_index(container, "ASPNETCORE_URLS") {
        Some(i) => {
            if let Some(urls) = env_value(container, i) {
                let new = rewrite_urls(urls, moves);
                if new != urls {
                    edits.push(Edit::Set {
                        pointer: format!("/env/{i}/value"),
                        value: json!(new),
                        reason: "ASPNETCORE_URLS listens on the moved port".into(),
                    });
                }
            }
        }
        None => {
            let urls: Vec<String> = moves
                .iter()
                .map(|(old, new)| format!("{}://+:{new}", if *old == 443 { "https" } else { "http" }))
                .collect();
            edits.push(Edit::AppendEnv {
                name: "ASPNETCORE_URLS".into(),
                value: urls.join(";"),
                reason: "tells ASP.NET Core to listen on the new port (it overrides any listener the image sets)"
                    .into(),
            });
        }
    }
    for name in ["ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS"] {
        if let Some(i) = env_index(container, name)
            && let Some(v) = env_value(container, i)
        {
            let new = rewrite_port_list(v, moves);
            if new != v {
                edits.push(Edit::Set {
                    pointer: format!("/env/{i}/value"),
                    value: json!(new),
                    reason: format!("{name} lists the moved port"),
                });
            }
        }
    }
    edits
}

/// `http://+:80;https://+:443` → `http://+:8080;https://+:8443`, for
/// listening hosts only.
pub fn rewrite_urls(urls: &str, moves: &[(u64, u64)]) -> String {
    urls.split(';')
        .map(|u| {
            let Some((scheme, rest)) = u.split_once("://") else { return u.to_string() };
            let rest_trim = rest.trim_end_matches('/');
            let Some((host, port)) = rest_trim.rsplit_once(':') else { return u.to_string() };
            match (LISTEN_HOSTS.contains(&host), port.parse::<u64>().ok().and_then(|p| moved(p, moves))) {
                (true, Some(n)) => format!("{scheme}://{host}:{n}{}", &rest[rest_trim.len()..]),
                _ => u.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn rewrite_port_list(v: &str, moves: &[(u64, u64)]) -> String {
    v.split([';', ','])
        .map(|p| {
            p.trim().parse::<u64>().ok().and_then(|p| moved(p, moves)).map_or_else(|| p.to_string(), |n| n.to_string())
        })
        .collect::<Vec<_>>()
        .join(if v.contains(';') { ";" } else { "," })
}

/// Port flags in `command`/`args`: `--port=80`, `--port 80`, `--http-port`,
/// `--https-port`, `--listen :80`, `--bind 0.0.0.0:80`, `-p 80`.
pub fn flags(container: &Value, moves: &[(u64, u64)]) -> Vec<Edit> {
    flags_named(container, &["--port", "--http-port", "--https-port", "--listen", "--bind", "-p"], moves)
}

/// The flags named `names` in `command`/`args` (`NAME=VALUE` or `NAME
/// VALUE`) whose value is a moved port or an address with one, rewritten.
pub fn flags_named(container: &Value, names: &[&str], moves: &[(u64, u64)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for list in ["command", "args"] {
        let Some(items) = container.get(list).and_then(Value::as_array) else { continue };
        for (i, item) in items.iter().enumerate() {
            let Some(s) = item.as_str() else { continue };
            let (value_index, value) = match s.split_once('=') {
                Some((flag, v)) if names.contains(&flag) => (i, v.to_string()),
                _ if names.contains(&s) => match items.get(i + 1).and_then(Value::as_str) {
                    Some(v) => (i + 1, v.to_string()),
                    None => continue,
                },
                _ => continue,
            };
            if let Some(new_value) = rewrite_address(&value, moves) {
                let whole = if value_index == i { s.replacen(&value, &new_value, 1) } else { new_value };
                edits.push(Edit::Set {
                    pointer: format!("/{list}/{value_index}"),
                    value: json!(whole),
                    reason: format!("the {list} flag sets the listening port"),
                });
            }
        }
    }
    edits
}

/// `80`, `:80`, `0.0.0.0:80`, `[::]:80` with a moved port, rewritten.
fn rewrite_address(v: &str, moves: &[(u64, u64)]) -> Option<String> {
    let (host, port) = match v.rsplit_once(':') {
        Some((h, p)) => (Some(h), p),
        None => (None, v),
    };
    let new = moved(port.parse().ok()?, moves)?;
    Some(match host {
        Some(h) => format!("{h}:{new}"),
        None => new.to_string(),
    })
}

/// `PORT`, `HTTP_PORT` or `SERVER_PORT` set to the old port.
pub fn port_env(container: &Value, moves: &[(u64, u64)]) -> Vec<Edit> {
    let mut edits = Vec::new();
    for name in ["PORT", "HTTP_PORT", "SERVER_PORT"] {
        if let Some(i) = env_index(container, name)
            && let Some(new) = env_value(container, i).and_then(|v| v.trim().parse().ok()).and_then(|p| moved(p, moves))
        {
            edits.push(Edit::Set {
                pointer: format!("/env/{i}/value"),
                value: json!(new.to_string()),
                reason: format!("{name} sets the listening port"),
            });
        }
    }
    edits
}

/// The index of variable `name` in the container's `env`.
pub(super) fn env_index(container: &Value, name: &str) -> Option<usize> {
    container.get("env")?.as_array()?.iter().position(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

fn env_value(container: &Value, i: usize) -> Option<&str> {
    container.get("env")?.get(i)?.get("value")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[(u64, u64)] = &[(80, 8080), (443, 8443)];

    #[test]
    fn only_listening_urls_move() {
        assert_eq!(rewrite_urls("http://+:80;https://+:443", M), "http://+:8080;https://+:8443");
        assert_eq!(rewrite_urls("http://0.0.0.0:80/", M), "http://0.0.0.0:8080/");
        assert_eq!(rewrite_urls("http://api.example.com:80", M), "http://api.example.com:80");
        assert_eq!(rewrite_urls("http://*:5000", M), "http://*:5000");
    }

    #[test]
    fn port_flags_are_rewritten_in_every_form() {
        let c = json!({"args": ["--port=80", "--bind", "0.0.0.0:443", "-p", "80", "--listen", ":80", "--other", "80"]});
        let edits = flags(&c, M);
        let values: Vec<_> = edits
            .iter()
            .map(|e| match e {
                Edit::Set { pointer, value, .. } => format!("{pointer}={value}"),
                Edit::AppendEnv { .. } => String::new(),
            })
            .collect();
        assert_eq!(
            values,
            ["/args/0=\"--port=8080\"", "/args/2=\"0.0.0.0:8443\"", "/args/4=\"8080\"", "/args/6=\":8080\""]
        );
    }

    #[test]
    fn aspnet_gets_an_explicit_listener() {
        let c = json!({"image": "mcr.microsoft.com/dotnet/samples:aspnetapp", "env": [{"name": "ASPNETCORE_HTTP_PORTS", "value": "80"}]});
        let edits = aspnet(&c, &[(80, 8080)]);
        assert_eq!(edits.len(), 2);
        assert!(
            matches!(&edits[0], Edit::AppendEnv { name, value, .. } if name == "ASPNETCORE_URLS" && value == "http://+:8080")
        );
        assert!(matches!(&edits[1], Edit::Set { pointer, value, .. } if pointer == "/env/0/value" && value == "8080"));
    }
}
