//! Heat's built-in `custom_constraint`s that need no cloud: `ip_addr`, `ip_or_cidr`,
//! `net_cidr`, `mac_addr`, `iso_8601`, `expiration`, `timezone`, `cron_expression`,
//! `dns_name`, `dns_domain`, `rel_dns_name`, `json_string`.
//!
//! Constraints that look things up in a cloud (`nova.flavor`, `glance.image`,
//! `neutron.network`, …) and names this server does not know are accepted without any
//! check: Updraft has no cloud to ask, and rejecting them would make templates written
//! for a full Heat unusable here. (Heat itself fails an unknown name with
//! `… (constraint not found)`.)

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The longest fully-qualified domain name.
const FQDN_MAX_LEN: usize = 255;
/// The longest label of a domain name.
const DNS_LABEL_MAX_LEN: usize = 63;

/// Checks `value` against the constraint `name`. `Err(Some(reason))` is Heat's reason
/// (shown after `Error validating value '…': `), `Err(None)` a failure without one.
pub fn check(name: &str, value: &str) -> Result<(), Option<String>> {
    match name {
        "ip_addr" => ip_addr(value).map_err(|_| Some("Invalid IP address".to_string())),
        "ip_or_cidr" => {
            if value.contains('/') {
                subnet(value).map_err(Some)
            } else {
                ip_addr(value).map_err(Some)
            }
        }
        "net_cidr" => subnet(value).map_err(Some),
        "mac_addr" => {
            if valid_mac(value) {
                Ok(())
            } else {
                Err(Some("Invalid MAC address.".to_string()))
            }
        }
        "iso_8601" => parse_iso8601(value).map(|_| ()).map_err(|_| None),
        "expiration" => expiration(value).map_err(Some),
        "timezone" => {
            if value.is_empty() || chrono_tz::Tz::from_str(value).is_ok() {
                Ok(())
            } else {
                Err(Some(format!(
                    "Invalid timezone: 'No time zone found with key {value}'"
                )))
            }
        }
        "cron_expression" => {
            if value.is_empty() {
                return Ok(());
            }
            cron(value).map_err(|e| Some(format!("Invalid CRON expression: {e}")))
        }
        "dns_name" => dns_format(value).map_err(|reason| Some(not_valid_format(value, &reason))),
        "dns_domain" => {
            if value.is_empty() {
                return Ok(());
            }
            dns_format(value).map_err(|reason| Some(not_valid_format(value, &reason)))?;
            if !value.ends_with('.') {
                return Err(Some(format!("'{value}' must end with '.'.")));
            }
            Ok(())
        }
        "rel_dns_name" => {
            if value.is_empty() {
                return Ok(());
            }
            if value.ends_with('.') {
                return Err(Some(format!(
                    "'{value}' is a FQDN. It should be a relative domain name."
                )));
            }
            let length = value.chars().count();
            if length > FQDN_MAX_LEN - 3 {
                return Err(Some(format!(
                    "'{value}' contains '{length}' characters. Adding a domain name will cause it to exceed the maximum length of a FQDN of '{FQDN_MAX_LEN}'."
                )));
            }
            dns_format(value).map_err(|reason| Some(not_valid_format(value, &reason)))
        }
        "json_string" => {
            if value.is_empty() {
                return Ok(());
            }
            serde_json::from_str::<serde_json::Value>(value)
                .map(|_| ())
                .map_err(|e| Some(format!("JSON string {value} is invalid: {e}")))
        }
        // Cloud look-ups and unknown names: accepted unchecked (see the module comment).
        _ => Ok(()),
    }
}

/// Whether `name` is checked here (the others are accepted unchecked).
pub fn is_checked(name: &str) -> bool {
    matches!(
        name,
        "ip_addr"
            | "ip_or_cidr"
            | "net_cidr"
            | "mac_addr"
            | "iso_8601"
            | "expiration"
            | "timezone"
            | "cron_expression"
            | "dns_name"
            | "dns_domain"
            | "rel_dns_name"
            | "json_string"
    )
}

/// neutron-lib's `validate_ip_address`: a plain IPv4 (four parts, no leading zeros) or IPv6.
fn ip_addr(value: &str) -> Result<(), String> {
    if value.trim() != value || IpAddr::from_str(value).is_err() {
        return Err(format!("'{value}' is not a valid IP address"));
    }
    Ok(())
}

