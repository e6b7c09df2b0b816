//! Which refang rules, rewrite and validation each of the 194 types gets.
//!
//! The assignments follow `ComplexTypeTool::REFANG_REGEX_TABLE` and the two
//! `switch` statements of `AttributeValidationTool` (MISP 2.5). Four types
//! of the type table have no `case` in MISP 2.5.1's `validate()`:
//!
//! * `filename|impfuzzy`: MISP throws "Unknown attribute type", so the
//!   attribute cannot be saved; it is rejected here with that message.
//! * `suricata`, `edge-extension-id`, `uuid`: added to MISP after 2.5.1.
//!   `suricata` joins the accept-all branch beside `snort` (MISP PR
//!   #10749); `edge-extension-id` and `uuid` get the rule of their nearest
//!   2.5 relatives (`chrome-extension-id` and the other identifier types):
//!   any value without a newline.

use std::sync::LazyLock;

use super::refang::Refang;
use crate::AttributeType;

/// The rewrite `modifyBeforeValidation` applies to a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rewrite {
    /// The value is left as it is.
    None,
    /// `normalizeIp` (`ip-src`, `ip-dst`).
    Ip,
    /// ASCII lowercase (hashes, `hostname`, emails, …).
    Lower,
    /// ASCII uppercase (`http-method`, `hex`).
    Upper,
    /// Lowercase, strip dots, punycode.
    Domain,
    /// `domain|ip`.
    DomainIp,
    /// Lowercase from the first `|` on (`filename|<hash>`).
    LowerAfterPipe,
    /// En dash to hyphen, uppercase (`vulnerability`, `weakness`).
    Cve,
    /// Keep digits (`cc-number`, `bin`).
    Digits,
    /// Uppercase, keep `[0-9A-Z]` (`iban`, `bic`).
    Iban,
    /// `00` to `+`, drop `(0)`, keep `+` and digits.
    Phone,
    /// Drop `:`, lowercase (`x509-fingerprint-*`).
    X509,
    /// `ip-src|port`, `ip-dst|port`.
    IpPort,
    /// `mac-address`, `mac-eui-64`.
    Mac,
    /// Lowercase, every `:` to `|`.
    HostnamePort,
    /// `true`/`false`/truthiness to `1`/`0`.
    Boolean,
    /// ISO 8601 with microseconds.
    Datetime,
    /// Strip `AS`, asdot to a number.
    As,
}

/// The check `validate()` applies to a type. Variants without a comment
/// are the rule of the type they are named after (`Tlsh` for `tlsh`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Exactly `len` hex digits (`isHashValid`).
    Hash(usize),
    Tlsh,
    Telfhash,
    Pehash,
    Ssdeep,
    Impfuzzy,
    Cdhash,
    HttpMethod,
    FilenamePehash,
    /// `filename|<hash>` with a `len`-digit lowercase hex hash.
    FilenameHash(usize),
    FilenameSsdeep,
    FilenameTlsh,
    FilenameVhash,
    Ip,
    Port,
    IpPort,
    Onion,
    /// `mac-address` (6 groups) and `mac-eui-64` (8 groups).
    Mac(usize),
    Domain,
    Hostname,
    HostnamePort,
    DomainIp,
    Email,
    Vulnerability,
    Weakness,
    WindowsService,
    /// No check at all.
    Any,
    Link,
    Hex,
    /// Anything without a newline.
    NoNewline,
    SshFingerprint,
    Datetime,
    /// `size-in-bytes`, `counter`: digits only.
    WholeNumber,
    /// `integer`: MISP's `is_int()` on a string, never true.
    Integer,
    /// `^[a-zA-Z0-9]+$` (`iban`, `bic`, `btc`, `dash`, `xmr`).
    Alnum,
    /// `^.+$`.
    Vhash,
    /// PHP `is_numeric()`.
    Numeric,
    Json,
    Boolean,
    As,
    /// No `case` in `validate()`: MISP throws.
    Unknown,
}

