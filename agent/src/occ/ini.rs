//! The INI dialect of oslo.config (what `/etc/os-collect-config.conf` is written in):
//! `[section]` headers, `key = value` or `key: value` (whichever separator comes first),
//! `#`/`;` comment lines, indented continuation lines joined with `\n`, a blank line ending
//! a value, one pair of matching surrounding quotes removed. A key may repeat; every value
//! is kept, in order, so list options can be read as repeated keys.

use std::collections::BTreeMap;

/// A line oslo.config would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct IniError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Parsed file: section name → key → every value given, in file order.
pub type Sections = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Parses `text`. Keys before any section header are an error, as in oslo.config.
pub fn parse(text: &str) -> Result<Sections, IniError> {
    let mut sections = Sections::new();
    let mut section: Option<String> = None;
    // The assignment being read: key and its lines so far.
    let mut pending: Option<(String, Vec<String>)> = None;
    let flush = |sections: &mut Sections,
                 section: &Option<String>,
                 pending: &mut Option<(String, Vec<String>)>,
                 line: usize|
     -> Result<(), IniError> {
        if let Some((key, lines)) = pending.take() {
            let Some(name) = section else {
                return Err(IniError {
                    line,
                    reason: "assignment before any [section]",
                });
            };
            sections
                .entry(name.clone())
                .or_default()
                .entry(key)
                .or_default()
                .push(lines.join("\n"));
        }
        Ok(())
    };
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let line = raw.trim_end();
        if line.is_empty() {
            flush(&mut sections, &section, &mut pending, number)?;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some((_, lines)) => lines.push(line.trim_start().to_string()),
                None => {
                    return Err(IniError {
                        line: number,
                        reason: "unexpected continuation line",
                    });
                }
            }
            continue;
        }
        flush(&mut sections, &section, &mut pending, number)?;
        if let Some(header) = line.strip_prefix('[') {
            let name = header.strip_suffix(']').ok_or(IniError {
                line: number,
                reason: "invalid section (must end with ])",
            })?;
            if name.is_empty() {
                return Err(IniError {
                    line: number,
                    reason: "empty section name",
                });
            }
            sections.entry(name.to_string()).or_default();
            section = Some(name.to_string());
        } else if line.starts_with(['#', ';']) {
            // A comment.
        } else {
            let (key, value) = split_assignment(line).ok_or(IniError {
                line: number,
                reason: "no ':' or '=' found in assignment",
            })?;
            if key.is_empty() {
                return Err(IniError {
                    line: number,
                    reason: "key cannot be empty",
                });
            }
            pending = Some((key.to_string(), vec![value]));
        }
    }
    let end = text.lines().count() + 1;
    flush(&mut sections, &section, &mut pending, end)?;
    Ok(sections)
}

/// `key`, `value` of an assignment line, split at the first `=` or `:`.
fn split_assignment(line: &str) -> Option<(&str, String)> {
    let at = line.find(['=', ':'])?;
    let key = line[..at].trim();
    let mut value = line[at + 1..].trim();
    let quoted = value.len() >= 2
        && (value.starts_with('"') || value.starts_with('\''))
        && value.ends_with(&value[..1]);
    if quoted {
        value = &value[1..value.len() - 1];
    }
    Some((key, value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_keep_every_value_in_order() {
        let text = "[DEFAULT]\ncommand = os-refresh-config\ncollectors = ec2\ncollectors=heat\n# c\n; c\ncollectors: local\n\n[heat]\nurl: http://h:5000/v3\npassword = \"p w\"\n";
        let s = parse(text).unwrap();
        assert_eq!(s["DEFAULT"]["collectors"], ["ec2", "heat", "local"]);
        assert_eq!(s["DEFAULT"]["command"], ["os-refresh-config"]);
        // The first separator wins, so the URL's colon stays in the value.
        assert_eq!(s["heat"]["url"], ["http://h:5000/v3"]);
        assert_eq!(s["heat"]["password"], ["p w"]);
    }

    #[test]
    fn continuation_lines_join_and_empty_sections_exist() {
        let s = parse("[cfn]\n[x]\nk = a\n  b\n\tc\n\nother =\n").unwrap();
        assert!(s["cfn"].is_empty());
        assert_eq!(s["x"]["k"], ["a\nb\nc"]);
        assert_eq!(s["x"]["other"], [""]);
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        assert_eq!(
            parse("[DEFAULT]\njust words\n").unwrap_err().to_string(),
            "line 2: no ':' or '=' found in assignment"
        );
        assert_eq!(parse("k = v\n").unwrap_err().line, 2);
        assert_eq!(parse("[bad\n").unwrap_err().line, 1);
        assert_eq!(parse("  indented\n").unwrap_err().line, 1);
        assert_eq!(
            parse("[s]\n= v\n").unwrap_err().reason,
            "key cannot be empty"
        );
    }
}
