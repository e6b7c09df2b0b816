//! `misp-correlate normalize [FILE]`: MISP's save pipeline on
//! `type<TAB>value` lines.
//!
//! Reads lines from FILE (or standard input when FILE is absent or `-`),
//! removes the line ending (`\n` or `\r\n`, nothing else), splits each
//! line at its first TAB and writes one JSON object per line, in order:
//!
//! * `{"type": t, "value": raw, "normalized": v}` when MISP would save the
//!   value, `v` being the stored value (composite halves joined by `|`);
//! * `{"type": t, "value": raw, "error": reason}` when MISP would refuse
//!   it, `reason` being MISP's message;
//! * the same shape with an `error` naming the file and line for input
//!   that is not a typed value at all: an unknown type, a line without a
//!   TAB (`"type": null`, the whole line as `value`) or a value that is
//!   not UTF-8 (shown with U+FFFD replacements).
//!
//! Every line gets its object; only an I/O error stops the run (exit
//! status 2). A closed standard output (`| head`) ends the run quietly.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use misp_core::{AttributeType, normalize};
use serde::Serialize;

/// Arguments of `misp-correlate normalize`.
#[derive(clap::Args)]
pub struct Args {
    /// File of `type<TAB>value` lines; standard input if absent or `-`.
    pub file: Option<PathBuf>,
}

/// One output line.
#[derive(Serialize)]
struct Record<'a> {
    #[serde(rename = "type")]
    ty: Option<&'a str>,
    value: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    normalized: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let (input, name): (Box<dyn BufRead>, String) = match &args.file {
        Some(path) if path.as_os_str() != "-" => {
            let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            (
                Box::new(BufReader::with_capacity(1 << 16, file)),
                path.display().to_string(),
            )
        }
        _ => (Box::new(io::stdin().lock()), "<stdin>".to_owned()),
    };
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    match normalize_lines(input, &name, &mut out).and_then(|()| out.flush().map_err(Failure::Write))
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(Failure::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(Failure::Write(e)) => Err(format!("writing standard output: {e}")),
        Err(Failure::Read(e)) => Err(format!("{name}: {e}")),
    }
}

enum Failure {
    Read(io::Error),
    Write(io::Error),
}

/// Normalises every line of `input` (named `name` in messages) to `out`.
fn normalize_lines(
    mut input: impl BufRead,
    name: &str,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let mut line = Vec::with_capacity(256);
    let mut number = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line).map_err(Failure::Read)? == 0 {
            return Ok(());
        }
        number += 1;
        let content = strip_line_ending(&line);
        write_record(content, name, number, out).map_err(Failure::Write)?;
    }
}

/// Removes a final `\n` or `\r\n`, nothing else.
fn strip_line_ending(line: &[u8]) -> &[u8] {
    match line.strip_suffix(b"\n") {
        Some(l) => l.strip_suffix(b"\r").unwrap_or(l),
        None => line,
    }
}

/// Normalises one line and writes its JSON object.
fn write_record(content: &[u8], name: &str, number: u64, out: &mut impl Write) -> io::Result<()> {
    let Some(tab) = content.iter().position(|&b| b == b'\t') else {
        let whole = String::from_utf8_lossy(content);
        let error = format!("{name}:{number}: no TAB between type and value");
        return emit(
            out,
            Record {
                ty: None,
                value: &whole,
                normalized: None,
                error: Some(&error),
            },
        );
    };
    let ty_name = String::from_utf8_lossy(&content[..tab]);
    let raw = &content[tab + 1..];
    let value = match std::str::from_utf8(raw) {
        Ok(v) => v,
        Err(e) => {
            let lossy = String::from_utf8_lossy(raw);
            let error = format!(
                "{name}:{number}: value is not valid UTF-8 (byte {})",
                e.valid_up_to()
            );
            return emit(
                out,
                Record {
                    ty: Some(&ty_name),
                    value: &lossy,
                    normalized: None,
                    error: Some(&error),
                },
            );
        }
    };
    let Some(ty) = AttributeType::from_name(&ty_name) else {
        let error = format!("{name}:{number}: unknown attribute type {ty_name:?}");
        return emit(
            out,
            Record {
                ty: Some(&ty_name),
                value,
                normalized: None,
                error: Some(&error),
            },
        );
    };
    match normalize(ty, value) {
        Ok(v) => emit(
            out,
            Record {
                ty: Some(&ty_name),
                value,
                normalized: Some(v.as_str()),
                error: None,
            },
        ),
        Err(r) => emit(
            out,
            Record {
                ty: Some(&ty_name),
                value,
                normalized: None,
                error: Some(r.reason()),
            },
        ),
    }
}

fn emit(out: &mut impl Write, record: Record<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &record).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &[u8]) -> String {
        let mut out = Vec::new();
        assert!(normalize_lines(input, "t.tsv", &mut out).is_ok());
        String::from_utf8(out).expect("JSON is UTF-8")
    }

    #[test]
    fn line_endings() {
        assert_eq!(strip_line_ending(b"a\r\n"), b"a");
        assert_eq!(strip_line_ending(b"a\n"), b"a");
        assert_eq!(strip_line_ending(b"a\r"), b"a\r");
        assert_eq!(strip_line_ending(b"a"), b"a");
        assert_eq!(strip_line_ending(b"a\r\r\n"), b"a\r");
    }

    #[test]
    fn records() {
        let out = run_on(b"md5\tD41D8CD98F00B204E9800998ECF8427E\r\nbogus\tx\nno tab\nip-src\t010.1.2.3\ntext\t\xff\n");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                r#"{"type":"md5","value":"D41D8CD98F00B204E9800998ECF8427E","normalized":"d41d8cd98f00b204e9800998ecf8427e"}"#,
                r#"{"type":"bogus","value":"x","error":"t.tsv:2: unknown attribute type \"bogus\""}"#,
                r#"{"type":null,"value":"no tab","error":"t.tsv:3: no TAB between type and value"}"#,
                r#"{"type":"ip-src","value":"010.1.2.3","error":"IP address has an invalid format."}"#,
                "{\"type\":\"text\",\"value\":\"\u{fffd}\",\"error\":\"t.tsv:5: value is not valid UTF-8 (byte 0)\"}",
            ]
        );
    }
}