/// neutron-lib's `validate_subnet`: `address/prefix`, written canonically.
fn subnet(value: &str) -> Result<(), String> {
    let invalid = || format!("'{value}' is not a valid IP subnet");
    let Some((addr, prefix)) = value.split_once('/') else {
        let ip = IpAddr::from_str(value).map_err(|_| invalid())?;
        let full = if ip.is_ipv4() { 32 } else { 128 };
        return Err(format!(
            "'{value}' isn't a recognized IP subnet cidr, '{ip}/{full}' is recommended"
        ));
    };
    let ip = IpAddr::from_str(addr).map_err(|_| invalid())?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match prefix.parse::<u8>() {
        Ok(p) if p <= max && prefix == p.to_string() => Ok(()),
        _ => Err(invalid()),
    }
}

/// netaddr's `valid_mac`: six groups of one or two hex digits separated by `:` or `-`,
/// three groups of four separated by `.`, or twelve bare hex digits.
fn valid_mac(value: &str) -> bool {
    let hex = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.chars().all(|c| c.is_ascii_hexdigit())
    };
    for sep in [':', '-'] {
        let parts: Vec<&str> = value.split(sep).collect();
        if parts.len() == 6 && parts.iter().all(|p| hex(p, 1, 2)) {
            return true;
        }
    }
    let dotted: Vec<&str> = value.split('.').collect();
    if dotted.len() == 3 && dotted.iter().all(|p| hex(p, 4, 4)) {
        return true;
    }
    hex(value, 12, 12)
}

/// The `iso8601` library's grammar, as oslo's `parse_isotime` uses it.
static ISO8601: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?x)^
        (?P<year>[0-9]{4})
        (
          (
            (-(?P<monthdash>[0-9]{1,2}))
            |
            (?P<month>[0-9]{2})
          )
          (
            (
              (-(?P<daydash>[0-9]{1,2}))
              |
              (?P<day>[0-9]{2})
            )
            (
              (?P<separator>[\ T])
              (?P<hour>[0-9]{2})
              (:?(?P<minute>[0-9]{2}))?
              (:?(?P<second>[0-9]{1,2})([.,](?P<fraction>[0-9]+))?)?
              (?P<timezone>Z|((?P<tz_sign>[-+])(?P<tz_hour>[0-9]{2}):?(?P<tz_minute>[0-9]{2})?))?
            )?
          )?
        )?
        $",
    )
    .unwrap_or_else(|e| panic!("the ISO 8601 pattern is valid: {e}"))
});

/// Parses an ISO 8601 date/time as the `iso8601` library does; naive times are UTC.
fn parse_iso8601(value: &str) -> Result<chrono::DateTime<Utc>, String> {
    let fail = || format!("Unable to parse date string '{value}'");
    // The library refuses `YYYYMM` (ambiguous with `YYMMDD`).
    if value.len() == 6 && value.chars().all(|c| c.is_ascii_digit()) {
        return Err(fail());
    }
    let caps = ISO8601.captures(value).ok_or_else(fail)?;
    let num = |name: &str, default: u32| -> u32 {
        caps.name(name)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(default)
    };
    let year: i32 = caps
        .name("year")
        .and_then(|m| m.as_str().parse().ok())
        .ok_or_else(fail)?;
    let month = caps
        .name("month")
        .or(caps.name("monthdash"))
        .and_then(|m| m.as_str().parse().ok())
        .unwrap_or(1);
    let day = caps
        .name("day")
        .or(caps.name("daydash"))
        .and_then(|m| m.as_str().parse().ok())
        .unwrap_or(1);
    let date = NaiveDate::from_ymd_opt(year, month, day).ok_or_else(fail)?;
    let nanos = caps.name("fraction").map_or(0, |f| {
        let digits: String = f.as_str().chars().take(9).collect();
        format!("{digits:0<9}").parse().unwrap_or(0)
    });
    let time =
        NaiveTime::from_hms_nano_opt(num("hour", 0), num("minute", 0), num("second", 0), nanos)
            .ok_or_else(fail)?;
    let naive = NaiveDateTime::new(date, time);
    let offset_secs = match (caps.name("tz_sign"), caps.name("tz_hour")) {
        (Some(sign), Some(_)) => {
            let secs = (num("tz_hour", 0) * 3600 + num("tz_minute", 0) * 60) as i32;
            if sign.as_str() == "-" { -secs } else { secs }
        }
        _ => 0,
    };
    let offset = chrono::FixedOffset::east_opt(offset_secs).ok_or_else(fail)?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(fail)
}

