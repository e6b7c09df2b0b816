//! Real IOC values to draw from: a `type<TAB>value` file such as
//! `values/tweetfeed-typed-values.tsv` of the shared data.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use misp_core::{AttributeType, normalize};

use super::Error;
use super::render::is_hostname;

/// Strings stored back to back: one allocation for many values.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    text: String,
    ends: Vec<u32>,
}

impl Pool {
    fn push(&mut self, value: &str) -> bool {
        let Ok(end) = u32::try_from(self.text.len() + value.len()) else {
            return false;
        };
        self.text.push_str(value);
        self.ends.push(end);
        true
    }

    /// The `i`-th value (empty if out of range).
    pub(crate) fn get(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        let end = self.ends.get(i).map_or(start, |&e| e as usize);
        self.text.get(start..end).unwrap_or("")
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// A line of the values file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: u64,
    /// The line's type column (may be empty).
    pub type_name: String,
    /// The line's value, cut to 200 bytes.
    pub value: String,
    /// Why the line was not used.
    pub reason: String,
}

/// Real values, by the role they play in the generator.
///
/// Built from a `type<TAB>value` file by [`RealValues::load`]. Every value
/// is normalised with [`misp_core::normalize`] and kept in its normalised
/// form; values MISP would reject, duplicates after normalisation, and
/// lines of types the generator does not draw from real data are skipped
/// (and reported by [`skipped`](RealValues::skipped), up to
/// [`MAX_REPORTED`](RealValues::MAX_REPORTED) of them, and counted by
/// [`skipped_count`](RealValues::skipped_count)).
///
/// Used roles: `domain` values that are valid host names (they also serve
/// as the host of `hostname|port` and `domain|ip`), `url`, IPv4 `ip-dst`
/// and `ip-src`, `md5`, `sha256`.
#[derive(Debug, Default)]
pub struct RealValues {
    pub(crate) hosts: Pool,
    pub(crate) urls: Pool,
    pub(crate) ipv4s: Pool,
    pub(crate) md5s: Pool,
    pub(crate) sha256s: Pool,
    skipped: Vec<SkippedLine>,
    skipped_count: u64,
}

impl RealValues {
    /// How many skipped lines are kept for [`skipped`](Self::skipped).
    pub const MAX_REPORTED: usize = 1000;

    /// Loads a `type<TAB>value` file, one value a line.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be opened or read. Malformed lines
    /// are not errors: they are skipped and reported.
    pub fn load(path: impl AsRef<Path>) -> Result<RealValues, Error> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        RealValues::from_reader(BufReader::new(file), path)
    }

    /// Reads `type<TAB>value` lines from `reader`; `path` names the source
    /// in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if reading fails.
    pub fn from_reader(
        mut reader: impl BufRead,
        path: impl Into<PathBuf>,
    ) -> Result<RealValues, Error> {
        let path = path.into();
        let mut real = RealValues::default();
        let mut seen: HashSet<String, ahash::RandomState> = HashSet::default();
        let mut buf = Vec::new();
        let mut line_no = 0u64;
        let types = RoleTypes::resolve();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| Error::Io {
                    path: path.clone(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                continue;
            }
            let Some((type_name, value)) = line.split_once('\t') else {
                real.skip(line_no, "", line, "no tab between type and value".into());
                continue;
            };
            let Some(ty) = AttributeType::from_name(type_name) else {
                real.skip(
                    line_no,
                    type_name,
                    value,
                    format!("unknown attribute type {type_name:?}"),
                );
                continue;
            };
            let Some(role) = types.role(ty) else {
                real.skip(
                    line_no,
                    type_name,
                    value,
                    "type not drawn from real values".into(),
                );
                continue;
            };
            let normalized = match normalize(ty, value) {
                Ok(v) => v.into_string(),
                Err(rejection) => {
                    real.skip(
                        line_no,
                        type_name,
                        value,
                        format!("rejected: {}", rejection.reason()),
                    );
                    continue;
                }
            };
            let usable = match role {
                Role::Host => is_hostname(&normalized),
                Role::Ip => normalized.parse::<std::net::Ipv4Addr>().is_ok(),
                Role::Url => !normalized.contains('\n'),
                Role::Md5 => normalized.len() == 32,
                Role::Sha256 => normalized.len() == 64,
            };
            if !usable {
                let why = match role {
                    Role::Host => "not a plain ASCII host name",
                    Role::Ip => "not a single IPv4 address",
                    _ => "not usable in its role",
                };
                real.skip(line_no, type_name, value, why.into());
                continue;
            }
            let tagged = format!("{}\t{normalized}", role as u8);
            if !seen.insert(tagged) {
                real.skip(
                    line_no,
                    type_name,
                    value,
                    "duplicate after normalisation".into(),
                );
                continue;
            }
            let pool = match role {
                Role::Host => &mut real.hosts,
                Role::Url => &mut real.urls,
                Role::Ip => &mut real.ipv4s,
                Role::Md5 => &mut real.md5s,
                Role::Sha256 => &mut real.sha256s,
            };
            if !pool.push(&normalized) {
                real.skip(
                    line_no,
                    type_name,
                    value,
                    "pool full (4 GiB of text)".into(),
                );
            }
        }
        Ok(real)
    }

