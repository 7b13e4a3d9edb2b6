//! Commands that need root when a container runs them at start (`apk add`,
//! `apt-get install`, …): rows of `rootCommands:` in the image table, found
//! in a container's `command` and `args`, including the scripts given to a
//! shell (`sh -c "apk add curl && exec app"`).

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RootCommand {
    /// Program names (`apt-get`); also matched as a path in a system
    /// directory (`/usr/bin/apt-get`).
    pub programs: Vec<String>,
    /// The word after it (among its arguments) that makes it install: `install`.
    pub subcommand: String,
    /// Options that make it write somewhere else, which needs no root (`--target`).
    #[serde(default)]
    pub unless: Vec<String>,
    pub why: String,
    pub alternative: String,
    #[serde(default)]
    pub source: String,
}

/// Where a program may be named by its path.
const SYSTEM_DIRS: [&str; 6] = ["/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/"];

/// Words that run the next word as a program.
const RUNNERS: [&str; 7] = ["sudo", "exec", "env", "nohup", "command", "time", "-m"];

impl RootCommand {
    /// Whether the container's `command` + `args` run this command.
    pub fn is_run_by(&self, argv: &[&str]) -> bool {
        // Most commands name none of the programs: no need to cut them into words.
        let named = argv.iter().any(|a| self.programs.iter().any(|p| a.contains(p.as_str())));
        named && simple_commands(argv).iter().any(|words| self.in_simple_command(words))
    }

    fn in_simple_command(&self, words: &[String]) -> bool {
        // Leading `VAR=value` assignments are not the program.
        let start = words.iter().position(|w| !is_assignment(w)).unwrap_or(words.len());
        let words = &words[start..];
        let at = words
            .iter()
            .enumerate()
            .position(|(i, w)| self.is_program(w) && (i == 0 || RUNNERS.contains(&words[i - 1].as_str())));
        let Some(at) = at else { return false };
        let rest = &words[at + 1..];
        rest.contains(&self.subcommand)
            && !rest.iter().any(|w| self.unless.iter().any(|u| w == u || w.starts_with(&format!("{u}="))))
    }

    fn is_program(&self, word: &str) -> bool {
        self.programs
            .iter()
            .any(|p| word == p || SYSTEM_DIRS.iter().any(|d| word.strip_prefix(d).is_some_and(|rest| rest == p)))
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The simple commands of an argv: the argv itself (its elements are the
/// words), and those of every script given to a shell (the element after
/// `-c`, `-ec`, `-xec`, …).
fn simple_commands(argv: &[&str]) -> Vec<Vec<String>> {
    let mut out = vec![argv.iter().map(|w| unquote(w)).collect::<Vec<_>>()];
    let scripts = argv.windows(2).filter(|w| is_script_flag(w[0])).map(|w| w[1]);
    for element in scripts {
        let mut words = Vec::new();
        for piece in element.split(|c: char| SEPARATORS.contains(&c)) {
            words.extend(piece.split_whitespace().map(unquote).filter(|w| !w.is_empty()));
            if !words.is_empty() {
                out.push(std::mem::take(&mut words));
            }
        }
    }
    out
}

/// `-c` and the short option groups that end with it (`-ec`, `-euxc`).
fn is_script_flag(word: &str) -> bool {
    word.strip_prefix('-').is_some_and(|f| f.ends_with('c') && f.chars().all(|c| c.is_ascii_lowercase()))
}

/// What ends a simple command in a shell script.
const SEPARATORS: [char; 7] = [';', '&', '|', '(', ')', '`', '\n'];

fn unquote(word: &str) -> String {
    word.chars().filter(|c| *c != '\'' && *c != '"').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apk() -> RootCommand {
        RootCommand {
            programs: vec!["apk".into()],
            subcommand: "add".into(),
            unless: vec![],
            why: String::new(),
            alternative: String::new(),
            source: String::new(),
        }
    }

    fn pip() -> RootCommand {
        RootCommand {
            programs: vec!["pip".into(), "pip3".into()],
            subcommand: "install".into(),
            unless: vec!["--target".into(), "-t".into()],
            ..apk()
        }
    }

    #[test]
    fn found_in_argv_and_in_shell_scripts() {
        assert!(apk().is_run_by(&["apk", "add", "curl"]));
        assert!(apk().is_run_by(&["sh", "-c", "apk add --no-cache curl && exec app"]));
        assert!(apk().is_run_by(&["/bin/sh", "-c", "set -e\n/sbin/apk add curl\nexec app"]));
        assert!(apk().is_run_by(&["sh", "-c", "FOO=1 apk add curl"]));
        assert!(pip().is_run_by(&["python", "-m", "pip", "install", "flask"]));
        assert!(pip().is_run_by(&["sh", "-c", "pip3 install -r requirements.txt; python app.py"]));
    }

    #[test]
    fn not_found_where_it_is_only_mentioned_or_writes_elsewhere() {
        assert!(!apk().is_run_by(&["echo", "apk add curl"]), "echo's argument is one word of the argv");
        assert!(!apk().is_run_by(&["sh", "-c", "echo run apk add first"]));
        assert!(!apk().is_run_by(&["apk", "info"]));
        assert!(!pip().is_run_by(&["sh", "-c", "pip install --target /tmp/lib flask && python app.py"]));
        assert!(!pip().is_run_by(&["sh", "-c", "pip install --target=/tmp/lib flask"]));
        assert!(!pip().is_run_by(&["sh", "-c", "/tmp/venv/bin/pip install flask"]), "a venv's pip writes the venv");
        assert!(!apk().is_run_by(&[]));
    }
}
