//! The conformance vectors of `misp-warninglist-reference.md` §2.9, one test
//! each, in MISP-compatible mode.
//!
//! Each vector is one list of one type with the given entries (applying to
//! every attribute type), one attribute type and one value; the expected
//! result is MISP's `[match, matched half]` or `false`. Three IPv6 vectors
//! document MISP's order-dependent "last group wins" bug; the contract
//! (§2, cidr) requires the shortest-prefix entry instead, and those tests
//! assert the contract while naming MISP's result.

mod warninglist_support;

use misp_correlate::warninglist::{Improvements, ListType, Query, ToIdsGate};
use warninglist_support::{list, matcher};

enum Expect {
    /// MISP returns `[match, part]`.
    Hit(&'static str, &'static str),
    /// MISP matches; the vector names no match text.
    Match,
    /// MISP returns false.
    Miss,
}

fn run(list_type: ListType, entries: &[&str], attribute_type: &str, value: &str, expect: Expect) {
    let matcher = matcher(vec![list("L", list_type, entries)], Improvements::MISP);
    let hits = matcher.check_query(Query::new(attribute_type, value), ToIdsGate::Off);
    let got: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.matched.to_string(), h.value.to_owned()))
        .collect();
    let context = format!("{list_type} {entries:?} | {attribute_type} | {value:?}");
    match expect {
        Expect::Hit(matched, part) => {
            assert_eq!(got, [(matched.to_owned(), part.to_owned())], "{context}")
        }
        Expect::Match => assert_eq!(got.len(), 1, "{context}: expected a match, got {got:?}"),
        Expect::Miss => assert!(got.is_empty(), "{context}: expected no match, got {got:?}"),
    }
}

macro_rules! vectors {
    ($($name:ident: $ty:ident [$($entry:expr),*] | $attr:literal | $value:literal => $expect:expr;)*) => {
        $(
            #[test]
            fn $name() {
                run(ListType::$ty, &[$($entry),*], $attr, $value, $expect);
            }
        )*
    };
}

use Expect::{Hit, Match, Miss};

const MD5_EMPTY: &str = "d41d8cd98f00b204e9800998ecf8427e";

