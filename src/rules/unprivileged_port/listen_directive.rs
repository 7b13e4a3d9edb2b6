//! The listen directives inside a config file's text (a ConfigMap's value
//! mounted over the image's config), moved to the new port: nginx
//! `listen`, httpd `Listen` (with the `<VirtualHost>` addresses that must
//! match it), haproxy `bind`. The text is read as the server reads it, as
//! far as finding these directives goes (comments, quotes, sections), and
//! only the port digits of a listening address change: every other byte,
//! CRLF included, stays. A string in, a string out: the apply stage writes
//! it into the YAML.

use super::moved;

/// The config text with the listen directives moved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// The new text; None when nothing changed.
    pub text: Option<String>,
    /// The lines (1-based) that changed.
    pub changed: Vec<usize>,
    /// The lines (1-based) where such a directive mentions a moved port in
    /// a form this cannot rewrite (a port range, a line continued with
    /// `\`, an address it cannot read): the user must change them.
    pub unrewritable: Vec<usize>,
}

/// Which server's syntax a directive (as the image table's
/// `config.directive` names it) is read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    Nginx,
    Httpd,
    Haproxy,
}

impl Dialect {
    fn of(directive: &str) -> Option<Dialect> {
        match directive {
            "listen" => Some(Dialect::Nginx),
            "Listen" => Some(Dialect::Httpd),
            "bind" => Some(Dialect::Haproxy),
            _ => None,
        }
    }
}

/// Whether [`move_listen`] can move `directive` (the table also names
/// directives it cannot, such as Caddy's site addresses).
pub fn understands(directive: &str) -> bool {
    Dialect::of(directive).is_some()
}

/// Whether a directive harden reads, in any of its dialects, would move or
/// refuse a listening address of `text` on an old port of `moves`: where
/// none would, the text cannot matter to a move under any subset of them.
pub fn acts_on(text: &str, moves: &[(u64, u64)]) -> bool {
    ["listen", "Listen", "bind"].into_iter().any(|directive| {
        let moved = move_listen(text, directive, moves);
        moved.text.is_some() || !moved.unrewritable.is_empty()
    })
}

/// `text` with every listening address of `directive` on an old port of
/// `moves` (old → new pairs) moved to its new port.
pub fn move_listen(text: &str, directive: &str, moves: &[(u64, u64)]) -> Moved {
    let Some(dialect) = Dialect::of(directive) else { return Moved::default() };
    let addresses = match dialect {
        Dialect::Nginx => nginx(text),
        Dialect::Httpd => httpd(text),
        Dialect::Haproxy => haproxy(text),
    };
    let lines = Lines::of(text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut out = Moved::default();
    for a in addresses {
        let value = &text[a.start..a.end];
        let port = if a.opaque { Port::Unknown } else { port_of(value, dialect) };
        match port {
            Port::At(from, to) => {
                if let Some(new) = value[from..to].parse().ok().and_then(|p| moved(p, moves)) {
                    edits.push((a.start + from, a.start + to, new.to_string()));
                }
            }
            // nginx: an address without a port listens on 80.
            Port::Implicit(default) => {
                if let Some(new) = moved(default, moves) {
                    edits.push((a.end, a.end, format!(":{new}")));
                }
            }
            Port::Unknown if mentions(value, moves) => out.unrewritable.push(lines.number(a.start)),
            Port::Unknown | Port::None => {}
        }
    }
    if edits.is_empty() {
        out.unrewritable.dedup();
        return out;
    }
    let mut new = String::with_capacity(text.len() + 8 * edits.len());
    let mut at = 0;
    for (start, end, with) in &edits {
        new.push_str(&text[at..*start]);
        new.push_str(with);
        at = *end;
        out.changed.push(lines.number(*start));
    }
    new.push_str(&text[at..]);
    out.changed.dedup();
    out.unrewritable.dedup();
    out.text = Some(new);
    out
}

/// A listening address in the text: `start..end` (inside quotes, if
/// quoted), or a whole directive that cannot be read (`opaque`: only
/// checked for mentions of a moved port).
#[derive(Clone, Copy, Debug)]
struct Address {
    start: usize,
    end: usize,
    opaque: bool,
}

enum Port {
    /// The port's digits, as a range of the address.
    At(usize, usize),
    /// No port written: the server's default for an address alone.
    Implicit(u64),
    /// Not an IP listener (a unix socket), or any port (`*`).
    None,
    Unknown,
}

/// Where the port is in one address, as the dialect writes addresses.
fn port_of(value: &str, dialect: Dialect) -> Port {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match dialect {
        // https://nginx.org/en/docs/http/ngx_http_core_module.html#listen:
        // `address[:port]`, `port`, `unix:path`; "If only address is
        // given, the port 80 is used."
        Dialect::Nginx => {
            if value.starts_with("unix:") {
                return Port::None;
            }
            if digits(value) {
                return Port::At(0, value.len());
            }
            // A port range (or anything else made of digits and dashes) is
            // not an address.
            if value.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                return Port::Unknown;
            }
            let host_end = if value.starts_with('[') { value.find(']').map_or(value.len(), |i| i + 1) } else { 0 };
            match after_last_colon(&value[host_end..]) {
                Some((at, port)) if digits(port) => Port::At(host_end + at, value.len()),
                Some(_) => Port::Unknown,
                None if is_host(value) => Port::Implicit(80),
                None => Port::Unknown,
            }
        }
        // https://httpd.apache.org/docs/2.4/mod/mpm_common.html#listen:
        // `Listen [IP-address:]portnumber [protocol]`; a VirtualHost's
        // `addr[:port]`, where `*` or no port is any port.
        Dialect::Httpd => {
            if digits(value) {
                return Port::At(0, value.len());
            }
            match after_last_colon(value) {
                Some((at, port)) if digits(port) => Port::At(at, value.len()),
                Some((_, "*")) => Port::None,
                Some(_) => Port::Unknown,
                None if value.contains(['$', '\\']) => Port::Unknown,
                None => Port::None,
            }
        }
        // https://docs.haproxy.org/3.0/configuration.html#4.2-bind:
        // `[<address>]:<port_range>`, an optional `family@` prefix; a path
        // or `unix@`/`abns@`/`fd@`/`sockpair@` is no port.
        Dialect::Haproxy => {
            let (prefix, rest) = match value.split_once('@') {
                Some((family, rest)) => (family.len() + 1, rest),
                None => (0, value),
            };
            let family = &value[..prefix];
            if rest.starts_with('/') || ["unix@", "abns@", "abnsz@", "fd@", "sockpair@"].contains(&family) {
                return Port::None;
            }
            match after_last_colon(rest) {
                Some((at, port)) if digits(port) => Port::At(prefix + at, value.len()),
                _ => Port::Unknown,
            }
        }
    }
}