fn expiration(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let reason = match parse_iso8601(value.trim()) {
        Ok(t) if t > Utc::now() => return Ok(()),
        Ok(_) => "Expiration time is out of date.".to_string(),
        Err(e) => e,
    };
    Err(format!("Expiration {value} is invalid: {reason}"))
}

fn not_valid_format(value: &str, reason: &str) -> String {
    format!("'{value}' not in valid format. Reason: {reason}")
}

/// Heat's `validate_dns_format`.
fn dns_format(data: &str) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    let trimmed = data.strip_suffix('.').unwrap_or(data);
    if trimmed.chars().count() > FQDN_MAX_LEN {
        return Err(format!(
            "'{trimmed}' exceeds the {FQDN_MAX_LEN} character FQDN limit"
        ));
    }
    let names: Vec<&str> = trimmed.split('.').collect();
    for name in &names {
        if name.is_empty() {
            return Err("Encountered an empty component.".into());
        }
        if name.starts_with('-') || name.ends_with('-') {
            return Err(format!(
                "Name '{name}' must not start or end with a hyphen."
            ));
        }
        let label_ok = name.len() <= DNS_LABEL_MAX_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !label_ok {
            return Err(format!(
                "Name '{name}' must be 1-{DNS_LABEL_MAX_LEN} characters long, each of which can only be alphanumeric or a hyphen."
            ));
        }
    }
    if data.ends_with('.')
        && names.len() > 1
        && names
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!(
            "TLD '{}' must not be all numeric.",
            names.last().copied().unwrap_or_default()
        ));
    }
    Ok(())
}

