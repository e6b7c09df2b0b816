//! Golden vectors for [`normalize`](super::normalize).
//!
//! Every expected output or rejection below was produced by MISP 2.5's own
//! `AttributeValidationTool` and `ComplexTypeTool::refangValue`, run with
//! MISP's validation-rule order under PHP 8.2 with ext-intl (ICU 72).

use super::stored;

type Vector = (
    &'static str,
    &'static str,
    Result<&'static str, &'static str>,
);

fn check(vectors: &[Vector]) {
    let mut failures = Vec::new();
    for &(ty, raw, want) in vectors {
        let got = stored(ty, raw);
        let want = want.map(str::to_owned).map_err(str::to_owned);
        if got != want {
            failures.push(format!("{ty} {raw:?}: got {got:?}, want {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// §11.2 of the correlation reference ("Verified vectors"), one by one.
#[test]
fn reference_section_11_2() {
    check(&[
        ("ip-src", "::1", Ok("::1")),
        ("ip-src", "::0001", Ok("::0001")),
        ("ip-src", "::1/128", Ok("::1/128")),
        ("ip-src", "2001:DB8::1", Ok("2001:db8::1")),
        ("ip-src", "2001:0db8:0000::0001/128", Ok("2001:db8::1")),
        ("ip-src", "2001:db8:0:0:0:0:0:0/32", Ok("2001:db8::/32")),
        ("ip-src", "10.1.2.3/8", Ok("10.1.2.3/8")),
        ("ip-src", "10.1.2.3/32", Ok("10.1.2.3")),
        ("ip-src", "10.1.2.3/032", Ok("10.1.2.3/032")),
        ("ip-src", "1.2.3.4/0", Ok("1.2.3.4/0")),
        (
            "ip-src",
            "010.1.2.3",
            Err("IP address has an invalid format."),
        ),
        (
            "ip-src",
            "1.2.3.4/33",
            Err("Invalid CIDR notation value found, for IPv4 must be lower or equal 32."),
        ),
        (
            "ip-src",
            "fe80::1%eth0",
            Err("IP address has an invalid format."),
        ),
        ("ip-dst", "::ffff:1.2.3.4/32", Ok("::ffff:1.2.3.4")),
        ("ip-dst", "1.2.3[.]4", Ok("1.2.3.4")),
        ("ip-dst|port", "1.2.3.4:80", Ok("1.2.3.4|80")),
        ("ip-dst|port", "[2001:db8::1]:443", Ok("2001:db8::1|443")),
        ("ip-dst|port", "2001:db8::1:80", Ok("2001:db8::1|80")),
        ("ip-dst|port", "2001:db8::1.80", Ok("2001:db8::1|80")),
        ("ip-dst|port", "2001:db8::1 port 80", Ok("2001:db8::1|80")),
        ("ip-dst|port", "2001:db8::1#80", Ok("2001:db8::1|80")),
        (
            "ip-dst|port",
            "1.2.3.4|80-90",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        (
            "ip-dst|port",
            "1.2.3.4|0",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        (
            "ip-dst|port",
            "10.0.0.0/8|80",
            Err("IP address has an invalid format."),
        ),
        (
            "ip-dst|port",
            "1.2.3[.]4:80",
            Err("IP address has an invalid format."),
        ),
        ("hostname|port", "Example.COM:8080", Ok("example.com|8080")),
        ("domain", "Example.COM.", Ok("example.com")),
        ("domain", ".example.com", Ok("example.com")),
        ("domain", "EXAMPLE(dot)COM", Ok("example.com")),
        (
            "domain",
            "localhost",
            Err(
                "Domain has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("domain", "exa_mple.com", Ok("exa_mple.com")),
        ("domain", "-bad-.com", Ok("-bad-.com")),
        ("domain", "a..com", Ok("a..com")),
        (
            "hostname",
            "Example.com.",
            Err(
                "Hostname has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "domain|ip",
            "EXAMPLE.com.|2001:DB8::1",
            Ok("example.com|2001:db8::1"),
        ),
        (
            "domain|ip",
            "example.com|10.0.0.0/8",
            Err("IP address has an invalid format."),
        ),
        (
            "md5",
            " D41D8CD98F00B204E9800998ECF8427E ",
            Ok("d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "filename|md5",
            "CMD.EXE|D41D8CD98F00B204E9800998ECF8427E",
            Ok("CMD.EXE|d41d8cd98f00b204e9800998ecf8427e"),
        ),
        ("email", "John.Doe@Example.COM", Ok("john.doe@example.com")),
        ("email", "foo[at]example[.]com", Ok("foo@example.com")),
        (
            "email-src",
            "foo@bar",
            Err(
                "Email address has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "url",
            "HTTP://Example.com/Path",
            Ok("HTTP://Example.com/Path"),
        ),
        (
            "url",
            "hxxps://example[.]com[:]8080/a",
            Ok("https://example.com:8080/a"),
        ),
        (
            "link",
            "example.com",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "ssdeep",
            "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO",
            Ok(
                "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO",
            ),
        ),
        (
            "ssdeep",
            "96:abc:def,\"file.exe\"",
            Err("Invalid SSDeep hash. The format has to be blocksize:hash:hash"),
        ),
        ("AS", "AS1234", Ok("1234")),
        ("AS", "as1234", Ok("1234")),
        ("AS", "1.10", Ok("65546")),
        (
            "AS",
            "AS 1234",
            Err("AS number have to be integer between 1 and 4294967295"),
        ),
        (
            "AS",
            "4294967296",
            Err("AS number have to be integer between 1 and 4294967295"),
        ),
        ("AS", "0", Ok("0")),
        ("mac-address", "AA-BB-CC-DD-EE-FF", Ok("aa:bb:cc:dd:ee:ff")),
        (
            "x509-fingerprint-sha1",
            "DA:39:A3:EE:5E:6B:4B:0D:32:55:BF:EF:95:60:18:90:AF:D8:07:09",
            Ok("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ),
        ("vulnerability", "cve-2021-44228", Ok("CVE-2021-44228")),
        ("text", "a😀b", Ok("a?b")),
        ("phone-number", "0049 (0)30-123 456", Ok("+4930123456")),
    ]);
}

/// Vectors for every type family, including MISP's quirks.
#[test]
fn type_families() {
    check(&[
        ("text", "", Err("Value cannot be empty.")),
        ("text", "   ", Err("Value cannot be empty.")),
        ("text", "0", Ok("0")),
        ("text", " 0 ", Ok("0")),
        (
            "text",
            "\u{1}\u{2}",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        (
            "text",
            "\u{c}",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        ("text", "a\u{1}", Ok("a\u{1}")),
        ("regkey|value", "HKLM\\Run|0", Ok("HKLM\\Run|0")),
        ("regkey|value", "HKLM\\Run|", Ok("HKLM\\Run|")),
        (
            "regkey|value",
            "\u{1}|x",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        (
            "regkey|value",
            "x|\u{1}",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        (
            "regkey|value",
            "x|y|z",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        (
            "regkey|value",
            "xy",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        (
            "malware-sample",
            "a.exe|d41d8cd98f00b204e9800998ecf8427e",
            Ok("a.exe|d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "malware-sample",
            "a.exe",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        ("text", "a😀b𝄞", Ok("a?b?")),
        ("text", "a\nb", Ok("a\nb")),
        (
            "filename",
            "a\nb",
            Err("Value must not contain new line character."),
        ),
        (
            "url",
            "http://a/\nb",
            Err("Value must not contain new line character."),
        ),
        (
            "md5",
            "D41D8CD98F00B204E9800998ECF8427E",
            Ok("d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "md5",
            "d41d8cd98f00b204e9800998ecf8427",
            Err(
                "Checksum has an invalid length or format (expected: 32 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "md5",
            "gggggggggggggggggggggggggggggggg",
            Err(
                "Checksum has an invalid length or format (expected: 32 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "sha1",
            "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            Ok("da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ),
        (
            "sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            Ok("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ),
        (
            "sha512",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: 128 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "sha3-384",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Ok(
                "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            ),
        ),
        (
            "sha512/224",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Ok("ffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "jarm-fingerprint",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Ok("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "dom-hash",
            "fffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: 32 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "git-commit-id",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Ok("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
        ),
        (
            "imphash",
            "d41d8cd98f00b204e9800998ecf8427e",
            Ok("d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "authentihash",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: 64 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "ja3-fingerprint-md5",
            "d41d8cd98f00b204e9800998ecf8427e",
            Ok("d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "hassh-md5",
            "d41d8cd98f00b204e9800998ecf8427e",
            Ok("d41d8cd98f00b204e9800998ecf8427e"),
        ),
        (
            "hasshserver-md5",
            "x",
            Err(
                "Checksum has an invalid length or format (expected: 32 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "telfhash",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Ok("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ),
        (
            "telfhash",
            "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: 70 or 72 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "pehash",
            "ffffffffffffffffffffffffffffffffffffffff",
            Ok("ffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "pehash",
            "fffffffffffffffffffffffffffffffffffffffff",
            Err(
                "The input doesn't match the expected sha1 format (expected: 40 hexadecimal characters). Keep in mind that MISP currently only supports SHA1 for PEhashes, if you would like to get the support extended to other hash types, make sure to create a github ticket about it at https://github.com/MISP/MISP!",
            ),
        ),
        (
            "tlsh",
            "T1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Ok("t1ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "tlsh",
            "fffffffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: at least 35 hexadecimal characters, optionally starting with t1 instead of hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "tlsh",
            "ffffffffffffffffffffffffffffffffffff",
            Ok("ffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "cdhash",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Ok("ffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "cdhash",
            "fffffffffffffffffffffffffffffffffffffff",
            Err(
                "The input doesn't match the expected format (expected: 40 or more hexadecimal characters)",
            ),
        ),
        ("vhash", "abc", Ok("abc")),
        (
            "vhash",
            "a\nb",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("ssdeep", "3::", Ok("3::")),
        (
            "ssdeep",
            "a:b:c",
            Err("Invalid SSDeep hash. The format has to be blocksize:hash:hash"),
        ),
        ("impfuzzy", "3:abc:def", Ok("3:abc:def")),
        (
            "impfuzzy",
            "a:b:c",
            Err("Invalid impfuzzy format. The format has to be imports:hash:hash"),
        ),
        (
            "impfuzzy",
            "3:a:b:c",
            Err("Invalid impfuzzy format. The format has to be imports:hash:hash"),
        ),
        (
            "filename|sha256",
            "A.EXE|EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE",
            Ok("A.EXE|eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"),
        ),
        (
            "filename|sha1",
            "a|d41d8cd98f00b204e9800998ecf8427e",
            Err(
                "Checksum has an invalid length or format (expected: filename|40 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "filename|sha3-512",
            "a|ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Ok(
                "a|ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            ),
        ),
        (
            "filename|authentihash",
            "a\nb|ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            Err(
                "Checksum has an invalid length or format (expected: filename|64 hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "filename|pehash",
            "a|FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            Ok("a|ffffffffffffffffffffffffffffffffffffffff"),
        ),
        (
            "filename|pehash",
            "a|f",
            Err(
                "The input doesn't match the expected filename|sha1 format (expected: filename|40 hexadecimal characters). Keep in mind that MISP currently only supports SHA1 for PEhashes, if you would like to get the support extended to other hash types, make sure to create a github ticket about it at https://github.com/MISP/MISP!",
            ),
        ),
        ("filename|ssdeep", "a|3:ab:cd", Ok("a|3:ab:cd")),
        (
            "filename|ssdeep",
            "a\nb|3:ab:cd",
            Err("Filename must not contain new line character."),
        ),
        (
            "filename|ssdeep",
            "a|x",
            Err("Invalid ssdeep hash (expected: blocksize:hash:hash)."),
        ),
        (
            "filename|tlsh",
            "a|T1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            Ok("a|t1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ),
        (
            "filename|tlsh",
            "a|x",
            Err(
                "TLSH hash has an invalid length or format (expected: filename|at least 35 hexadecimal characters, optionally starting with t1 instead of hexadecimal characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "filename|tlsh",
            "a\n|tffffffffffffffffffffffffffffffffffff",
            Err("Filename must not contain new line character."),
        ),
        ("filename|vhash", "a|B", Ok("a|b")),
        (
            "filename|vhash",
            "|b",
            Err(
                "Checksum has an invalid length or format (expected: filename|string characters). Please double check the value or select type \"other\".",
            ),
        ),
        (
            "filename|impfuzzy",
            "a|3:a:b",
            Err("Unknown attribute type filename|impfuzzy."),
        ),
        (
            "ip-src",
            "1.2.3.4/8/9",
            Err("Invalid CIDR notation value found."),
        ),
        (
            "ip-src",
            "1.2.3.4/a",
            Err("Invalid CIDR notation value found."),
        ),
        (
            "ip-src",
            "::1/129",
            Err("Invalid CIDR notation value found, for IPv6 must be lower or equal 128."),
        ),
        (
            "ip-src",
            "1::1\u{0}x",
            Err("inet_pton(): Argument #1 ($ip) must not contain any null bytes"),
        ),
        ("ip-dst", "1:0:0:2:0:0:0:3", Ok("1:0:0:2::3")),
        ("ip-dst", "::ffff:102:304", Ok("::ffff:102:304")),
        ("ip-dst", "0:0:0:0:0:0:102:304", Ok("::1.2.3.4")),
        ("ip-dst", "1.2.3.4 ", Ok("1.2.3.4")),
        ("ip-dst", "1.2.3(dot)4", Ok("1.2.3.4")),
        ("ip-src|port", "1.2.3.4|80|90", Ok("1.2.3.4|80")),
        ("ip-src|port", "::ffff:1.2.3.4:80", Ok("::ffff:1|2")),
        (
            "ip-src|port",
            "[::1]",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        ("ip-src|port", "1.2.3.4|080", Ok("1.2.3.4|080")),
        (
            "ip-src|port",
            "1234:0fd2:5621:0001:0089:0000:0000:4500/128|80",
            Ok("1234:fd2:5621:1:89::4500|80"),
        ),
        (
            "ip-src|port",
            "1.2.3.4",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        ("ip-src|port", "2001:db8::1p80", Ok("2001:db8::1|80")),
        ("port", "65535", Ok("65535")),
        (
            "port",
            "65536",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        (
            "port",
            "0",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        ("port", "080", Ok("080")),
        ("domain", "faß.de", Ok("fass.de")),
        ("domain", "ẞa.de", Ok("ssa.de")),
        ("domain", "HÁČKYČÁRKY.CZ", Ok("xn--hkyrky-ptac70bc.cz")),
        ("domain", "例え。jp", Ok("xn--r8jz45g.jp")),
        ("domain", "ｅｘａｍｐｌｅ.com", Ok("example.com")),
        (
            "domain",
            "ä..com",
            Err(
                "Domain has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "domain",
            "ä-.com",
            Err(
                "Domain has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "domain",
            "ä?.com",
            Err(
                "Domain has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("domain", "example.com\n.", Ok("example.com\n")),
        (
            "domain",
            "a[[.]]b.com",
            Err(
                "Domain has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("domain", "σς.gr", Ok("xn--4xaa.gr")),
        (
            "hostname",
            "HÁČKYČÁRKY.CZ",
            Err(
                "Hostname has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("hostname", "Www.Example.COM", Ok("www.example.com")),
        (
            "hostname",
            "a(dot)b[.]c",
            Err(
                "Hostname has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "domain|ip",
            "HÁČKYČÁRKY.CZ|127.0.0.1",
            Ok("xn--hkyrky-ptac70bc.cz|127.0.0.1"),
        ),
        ("domain|ip", "a.com|1.2.3.4|x", Ok("a.com|1.2.3.4")),
        (
            "domain|ip",
            "a.com",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        (
            "domain|ip",
            "localhost|1.2.3.4",
            Err("Domain has an invalid format."),
        ),
        ("domain|ip", "a.com|1.2.3.4/32", Ok("a.com|1.2.3.4")),
        (
            "hostname|port",
            "a.com:0",
            Err("Port numbers have to be integers between 1 and 65535."),
        ),
        (
            "hostname|port",
            "a.com:1:2",
            Err("Composite type found but the value not in the composite (value1|value2) format."),
        ),
        ("hostname|port", "a_b.com|443", Ok("a_b.com|443")),
        (
            "hostname|port",
            "a|80",
            Err("Hostname has an invalid format."),
        ),
        ("email-dst", "a[@]b[dot]c", Ok("a@b.c")),
        (
            "target-email",
            "A[at]B.COM",
            Err(
                "Email address has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("whois-registrant-email", "A@B.C", Ok("a@b.c")),
        ("eppn", "User@Example.COM", Ok("User@Example.COM")),
        (
            "jabber-id",
            "a b@c.d",
            Err(
                "Email address has an invalid format. Please double check the value or select type \"other\".",
            ),
        ),
        ("dns-soa-email", "@@a.b", Ok("@@a.b")),
        ("email", "a@b.c[DOT]d", Ok("a@b.c[dot]d")),
        (
            "link",
            "http://user:pass@x.com",
            Ok("http://user:pass@x.com"),
        ),
        ("link", "ftp://x", Ok("ftp://x")),
        ("link", "mailto:a@b.c", Ok("mailto:a@b.c")),
        ("link", "http://[::1]/", Ok("http://[::1]/")),
        (
            "link",
            "http://a_b.com",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "link",
            "javascript:alert(1)",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("link", "hxxp://x[.]com", Ok("http://x.com")),
        (
            "link",
            "http://x.com:99999",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "link",
            "http://ü.com",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "link",
            "http://x.com/a b",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("link", "HtTp://A.com", Ok("HtTp://A.com")),
        ("url", "meow://x[.]y", Ok("http://x.y")),
        ("url", "h[tt]ps://x.y", Ok("https://x.y")),
        ("url", "[hxxp://]x.y", Ok("http://x.y")),
        (
            "uri",
            "/a\nb",
            Err("Value must not contain new line character."),
        ),
        ("http-method", "get", Ok("GET")),
        ("http-method", "xgetx", Ok("XGETX")),
        ("http-method", "fetch", Err("Unknown HTTP method.")),
        ("hex", "deadBEEF", Ok("DEADBEEF")),
        (
            "hex",
            "xyz",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "onion-address",
            "ABCDEFGHIJKLMNOP.onion",
            Ok("abcdefghijklmnop.onion"),
        ),
        (
            "onion-address",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.onion",
            Err("Onion address has an invalid format."),
        ),
        ("onion-address", "a{56.onion", Ok("a{56.onion")),
        ("mac-address", "aabb.ccdd.eeff", Ok("aa:bb:cc:dd:ee:ff")),
        (
            "mac-address",
            "aa:bb:cc:dd:ee:ff\n:",
            Ok("aa:bb:cc:dd:ee:ff:\n"),
        ),
        (
            "mac-address",
            "aé",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "mac-address",
            "abc",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "mac-eui-64",
            "AA-BB-CC-DD-EE-FF-00-11",
            Ok("aa:bb:cc:dd:ee:ff:00:11"),
        ),
        (
            "mac-eui-64",
            "AA-BB-CC-DD-EE-FF",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("vulnerability", "cve–2021–44228", Ok("CVE-2021-44228")),
        (
            "vulnerability",
            "CVE-2021-123",
            Err("Invalid format. Expected: CVE-xxxx-xxxx..."),
        ),
        ("weakness", "cwe-79", Ok("CWE-79")),
        (
            "weakness",
            "CWE-",
            Err("Invalid format. Expected: CWE-x..."),
        ),
        (
            "windows-service-name",
            "a/b",
            Err(
                "Invalid format. Only values shorter than 256 characters that don't include any forward or backward slashes are allowed.",
            ),
        ),
        (
            "windows-service-displayname",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Err(
                "Invalid format. Only values shorter than 256 characters that don't include any forward or backward slashes are allowed.",
            ),
        ),
        ("windows-service-name", "svc", Ok("svc")),
        (
            "ssh-fingerprint",
            "MD5:7B:E5:6F:A7:F4:F9:81:62:5C:E3:1F:BF:8B:57:6C:5A",
            Ok("MD5:7B:E5:6F:A7:F4:F9:81:62:5C:E3:1F:BF:8B:57:6C:5A"),
        ),
        (
            "ssh-fingerprint",
            "SHA256:mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE",
            Ok("SHA256:mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE"),
        ),
        (
            "ssh-fingerprint",
            "SHA256:mVPw",
            Err("SSH fingerprint must be in MD5 or SHA256 format."),
        ),
        (
            "datetime",
            "2021-02-31",
            Ok("2021-03-03T00:00:00.000000+0000"),
        ),
        (
            "datetime",
            "2021-01-01T12:00:00+02:00",
            Ok("2021-01-01T12:00:00.000000+0200"),
        ),
        (
            "datetime",
            "@1600000000",
            Ok("2020-09-13T12:26:40.000000+0000"),
        ),
        (
            "datetime",
            "2021-13-01",
            Err("Datetime has to be in the ISO 8601 format."),
        ),
        ("size-in-bytes", "123", Ok("123")),
        (
            "size-in-bytes",
            "-1",
            Err("The value has to be a whole number greater or equal 0."),
        ),
        (
            "counter",
            "1.0",
            Err("The value has to be a whole number greater or equal 0."),
        ),
        ("integer", "5", Err("The value has to be an integer value.")),
        ("float", "1e5", Ok("1e5")),
        ("float", " 1", Ok("1")),
        (
            "float",
            "0x1A",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "bank-account-nr",
            "12 34",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("aba-rtn", ".5", Ok(".5")),
        (
            "iban",
            "de89 3704-0044 0532 0130 00",
            Ok("DE89370400440532013000"),
        ),
        ("bic", "!!", Err("Value cannot be empty.")),
        (
            "btc",
            "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            Ok("1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
        ),
        (
            "btc",
            "1Boat SLR",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "xmr",
            "a-b",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("dash", "Xabc", Ok("Xabc")),
        ("cc-number", "4111-1111-1111-1111", Ok("4111111111111111")),
        ("bin", "abc", Err("Value cannot be empty.")),
        ("phone-number", "(0)0049", Ok("0049")),
        ("prtn", "0.10", Ok("+10")),
        (
            "whois-registrant-phone",
            "0",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "phone-number",
            "++1",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("cortex", "{\"a\":[1,2]}", Ok("{\"a\":[1,2]}")),
        (
            "cortex",
            "{\"a\":",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        (
            "cortex",
            "\"\\ud800\"",
            Err(
                "Value not in the right type/format. Please double check the value or select type \"other\".",
            ),
        ),
        ("boolean", "true", Ok("1")),
        ("boolean", " FALSE ", Ok("0")),
        ("boolean", "no", Ok("1")),
        ("boolean", "", Ok("0")),
        ("boolean", "0.0", Ok("1")),
        (
            "AS",
            "0.10",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        ("AS", "0.65", Ok("65")),
        (
            "AS",
            "0.127",
            Err(
                "Value provided consists purely of control characters and is therefore considered to be empty.",
            ),
        ),
        ("AS", "AS", Err("Value cannot be empty.")),
        ("AS", "AS1.10", Ok("65546")),
        ("AS", "65535.65535", Ok("4294967295")),
        (
            "AS",
            "65536.0",
            Err("AS number have to be integer between 1 and 4294967295"),
        ),
        (
            "AS",
            "99999999999999999999.1",
            Err("AS number have to be integer between 1 and 4294967295"),
        ),
        ("AS", "4294967295", Ok("4294967295")),
        ("AS", "00001", Ok("00001")),
        ("anonymised", "ABC", Ok("abc")),
        ("cpe", "cpe:/a:x", Ok("cpe:/a:x")),
        (
            "snort",
            "alert tcp any any -> any any (msg:\"x\";)\nalert",
            Ok("alert tcp any any -> any any (msg:\"x\";)\nalert"),
        ),
        ("yara", "rule x {\n}", Ok("rule x {\n}")),
    ]);
}

#[test]
fn length_limit_counts_bytes() {
    let at_limit = "x".repeat(65_535);
    assert_eq!(stored("comment", &at_limit), Ok(at_limit.clone()));
    assert_eq!(
        stored("comment", &"x".repeat(65_536)),
        Err("The entered string is too long and would get truncated. Please consider adding the data as an attachment instead".to_owned())
    );
    // 21,846 three-byte characters are 65,538 bytes.
    assert!(stored("text", &"€".repeat(21_846)).is_err());
    // The type check comes first.
    assert_eq!(
        stored("md5", &"x".repeat(70_000)),
        Err("Checksum has an invalid length or format (expected: 32 hexadecimal characters). Please double check the value or select type \"other\".".to_owned())
    );
}

#[test]
fn types_added_after_misp_2_5_1() {
    // Our documented choices: `suricata` accepts anything like `snort`;
    // `edge-extension-id` and `uuid` refuse newlines only.
    assert_eq!(
        stored(
            "suricata",
            "alert tcp any any -> any any (msg:\"x\";)\nalert"
        ),
        Ok("alert tcp any any -> any any (msg:\"x\";)\nalert".to_owned())
    );
    assert_eq!(
        stored("edge-extension-id", "abcdefghijklmnopabcdefghijklmnop"),
        Ok("abcdefghijklmnopabcdefghijklmnop".to_owned())
    );
    assert_eq!(
        stored("uuid", "5F0E7A32-1C8B-4D2E-9A3B-6C7D8E9F0A1B"),
        Ok("5F0E7A32-1C8B-4D2E-9A3B-6C7D8E9F0A1B".to_owned())
    );
    assert_eq!(
        stored("uuid", "a\nb"),
        Err("Value must not contain new line character.".to_owned())
    );
}

#[test]
fn nul_bytes_in_ipv6_abort_like_php() {
    let reason = Err("inet_pton(): Argument #1 ($ip) must not contain any null bytes".to_owned());
    assert_eq!(stored("ip-dst", "1::1\0x"), reason);
    assert_eq!(stored("domain|ip", "a.com|1::1\0x"), reason);
    assert_eq!(stored("ip-src|port", "1::1\0|80"), reason);
    // A trailing NUL is trimmed; without a `:` inet_pton is never called.
    assert_eq!(
        stored("domain|ip", "a.com|1::1\0"),
        Ok("a.com|1::1".to_owned())
    );
    assert_eq!(
        stored("ip-dst", "1.2.3.4\0x"),
        Err("IP address has an invalid format.".to_owned())
    );
}

#[test]
fn composite_halves() {
    let ty = crate::AttributeType::from_name("filename|sha256").expect("known type");
    let v = super::normalize(
        ty,
        "Invoice.PDF|E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
    )
    .expect("valid");
    assert_eq!(v.value1(), "Invoice.PDF");
    assert_eq!(
        v.value2(),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    let ty = crate::AttributeType::from_name("AS").expect("known type");
    let v = super::normalize(ty, "AS1.10").expect("valid");
    assert_eq!((v.value1(), v.value2()), ("65546", None));
}