/// An address alone: `*`, `[v6]`, a name or an IPv4 address.
fn is_host(value: &str) -> bool {
    value == "*"
        || (value.starts_with('[') && value.ends_with(']'))
        || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')))
}

/// Where the port starts after the last `:`, and the port.
fn after_last_colon(v: &str) -> Option<(usize, &str)> {
    let (host, port) = v.rsplit_once(':')?;
    Some((host.len() + 1, port))
}

/// Whether a moved port appears in `value` as a whole number.
fn mentions(value: &str, moves: &[(u64, u64)]) -> bool {
    value.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u64>().ok()).any(|n| moved(n, moves).is_some())
}

/// nginx: directives are words up to `;` or `{`, `#` starts a comment at
/// the start of a word, words may be quoted. The name is compared case
/// sensitively (`ngx_conf_handler` uses `ngx_strcmp`:
/// https://github.com/nginx/nginx/blob/32c7bd5102571ec20e45f620d2916e612e3b2016/src/core/ngx_conf_file.c).
/// The address is the word after `listen`.
fn nginx(text: &str) -> Vec<Address> {
    let b = text.as_bytes();
    let mut found = Vec::new();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => i = text[i..].find('\n').map_or(b.len(), |n| i + n),
            b';' | b'{' | b'}' => {
                if let [name, address, ..] = words[..]
                    && &text[name.0..name.1] == "listen"
                {
                    found.push(Address { start: address.0, end: address.1, opaque: false });
                }
                words.clear();
                i += 1;
            }
            b'"' | b'\'' => i = push_quoted(b, i, &mut words),
            _ => {
                let mut j = i;
                while j < b.len() {
                    match b[j] {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'}' => break,
                        // `${name}` is a variable, not a block.
                        b'{' if j > i && b[j - 1] == b'$' => {
                            j = text[j..].find('}').map_or(b.len(), |n| j + n + 1);
                            continue;
                        }
                        b'{' => break,
                        _ => j += 1,
                    }
                }
                words.push((i, j));
                i = j;
            }
        }
    }
    found
}