/// A cron expression as `croniter` accepts it: 5 fields (minute hour day month weekday),
/// optionally a 6th (seconds) and a 7th (year); `*`, `?`, lists, ranges, steps, month and
/// day names, `L` (last day) and `#` (nth weekday); or an `@yearly`-style alias.
fn cron(expr: &str) -> Result<(), String> {
    const ALIASES: &[&str] = &[
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@midnight",
        "@hourly",
    ];
    if ALIASES.contains(&expr.trim().to_ascii_lowercase().as_str()) {
        return Ok(());
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if !(5..=7).contains(&fields.len()) {
        return Err(
            "Exactly 5, 6 or 7 columns has to be specified for iterator expression.".into(),
        );
    }
    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    // (min, max, names with their first value)
    let specs: [(u32, u32, &[&str], u32); 7] = [
        (0, 59, &[], 0),
        (0, 23, &[], 0),
        (1, 31, &[], 0),
        (1, 12, MONTHS, 1),
        (0, 7, DAYS, 0),
        (0, 59, &[], 0),
        (1970, 2099, &[], 0),
    ];
    for (i, field) in fields.iter().enumerate() {
        let (min, max, names, first) = specs[i];
        let bad = || format!("[{expr}] is not acceptable");
        let value = |t: &str| -> Option<u32> {
            let lower = t.to_ascii_lowercase();
            if let Some(pos) = names.iter().position(|n| *n == lower) {
                return Some(pos as u32 + first);
            }
            t.parse::<u32>().ok().filter(|v| (min..=max).contains(v))
        };
        for part in field.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            if let Some(s) = step
                && !s.parse::<u32>().is_ok_and(|s| s > 0)
            {
                return Err(bad());
            }
            let ok = match range {
                "*" => true,
                "?" => i == 2 || i == 4,
                "L" | "l" => i == 2,
                r if i == 4 && r.contains('#') => r.split_once('#').is_some_and(|(d, n)| {
                    value(d).is_some() && matches!(n, "1" | "2" | "3" | "4" | "5")
                }),
                r if i == 4 && (r.ends_with('L') || r.ends_with('l')) => {
                    value(&r[..r.len() - 1]).is_some()
                }
                r => match r.split_once('-') {
                    Some((a, b)) => {
                        value(a).is_some()
                            && (value(b).is_some() || (i == 2 && b.eq_ignore_ascii_case("L")))
                    }
                    None => value(r).is_some(),
                },
            };
            if !ok {
                return Err(bad());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_constraints() {
        assert!(check("ip_addr", "10.0.0.1").is_ok());
        assert!(check("ip_addr", "::1").is_ok());
        assert!(check("ip_addr", "10.0.0").is_err());
        assert!(check("ip_addr", "010.0.0.1").is_err());
        assert!(check("net_cidr", "10.0.0.0/24").is_ok());
        assert!(check("net_cidr", "2001:db8::/32").is_ok());
        assert_eq!(
            check("net_cidr", "10.0.0.1").unwrap_err().unwrap(),
            "'10.0.0.1' isn't a recognized IP subnet cidr, '10.0.0.1/32' is recommended"
        );
        assert_eq!(
            check("net_cidr", "10.0.0.0/33").unwrap_err().unwrap(),
            "'10.0.0.0/33' is not a valid IP subnet"
        );
        assert!(check("ip_or_cidr", "10.0.0.0/8").is_ok());
        assert!(check("ip_or_cidr", "10.0.0.8").is_ok());
        assert!(check("mac_addr", "fa:16:3e:00:00:01").is_ok());
        assert!(check("mac_addr", "FA-16-3E-00-00-01").is_ok());
        assert!(check("mac_addr", "fa16.3e00.0001").is_ok());
        assert!(check("mac_addr", "fa:16:3e:00:00").is_err());
    }

    #[test]
    fn time_constraints() {
        assert!(check("iso_8601", "2015-01-01T12:00:00Z").is_ok());
        assert!(check("iso_8601", "2015-01-01").is_ok());
        assert!(check("iso_8601", "2015-01-01 12:00:00.5+02:00").is_ok());
        assert_eq!(check("iso_8601", "yesterday"), Err(None));
        assert_eq!(check("iso_8601", "2015-13-01"), Err(None));
        assert!(check("expiration", "2999-01-01T00:00:00Z").is_ok());
        assert_eq!(
            check("expiration", "2000-01-01T00:00:00Z")
                .unwrap_err()
                .unwrap(),
            "Expiration 2000-01-01T00:00:00Z is invalid: Expiration time is out of date."
        );
        assert!(check("timezone", "Europe/Berlin").is_ok());
        assert!(check("timezone", "UTC").is_ok());
        assert_eq!(
            check("timezone", "Mars/Olympus").unwrap_err().unwrap(),
            "Invalid timezone: 'No time zone found with key Mars/Olympus'"
        );
        assert!(check("cron_expression", "*/5 * * * *").is_ok());
        assert!(check("cron_expression", "0 3 * jan-mar mon-fri").is_ok());
        assert!(check("cron_expression", "0 0 L * 5#2").is_ok());
        assert!(check("cron_expression", "@daily").is_ok());
        assert!(check("cron_expression", "61 * * * *").is_err());
        assert_eq!(
            check("cron_expression", "* * *").unwrap_err().unwrap(),
            "Invalid CRON expression: Exactly 5, 6 or 7 columns has to be specified for iterator expression."
        );
    }

    #[test]
    fn dns_and_json_constraints() {
        assert!(check("dns_name", "www.example.com").is_ok());
        assert!(check("dns_name", "www.example.com.").is_ok());
        assert_eq!(
            check("dns_name", "-a.com").unwrap_err().unwrap(),
            "'-a.com' not in valid format. Reason: Name '-a' must not start or end with a hyphen."
        );
        assert!(check("dns_name", "Upper.com").is_err());
        assert!(check("dns_name", "a..com").is_err());
        assert!(check("dns_name", "example.123.").is_err());
        assert!(check("dns_domain", "example.com.").is_ok());
        assert_eq!(
            check("dns_domain", "example.com").unwrap_err().unwrap(),
            "'example.com' must end with '.'."
        );
        assert!(check("rel_dns_name", "www").is_ok());
        assert!(check("rel_dns_name", "www.").is_err());
        assert!(check("json_string", "{\"a\": 1}").is_ok());
        assert!(
            check("json_string", "{a}")
                .unwrap_err()
                .unwrap()
                .starts_with("JSON string {a} is invalid: ")
        );
        assert!(check("nova.flavor", "anything").is_ok());
        assert!(!is_checked("nova.flavor"));
    }
}