    fn skip(&mut self, line: u64, type_name: &str, value: &str, reason: String) {
        self.skipped_count += 1;
        if self.skipped.len() < Self::MAX_REPORTED {
            let mut cut = value.len().min(200);
            while !value.is_char_boundary(cut) {
                cut -= 1;
            }
            self.skipped.push(SkippedLine {
                line,
                type_name: type_name.to_owned(),
                value: value[..cut].to_owned(),
                reason,
            });
        }
    }

    /// The first skipped lines, in file order.
    pub fn skipped(&self) -> &[SkippedLine] {
        &self.skipped
    }

    /// How many lines were skipped in all.
    pub fn skipped_count(&self) -> u64 {
        self.skipped_count
    }

    /// How many usable values there are per role: host names, URLs, IPv4
    /// addresses, md5 and sha256 hashes.
    pub fn counts(&self) -> RealCounts {
        RealCounts {
            hosts: self.hosts.len(),
            urls: self.urls.len(),
            ipv4s: self.ipv4s.len(),
            md5s: self.md5s.len(),
            sha256s: self.sha256s.len(),
        }
    }
}

/// Sizes of the pools of a [`RealValues`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealCounts {
    /// Host names (from `domain`).
    pub hosts: usize,
    /// URLs.
    pub urls: usize,
    /// IPv4 addresses (from `ip-dst`/`ip-src`).
    pub ipv4s: usize,
    /// md5 hashes.
    pub md5s: usize,
    /// sha256 hashes.
    pub sha256s: usize,
}

#[derive(Clone, Copy)]
enum Role {
    Host,
    Url,
    Ip,
    Md5,
    Sha256,
}

struct RoleTypes([(Option<AttributeType>, Role); 6]);

impl RoleTypes {
    fn resolve() -> RoleTypes {
        let t = AttributeType::from_name;
        RoleTypes([
            (t("domain"), Role::Host),
            (t("url"), Role::Url),
            (t("ip-dst"), Role::Ip),
            (t("ip-src"), Role::Ip),
            (t("md5"), Role::Md5),
            (t("sha256"), Role::Sha256),
        ])
    }

    fn role(&self, ty: AttributeType) -> Option<Role> {
        self.0.iter().find(|(t, _)| *t == Some(ty)).map(|(_, r)| *r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_reports_bad_lines() {
        let text = "domain\tEvil.example.com\nurl\thttps://a.example/x\nip-dst\t1.2.3.4\n\
                    ip-dst\t2001:db8::1\nmd5\tD41D8CD98F00B204E9800998ECF8427E\nnotab\n\
                    nonsense\tx\nsha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n\
                    domain\tEvil.example.com\nsha256\t\n";
        let real = RealValues::from_reader(text.as_bytes(), "mem.tsv").unwrap();
        let c = real.counts();
        assert_eq!((c.hosts, c.urls, c.ipv4s, c.md5s), (1, 1, 1, 1));
        assert_eq!(real.md5s.get(0).len(), 32);
        let reasons: Vec<(u64, &str)> = real
            .skipped()
            .iter()
            .map(|s| (s.line, s.reason.as_str()))
            .collect();
        assert!(
            reasons.iter().any(|(l, r)| *l == 4 && r.contains("IPv4")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|(l, r)| *l == 6 && r.contains("no tab")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|(l, r)| *l == 7 && r.contains("unknown attribute type")),
            "{reasons:?}"
        );
        assert!(reasons.iter().any(|(l, _)| *l == 8), "{reasons:?}");
        assert!(
            reasons.iter().any(|(l, _)| *l == 10),
            "empty value rejected: {reasons:?}"
        );
        assert_eq!(real.skipped_count(), real.skipped().len() as u64);
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = RealValues::load("/nonexistent/values.tsv").unwrap_err();
        assert!(err.to_string().contains("/nonexistent/values.tsv"), "{err}");
    }

    #[test]
    fn pool_get_out_of_range_is_empty() {
        let mut p = Pool::default();
        assert!(p.push("ab"));
        assert!(p.push("cde"));
        assert_eq!((p.get(0), p.get(1), p.get(2)), ("ab", "cde", ""));
    }
}