vectors! {
    // Hostname.
    host_exact: Hostname ["example.com"] | "domain" | "example.com" => Hit("example.com", "example.com");
    host_subdomain: Hostname ["example.com"] | "domain" | "sub.example.com" => Hit("example.com", "sub.example.com");
    host_label_boundary: Hostname ["example.com"] | "domain" | "badexample.com" => Miss;
    host_entry_lowercased: Hostname ["Example.COM"] | "domain" | "example.com" => Match;
    host_value_not_lowercased: Hostname ["example.com"] | "domain" | "Example.com" => Miss;
    host_url_upper_case: Hostname ["example.com"] | "url" | "http://WWW.EXAMPLE.com/x" => Miss;
    host_url: Hostname ["example.com"] | "url" | "https://www.example.com/x" => Match;
    host_url_port_kept: Hostname ["example.com"] | "url" | "https://www.example.com:443/x" => Miss;
    host_url_userinfo: Hostname ["example.com"] | "url" | "https://user@www.example.com/x" => Match;
    host_no_scheme_path: Hostname ["example.com"] | "url" | "www.example.com/x?a=b" => Match;
    host_no_scheme_query: Hostname ["example.com"] | "url" | "www.example.com?a=b" => Miss;
    host_query_without_slash: Hostname ["example.com"] | "url" | "http://example.com?x=1" => Miss;
    host_fragment_without_slash: Hostname ["example.com"] | "url" | "http://example.com#frag" => Miss;
    host_redirect_parameter: Hostname ["example.com"] | "url" | "example.com/redirect?u=http://foo" => Miss;
    host_scheme_relative: Hostname ["example.com"] | "url" | "//example.com/x" => Match;
    host_ftp: Hostname ["example.com"] | "url" | "ftp://example.com" => Match;
    host_trailing_dot: Hostname ["example.com"] | "domain" | "example.com." => Match;
    host_leading_dot_entry: Hostname [".example.com"] | "domain" | "example.com" => Match;
    host_wildcard_is_literal: Hostname ["*.example.com"] | "domain" | "a.example.com" => Miss;
    host_single_label: Hostname ["com"] | "domain" | "example.com" => Hit("com", "example.com");
    host_composite_first_half: Hostname ["example.com"] | "domain|ip" | "www.example.com|1.2.3.4" => Hit("example.com", "www.example.com");
    host_hostname_port: Hostname ["example.com"] | "hostname|port" | "www.example.com|80" => Hit("example.com", "www.example.com");
    host_email_first_label: Hostname ["example.com"] | "email-src" | "foo@example.com" => Miss;
    host_email_subdomain: Hostname ["example.com"] | "email-src" | "foo@sub.example.com" => Match;
    host_zero_label_quirk: Hostname ["example.com"] | "domain" | "example.com.0" => Match;
    host_ip_entry_second_half: Hostname ["8.9.11.7"] | "domain|ip" | "foo.com|8.9.11.7" => Hit("8.9.11.7", "8.9.11.7");
    host_numeric_label: Hostname ["77"] | "ip-dst" | "10.0.0.77" => Hit("77", "10.0.0.77");

    // String, substring and regex.
    string_case_sensitive: String ["abc"] | "text" | "ABC" => Miss;
    string_not_trimmed: String ["abc"] | "text" | " abc" => Miss;
    string_hash_half: String [MD5_EMPTY] | "filename|md5" | "x.exe|d41d8cd98f00b204e9800998ecf8427e" => Hit(MD5_EMPTY, MD5_EMPTY);
    string_filename_half: String ["x.exe"] | "filename|md5" | "x.exe|d41d8cd98f00b204e9800998ecf8427e" => Hit("x.exe", "x.exe");
    string_pipe_not_split: String ["a|b"] | "text" | "a|b" => Match;
    string_pipe_split: String ["a|b"] | "domain|ip" | "a|b" => Miss;
    string_split_limit_two: String ["b|c"] | "domain|ip" | "a|b|c" => Hit("b|c", "b|c");
    string_upper_case_tld: String ["COM"] | "domain" | "com" => Miss;
    string_leading_dot: String [".google.ad"] | "domain" | "www.google.ad" => Miss;
    substring_case_sensitive: Substring [".ONION"] | "domain" | "abc.onion" => Miss;
    regex_case_insensitive: Regex ["/^abc$/i"] | "text" | "ABC" => Match;
    regex_missing_delimiter: Regex ["^abc$"] | "text" | "abc" => Miss;
    regex_global_modifier: Regex ["/abc/g"] | "text" | "abc" => Miss;

    // CIDR.
    cidr_plain: Cidr ["10.0.0.0/8"] | "ip-dst" | "10.1.2.3" => Hit("10.0.0.0/8", "10.1.2.3");
    cidr_value_contained: Cidr ["10.0.0.0/8"] | "ip-dst" | "10.1.2.3/16" => Match;
    cidr_value_larger: Cidr ["10.0.0.0/8"] | "ip-dst" | "10.0.0.0/7" => Miss;
    cidr_mask_zero_quirk: Cidr ["10.0.0.0/8"] | "ip-dst" | "10.0.0.0/0" => Match;
    cidr_entry_host_bits: Cidr ["10.0.0.5/8"] | "ip-dst" | "10.0.0.5" => Miss;
    cidr_bare_entry: Cidr ["10.0.0.5"] | "ip-dst" | "10.0.0.5" => Hit("10.0.0.5/32", "10.0.0.5");
    cidr_entry_leading_zeros: Cidr ["010.0.0.5"] | "ip-dst" | "10.0.0.5" => Miss;
    cidr_entry_prefix_leading_zero: Cidr ["10.0.0.0/08"] | "ip-dst" | "10.0.0.5" => Miss;
    cidr_value_leading_zeros: Cidr ["10.0.0.0/8"] | "ip-dst" | "010.0.0.5" => Miss;
    cidr_shortest_prefix: Cidr ["10.0.0.0/8", "10.1.0.0/16"] | "ip-dst" | "10.1.0.0/12" => Hit("10.0.0.0/8", "10.1.0.0/12");
    cidr_composite_first_half: Cidr ["10.0.0.0/8"] | "ip-dst|port" | "10.1.2.3|443" => Hit("10.0.0.0/8", "10.1.2.3");
    cidr_colon_port: Cidr ["10.0.0.0/8"] | "ip-dst" | "10.1.2.3:443" => Miss;
    cidr_everything: Cidr ["0.0.0.0/0"] | "ip-dst" | "1.2.3.4" => Match;
    cidr_ipv6_upper_case: Cidr ["2001:db8::/32"] | "ip-dst" | "2001:DB8::1" => Match;
    cidr_ipv6_host_bits: Cidr ["2001:db8::1/32"] | "ip-dst" | "2001:db8::ff" => Hit("2001:db8::/32", "2001:db8::ff");
    // MISP: false when /64 is the last group (Redis order); contract: the
    // shortest prefix (/32) decides, and 48 >= 32.
    cidr_ipv6_order_bug: Cidr ["2001:db8::/32", "2001:db8::/64"] | "ip-dst" | "2001:db8::/48" => Hit("2001:db8::/32", "2001:db8::/48");
    cidr_ipv6_other_order: Cidr ["2001:db8::/64", "2001:db8::/32"] | "ip-dst" | "2001:db8::/48" => Hit("2001:db8::/32", "2001:db8::/48");
    // MISP reports 2001:db8::/64 (last group); contract: shortest prefix.
    cidr_ipv6_last_group: Cidr ["2001:db8::/32", "2001:db8::/64"] | "ip-dst" | "2001:db8::1" => Hit("2001:db8::/32", "2001:db8::1");
    cidr_mapped_ipv4_is_ipv6: Cidr ["1.2.3.0/24"] | "ip-dst" | "::ffff:1.2.3.4" => Miss;
    cidr_zone_id: Cidr ["fe80::/10"] | "ip-dst" | "fe80::1%eth0" => Miss;
    cidr_junk_mask_quirk: Cidr ["1.2.3.0/24"] | "ip-dst" | "1.2.3.4/abc" => Match;
    cidr_extra_fields_ignored: Cidr ["1.2.3.0/24"] | "ip-dst" | "1.2.3.0/24/5" => Match;
}