/// The rules for one type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeRules {
    pub(crate) refang: Refang,
    pub(crate) rewrite: Rewrite,
    pub(crate) check: Check,
    pub(crate) composite: bool,
}

/// The rules of `ty`.
pub(crate) fn rules(ty: AttributeType) -> TypeRules {
    static TABLE: LazyLock<Vec<TypeRules>> = LazyLock::new(|| {
        AttributeType::all()
            .map(|t| TypeRules {
                refang: refang_of(t.name()),
                rewrite: rewrite_of(t.name()),
                check: check_of(t.name()),
                composite: t.is_composite(),
            })
            .collect()
    });
    TABLE.get(ty.index()).copied().unwrap_or(TypeRules {
        refang: Refang::None,
        rewrite: Rewrite::None,
        check: Check::Unknown,
        composite: ty.is_composite(),
    })
}

fn refang_of(name: &str) -> Refang {
    match name {
        "link" | "url" => Refang::Url,
        "ip-dst" | "ip-src" | "domain|ip" | "domain" | "hostname" => Refang::Dots,
        "email" | "email-src" | "email-dst" => Refang::Email,
        _ => Refang::None,
    }
}

fn rewrite_of(name: &str) -> Rewrite {
    match name {
        "ip-src" | "ip-dst" => Rewrite::Ip,
        "md5"
        | "sha1"
        | "sha224"
        | "sha256"
        | "sha384"
        | "sha512"
        | "sha512/224"
        | "sha512/256"
        | "sha3-224"
        | "sha3-256"
        | "sha3-384"
        | "sha3-512"
        | "ja3-fingerprint-md5"
        | "jarm-fingerprint"
        | "hassh-md5"
        | "hasshserver-md5"
        | "hostname"
        | "pehash"
        | "authentihash"
        | "vhash"
        | "imphash"
        | "telfhash"
        | "tlsh"
        | "anonymised"
        | "cdhash"
        | "email"
        | "email-src"
        | "email-dst"
        | "target-email"
        | "whois-registrant-email"
        | "dom-hash"
        | "onion-address" => Rewrite::Lower,
        "domain" => Rewrite::Domain,
        "domain|ip" => Rewrite::DomainIp,
        "filename|md5"
        | "filename|sha1"
        | "filename|imphash"
        | "filename|sha224"
        | "filename|sha256"
        | "filename|sha384"
        | "filename|sha512"
        | "filename|sha512/224"
        | "filename|sha512/256"
        | "filename|sha3-224"
        | "filename|sha3-256"
        | "filename|sha3-384"
        | "filename|sha3-512"
        | "filename|authentihash"
        | "filename|vhash"
        | "filename|pehash"
        | "filename|tlsh" => Rewrite::LowerAfterPipe,
        "http-method" | "hex" => Rewrite::Upper,
        "vulnerability" | "weakness" => Rewrite::Cve,
        "cc-number" | "bin" => Rewrite::Digits,
        "iban" | "bic" => Rewrite::Iban,
        "prtn" | "whois-registrant-phone" | "phone-number" => Rewrite::Phone,
        "x509-fingerprint-md5" | "x509-fingerprint-sha256" | "x509-fingerprint-sha1" => {
            Rewrite::X509
        }
        "ip-dst|port" | "ip-src|port" => Rewrite::IpPort,
        "mac-address" | "mac-eui-64" => Rewrite::Mac,
        "hostname|port" => Rewrite::HostnamePort,
        "boolean" => Rewrite::Boolean,
        "datetime" => Rewrite::Datetime,
        "AS" => Rewrite::As,
        _ => Rewrite::None,
    }
}

