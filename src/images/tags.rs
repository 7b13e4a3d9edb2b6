//! A row's `tags:`: a version range on the tag's leading numeric version
//! (`">=18"`, `"<18"`, `">=1.25,<2"`, `"=16"`) or a glob on the whole tag
//! (`"*-alpine"`, `"nonroot"`).
//!
//! An untagged reference means `latest`, which has no version: a range
//! matches it only where the row says `latestMatches: true` (the row for
//! the current major version). A reference by digest alone names no tag
//! and matches only rows without `tags`.

use crate::profile::glob_match;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TagFilter {
    /// Every bound must hold.
    Range(Vec<Bound>),
    Glob(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bound {
    op: Op,
    version: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    /// The tag's version starts with these components: `=16` is 16, 16.4, 16.4.1.
    Eq,
}

impl TagFilter {
    pub fn parse(text: &str) -> Result<TagFilter, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("`tags` is empty".to_string());
        }
        if !text.starts_with(['<', '>', '=']) {
            return Ok(TagFilter::Glob(text.to_string()));
        }
        let bounds = text.split(',').map(|b| Bound::parse(b.trim())).collect::<Result<Vec<_>, _>>()?;
        Ok(TagFilter::Range(bounds))
    }

    pub fn is_range(&self) -> bool {
        matches!(self, TagFilter::Range(_))
    }

    /// Whether `tag` (`latest` for an untagged reference) passes.
    pub fn matches(&self, tag: &str, latest_matches: bool) -> bool {
        match self {
            TagFilter::Glob(g) => glob_match(g, tag),
            TagFilter::Range(_) if tag == "latest" => latest_matches,
            TagFilter::Range(bounds) => leading_version(tag).is_some_and(|v| bounds.iter().all(|b| b.holds(&v))),
        }
    }
}

impl Bound {
    fn parse(text: &str) -> Result<Bound, String> {
        let (op, rest) = [(">=", Op::Ge), ("<=", Op::Le), ("==", Op::Eq), (">", Op::Gt), ("<", Op::Lt), ("=", Op::Eq)]
            .iter()
            .find_map(|(s, op)| text.strip_prefix(s).map(|rest| (*op, rest.trim())))
            .ok_or_else(|| format!("`tags` bound {text:?} does not start with >=, >, <=, < or ="))?;
        let version = (version_text_len(rest) == rest.len())
            .then(|| leading_version(rest))
            .flatten()
            .ok_or_else(|| format!("`tags` bound {text:?} does not end in a version such as 18 or 1.25"))?;
        Ok(Bound { op, version })
    }

    fn holds(&self, v: &[u64]) -> bool {
        use std::cmp::Ordering::*;
        let ord = compare(v, &self.version);
        match self.op {
            Op::Ge => ord != Less,
            Op::Gt => ord == Greater,
            Op::Le => ord != Greater,
            Op::Lt => ord == Less,
            Op::Eq => v.len() >= self.version.len() && v[..self.version.len()] == self.version[..],
        }
    }
}

/// Versions compared component by component, missing ones as 0.
fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// The numeric version a tag starts with (`v` allowed): `16.4-bookworm` →
/// 16.4, `v3.1.0` → 3.1.0, `1.27-alpine3.20` → 1.27; `alpine`, `latest` →
/// none.
pub fn leading_version(tag: &str) -> Option<Vec<u64>> {
    let digits = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let text = &digits[..version_text_len(digits)];
    if text.is_empty() {
        return None;
    }
    text.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

/// How many leading bytes of `s` are `N(.N)*`.
fn version_text_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let (mut end, mut i) = (0, 0);
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        end = i;
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(s: &str) -> TagFilter {
        TagFilter::parse(s).expect("valid")
    }

    #[test]
    fn leading_versions() {
        assert_eq!(leading_version("16.4-bookworm"), Some(vec![16, 4]));
        assert_eq!(leading_version("v3.1.0"), Some(vec![3, 1, 0]));
        assert_eq!(leading_version("1.27-alpine3.20"), Some(vec![1, 27]));
        assert_eq!(leading_version("18"), Some(vec![18]));
        assert_eq!(leading_version("18beta1"), Some(vec![18]));
        assert_eq!(leading_version("alpine"), None);
        assert_eq!(leading_version("latest"), None);
    }

    #[test]
    fn ranges() {
        assert!(filter(">=18").matches("18", false));
        assert!(filter(">=18").matches("18.1-bookworm", false));
        assert!(!filter(">=18").matches("17.6", false));
        assert!(filter("<18").matches("17.6", false));
        assert!(!filter("<18").matches("18", false));
        assert!(filter(">=1.25,<2").matches("1.27.3-alpine", false));
        assert!(!filter(">=1.25,<2").matches("1.24", false));
        assert!(!filter(">=1.25,<2").matches("2.0", false));
        assert!(filter("=16").matches("16.4", false));
        assert!(!filter("=16").matches("17", false));
        assert!(!filter(">=18").matches("bookworm", false), "no version: no match");
    }

    #[test]
    fn latest_matches_a_range_only_when_the_row_says_so() {
        assert!(!filter(">=18").matches("latest", false));
        assert!(filter(">=18").matches("latest", true));
        assert!(!filter("*-alpine").matches("latest", true), "a glob is about the tag's text");
    }

    #[test]
    fn globs_cover_the_whole_tag() {
        assert!(filter("*-alpine").matches("1.27-alpine", false));
        assert!(!filter("*-alpine").matches("1.27-alpine-slim", false));
        assert!(filter("nonroot").matches("nonroot", false));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(TagFilter::parse(">=").is_err());
        assert!(TagFilter::parse(">=18x").is_err());
        assert!(TagFilter::parse(">=18,").is_err());
        assert!(TagFilter::parse("").is_err());
    }
}