/// httpd: one directive a line, `#` at the start of a line is a comment,
/// a `\` at the end continues the line. "Directives in the configuration
/// files are case-insensitive" (https://httpd.apache.org/docs/2.4/configuring.html).
/// `Listen`'s address, and every `<VirtualHost>` address: a virtual host
/// on `*:80` no longer matches once the server listens on 8080.
fn httpd(text: &str) -> Vec<Address> {
    let mut found = Vec::new();
    for (start, line, continued) in logical_lines(text, true) {
        let words = words(line, false);
        let Some(&(n0, n1)) = words.first() else { continue };
        let name = &line[n0..n1];
        let addresses: &[(usize, usize)] = if name.eq_ignore_ascii_case("listen") {
            words.get(1..2).unwrap_or(&[])
        } else if name.len() > 1 && name.starts_with('<') && name[1..].eq_ignore_ascii_case("virtualhost") {
            &words[1..]
        } else {
            continue;
        };
        if continued {
            found.push(Address { start, end: start + line.len(), opaque: true });
            continue;
        }
        for &(s, e) in addresses {
            let e = if line[s..e].ends_with('>') { e - 1 } else { e };
            if s < e {
                found.push(Address { start: start + s, end: start + e, opaque: false });
            }
        }
    }
    found
}

/// haproxy: one keyword a line, `#` starts a comment, words may be quoted.
/// `bind` makes haproxy listen in `frontend` and `listen` sections, and in
/// `peers` and `log-forward` (https://docs.haproxy.org/3.0/configuration.html#4.2-bind,
/// #3.5-bind, #3.10-bind); its first word is a comma-separated list of
/// addresses. A `frontend`/`listen` line may also carry addresses after
/// the name (older configs).
fn haproxy(text: &str) -> Vec<Address> {
    const SECTIONS: [&str; 17] = [
        "global",
        "defaults",
        "frontend",
        "backend",
        "listen",
        "peers",
        "resolvers",
        "userlist",
        "mailers",
        "program",
        "http-errors",
        "ring",
        "log-forward",
        "cache",
        "crt-store",
        "traces",
        "acme",
    ];
    const LISTENING: [&str; 4] = ["frontend", "listen", "peers", "log-forward"];
    let mut found = Vec::new();
    let mut section = "";
    for (start, line, _) in logical_lines(text, false) {
        let words = words(line, true);
        let Some(&(n0, n1)) = words.first() else { continue };
        let name = &line[n0..n1];
        let list = if let Some(s) = SECTIONS.iter().find(|s| **s == name) {
            section = s;
            if !matches!(name, "frontend" | "listen") {
                continue;
            }
            words.get(2)
        } else if name == "bind" && LISTENING.contains(&section) {
            words.get(1)
        } else {
            continue;
        };
        let Some(&(s, e)) = list else { continue };
        let mut at = start + s;
        for address in line[s..e].split(',') {
            found.push(Address { start: at, end: at + address.len(), opaque: false });
            at += address.len() + 1;
        }
    }
    found
}

/// Lines with where each starts, and whether it was joined from several:
/// with `join`, a line ending in `\` goes on on the next, as httpd reads it.
fn logical_lines(text: &str, join: bool) -> Vec<(usize, &str, bool)> {
    let mut out = Vec::new();
    let (mut start, mut at) = (0, 0);
    for line in text.split_inclusive('\n') {
        at += line.len();
        if join && line.trim_end_matches(['\n', '\r']).ends_with('\\') && at < text.len() {
            continue;
        }
        let whole = text[start..at].trim_end_matches(['\n', '\r']);
        out.push((start, whole, join && (whole.contains('\n') || whole.ends_with('\\'))));
        start = at;
    }
    out
}

/// The words of a line (quoted ones without their quotes), up to a
/// comment: a `#` at the start of the line, or with `hash_anywhere`
/// (haproxy) any `#` outside quotes.
fn words(line: &str, hash_anywhere: bool) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' if hash_anywhere || words.is_empty() => break,
            b'"' | b'\'' => i = push_quoted(b, i, &mut words),
            _ => {
                let mut j = i;
                while j < b.len() && !matches!(b[j], b' ' | b'\t' | b'\r' | b'\n') && !(hash_anywhere && b[j] == b'#') {
                    j += 1;
                }
                words.push((i, j));
                i = j;
            }
        }
    }
    words
}

/// Where the quoted word that opens at `open` closes (its closing quote,
/// or the end of the text); a backslash escapes the next byte.
fn quoted_end(b: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    while j < b.len() && b[j] != b[open] {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    j.min(b.len())
}

/// The quoted word opening at `open` pushed onto `words` (inside its
/// quotes); where reading goes on.
fn push_quoted(b: &[u8], open: usize, words: &mut Vec<(usize, usize)>) -> usize {
    let end = quoted_end(b, open);
    words.push((open + 1, end));
    end + 1
}

/// Line numbers of byte offsets.
struct Lines(Vec<usize>);

impl Lines {
    fn of(text: &str) -> Lines {
        Lines(text.match_indices('\n').map(|(i, _)| i).collect())
    }

    fn number(&self, at: usize) -> usize {
        self.0.partition_point(|&nl| nl < at) + 1
    }
}

#[cfg(test)]
mod tests;