/// MISP's `HASH_HEX_LENGTH`.
fn hash_len(name: &str) -> Option<usize> {
    Some(match name {
        "md5"
        | "imphash"
        | "x509-fingerprint-md5"
        | "ja3-fingerprint-md5"
        | "hassh-md5"
        | "hasshserver-md5"
        | "dom-hash" => 32,
        "sha1" | "git-commit-id" | "x509-fingerprint-sha1" | "pehash" => 40,
        "sha224" | "sha512/224" | "sha3-224" => 56,
        "sha256" | "authentihash" | "x509-fingerprint-sha256" | "sha512/256" | "sha3-256" => 64,
        "jarm-fingerprint" => 62,
        "telfhash" => 70,
        "sha384" | "sha3-384" => 96,
        "sha512" | "sha3-512" => 128,
        _ => return None,
    })
}

fn check_of(name: &str) -> Check {
    match name {
        "md5"
        | "imphash"
        | "sha1"
        | "sha224"
        | "sha256"
        | "sha384"
        | "sha512"
        | "sha512/224"
        | "sha512/256"
        | "sha3-224"
        | "sha3-256"
        | "sha3-384"
        | "sha3-512"
        | "authentihash"
        | "ja3-fingerprint-md5"
        | "jarm-fingerprint"
        | "hassh-md5"
        | "hasshserver-md5"
        | "x509-fingerprint-md5"
        | "x509-fingerprint-sha256"
        | "x509-fingerprint-sha1"
        | "git-commit-id"
        | "dom-hash" => hash_len(name).map_or(Check::Unknown, Check::Hash),
        "tlsh" => Check::Tlsh,
        "telfhash" => Check::Telfhash,
        "pehash" => Check::Pehash,
        "ssdeep" => Check::Ssdeep,
        "impfuzzy" => Check::Impfuzzy,
        "cdhash" => Check::Cdhash,
        "http-method" => Check::HttpMethod,
        "filename|pehash" => Check::FilenamePehash,
        "filename|md5"
        | "filename|sha1"
        | "filename|imphash"
        | "filename|sha224"
        | "filename|sha256"
        | "filename|sha384"
        | "filename|sha512"
        | "filename|sha512/224"
        | "filename|sha512/256"
        | "filename|sha3-224"
        | "filename|sha3-256"
        | "filename|sha3-384"
        | "filename|sha3-512"
        | "filename|authentihash" => name
            .strip_prefix("filename|")
            .and_then(hash_len)
            .map_or(Check::Unknown, Check::FilenameHash),
        "filename|ssdeep" => Check::FilenameSsdeep,
        "filename|tlsh" => Check::FilenameTlsh,
        "filename|vhash" => Check::FilenameVhash,
        "ip-src" | "ip-dst" => Check::Ip,
        "port" => Check::Port,
        "ip-dst|port" | "ip-src|port" => Check::IpPort,
        "onion-address" => Check::Onion,
        "mac-address" => Check::Mac(6),
        "mac-eui-64" => Check::Mac(8),
        "domain" => Check::Domain,
        "hostname" => Check::Hostname,
        "hostname|port" => Check::HostnamePort,
        "domain|ip" => Check::DomainIp,
        "email"
        | "email-src"
        | "eppn"
        | "email-dst"
        | "target-email"
        | "whois-registrant-email"
        | "dns-soa-email"
        | "jabber-id" => Check::Email,
        "vulnerability" => Check::Vulnerability,
        "weakness" => Check::Weakness,
        "windows-service-name" | "windows-service-displayname" => Check::WindowsService,
        "mutex"
        | "process-state"
        | "snort"
        | "bro"
        | "zeek"
        | "community-id"
        | "anonymised"
        | "pattern-in-file"
        | "pattern-in-traffic"
        | "pattern-in-memory"
        | "filename-pattern"
        | "pgp-public-key"
        | "pgp-private-key"
        | "yara"
        | "stix2-pattern"
        | "sigma"
        | "gene"
        | "kusto-query"
        | "mime-type"
        | "identity-card-number"
        | "cookie"
        | "attachment"
        | "malware-sample"
        | "comment"
        | "text"
        | "other"
        | "cpe"
        | "email-attachment"
        | "email-body"
        | "email-header"
        | "first-name"
        | "middle-name"
        | "last-name"
        | "full-name" => Check::Any,
        // Added after MISP 2.5.1 next to `snort` (PR #10749).
        "suricata" => Check::Any,
        "link" => Check::Link,
        "hex" => Check::Hex,
        "target-user"
        | "campaign-name"
        | "campaign-id"
        | "threat-actor"
        | "target-machine"
        | "target-org"
        | "target-location"
        | "target-external"
        | "email-subject"
        | "malware-type"
        | "url"
        | "uri"
        | "user-agent"
        | "regkey"
        | "regkey|value"
        | "filename"
        | "pdb"
        | "windows-scheduled-task"
        | "whois-registrant-name"
        | "whois-registrant-org"
        | "whois-registrar"
        | "whois-creation-date"
        | "date-of-birth"
        | "place-of-birth"
        | "gender"
        | "passport-number"
        | "passport-country"
        | "passport-expiration"
        | "redress-number"
        | "nationality"
        | "visa-number"
        | "issue-date-of-the-visa"
        | "primary-residence"
        | "country-of-residence"
        | "special-service-request"
        | "frequent-flyer-number"
        | "travel-details"
        | "payment-details"
        | "place-port-of-original-embarkation"
        | "place-port-of-clearance"
        | "place-port-of-onward-foreign-destination"
        | "passenger-name-record-locator-number"
        | "email-dst-display-name"
        | "email-src-display-name"
        | "email-reply-to"
        | "email-x-mailer"
        | "email-mime-boundary"
        | "email-thread-index"
        | "email-message-id"
        | "github-username"
        | "github-repository"
        | "github-organisation"
        | "twitter-id"
        | "dkim"
        | "dkim-signature"
        | "favicon-mmh3"
        | "chrome-extension-id"
        | "mobile-application-id"
        | "azure-application-id"
        | "named pipe" => Check::NoNewline,
        // Added after MISP 2.5.1; no 2.5 rule exists (see the module docs).
        "edge-extension-id" | "uuid" => Check::NoNewline,
        "ssh-fingerprint" => Check::SshFingerprint,
        "datetime" => Check::Datetime,
        "size-in-bytes" | "counter" => Check::WholeNumber,
        "integer" => Check::Integer,
        "iban" | "bic" | "btc" | "dash" | "xmr" => Check::Alnum,
        "vhash" => Check::Vhash,
        "bin"
        | "cc-number"
        | "bank-account-nr"
        | "aba-rtn"
        | "prtn"
        | "phone-number"
        | "whois-registrant-phone"
        | "float" => Check::Numeric,
        "cortex" => Check::Json,
        "boolean" => Check::Boolean,
        "AS" => Check::As,
        _ => Check::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filename_impfuzzy_is_unknown() {
        let unknown: Vec<_> = AttributeType::all()
            .filter(|&t| rules(t).check == Check::Unknown)
            .map(|t| t.name())
            .collect();
        assert_eq!(unknown, ["filename|impfuzzy"]);
    }

    #[test]
    fn refanged_types() {
        let refanged: Vec<_> = AttributeType::all()
            .filter(|&t| rules(t).refang != Refang::None)
            .map(|t| t.name())
            .collect();
        assert_eq!(refanged.len(), 10, "{refanged:?}");
        for name in [
            "ip-src|port",
            "ip-dst|port",
            "hostname|port",
            "target-email",
        ] {
            let t = AttributeType::from_name(name).expect("known type");
            assert_eq!(rules(t).refang, Refang::None, "{name}");
        }
    }

    #[test]
    fn every_rewrite_name_is_a_type() {
        // A typo in a name would silently drop a rule: every type named in
        // the rewrite table must exist.
        let rewritten = AttributeType::all()
            .filter(|&t| rules(t).rewrite != Rewrite::None)
            .count();
        assert_eq!(rewritten, 75);
    }
}
