//! Heat's scaling rules, without IO: the new capacity of a group after an adjustment
//! (`heat/scaling/scalingutil.py`), rolling-update batches (`heat/scaling/rolling_update.py`),
//! the next member definitions of a group (`heat/scaling/template.py`), member names
//! (`heat/common/short_id.py`: 12 random base32 characters) and cooldown bookkeeping
//! (`heat/scaling/cooldown.py`), kept in the group's private data instead of its metadata.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// `scaling_adjustment` is added to the current capacity.
pub const CHANGE_IN_CAPACITY: &str = "change_in_capacity";
/// `scaling_adjustment` is the new capacity.
pub const EXACT_CAPACITY: &str = "exact_capacity";
/// `scaling_adjustment` is a percentage of the current capacity.
pub const PERCENT_CHANGE_IN_CAPACITY: &str = "percent_change_in_capacity";
/// Every adjustment type, as `adjustment_type` allows them.
pub const ADJUSTMENT_TYPES: &[&str] = &[
    CHANGE_IN_CAPACITY,
    EXACT_CAPACITY,
    PERCENT_CHANGE_IN_CAPACITY,
];
/// The CloudFormation name a group uses for its own resizes in cooldown reasons.
pub const CFN_EXACT_CAPACITY: &str = "ExactCapacity";

/// The key of a group's data holding `{<cooldown end>: <reason>}`.
pub const COOLDOWN_END_KEY: &str = "cooldown_end";

/// The capacity after applying `adjustment` of `adjustment_type` to `current`, kept within
/// `minimum..=maximum` (the maximum wins when they cross, as in Heat). Percentages below one
/// member round away from zero, larger ones towards zero; then `min_adjustment_step` (percent
/// only) raises a smaller step to itself, keeping the direction (a zero step goes down, as
/// Heat's `adjustment > 0` test has it). Non-integral results are truncated towards zero.
pub fn new_capacity(
    current: i64,
    adjustment: f64,
    adjustment_type: &str,
    min_adjustment_step: Option<i64>,
    minimum: i64,
    maximum: i64,
) -> i64 {
    let new = match adjustment_type {
        CHANGE_IN_CAPACITY => current as f64 + adjustment,
        EXACT_CAPACITY => adjustment,
        _ => {
            let delta = current as f64 * adjustment / 100.0;
            let rounded = if delta.abs() < 1.0 {
                if delta > 0.0 {
                    delta.ceil()
                } else {
                    delta.floor()
                }
            } else if delta > 0.0 {
                delta.floor()
            } else {
                delta.ceil()
            };
            let step = match min_adjustment_step {
                Some(step) if step != 0 && step as f64 > rounded.abs() => {
                    if rounded > 0.0 {
                        step as f64
                    } else {
                        -(step as f64)
                    }
                }
                _ => rounded,
            };
            current as f64 + step
        }
    };
    if new > maximum as f64 {
        maximum
    } else if new < minimum as f64 {
        minimum
    } else {
        new.trunc() as i64
    }
}

/// Whether a rolling update has batches left: not while every member of a group of the
/// target size is up to date.
pub fn needs_update(target: i64, current: i64, up_to_date: i64) -> bool {
    !(up_to_date >= current && current == target)
}

/// The next batch of a rolling update: the group's size after it, and how many members
/// receive the new definition in it (new members first, then existing ones).
pub fn next_batch(
    target: i64,
    current: i64,
    up_to_date: i64,
    batch_size: i64,
    min_in_service: i64,
) -> (i64, i64) {
    let effective_min = min_in_service.min(target).min(current);
    let effective_batch = batch_size.min((target - up_to_date).max(0));
    let size = effective_batch + current.min(target - effective_batch).max(effective_min);
    (size, effective_batch)
}

/// Every batch of a rolling update from `current` members to `target`.
pub fn batches(target: i64, current: i64, batch_size: i64, min_in_service: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let (mut size, mut updated) = (current, 0);
    // A batch size below one would never finish; the schema forbids it, this guards it.
    let batch_size = batch_size.max(1);
    while needs_update(target, size, updated) {
        let batch = next_batch(target, size, updated, batch_size, min_in_service);
        out.push(batch);
        size = batch.0;
        updated += batch.1;
    }
    out
}

/// The next members of a group: `old` (name, definition) in removal order (the first is
/// removed or replaced first) is cut to the newest `count`, then new members named by
/// `new_name` are added with `definition`. `num_new` members get `definition`, counting the
/// added ones first; the rest of the changes go to the oldest members whose definition
/// differs.
pub fn member_definitions(
    old: &[(String, Value)],
    definition: &Value,
    count: usize,
    num_new: usize,
    mut new_name: impl FnMut() -> String,
) -> Vec<(String, Value)> {
    let kept = &old[old.len().saturating_sub(count)..];
    let num_create = count - kept.len();
    let mut num_replace = num_new as i64 - num_create as i64;
    let mut out = Vec::with_capacity(count);
    for (name, old_definition) in kept {
        if old_definition != definition && num_replace > 0 {
            num_replace -= 1;
            out.push((name.clone(), definition.clone()));
        } else {
            out.push((name.clone(), old_definition.clone()));
        }
    }
    for _ in 0..num_create {
        out.push((new_name(), definition.clone()));
    }
    out
}

/// A new member name not in `taken`: 12 random characters of lower-case base32, as Heat's
/// `short_id.generate_id`.
pub fn short_id(taken: &[String]) -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rng();
    loop {
        let id: String = (0..12)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        if !taken.contains(&id) {
            return id;
        }
    }
}

/// A cooldown in seconds, never negative, with the text Heat shows for it (the template's
/// number as Python prints it: `60`, `60.0`, `0` when absent or negative).
#[derive(Debug, Clone, PartialEq)]
pub struct Cooldown {
    /// Seconds.
    pub secs: f64,
    shown: String,
}

impl Cooldown {
    /// The cooldown property's value (Heat's `_sanitize_cooldown`).
    pub fn from_property(value: Option<&Value>) -> Self {
        match value {
            Some(Value::Number(n)) if n.as_f64().is_some_and(|v| v > 0.0) => Cooldown {
                secs: n.as_f64().unwrap_or(0.0),
                shown: n.to_string(),
            },
            _ => Cooldown {
                secs: 0.0,
                shown: "0".into(),
            },
        }
    }
}

impl std::fmt::Display for Cooldown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Heat's timestamp form (`datetime.isoformat()` of a naive UTC time).
fn iso(t: DateTime<Utc>) -> String {
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

/// When the group's cooldown ends, if it recorded one.
pub fn cooldown_end(data: &Map<String, Value>) -> Option<DateTime<Utc>> {
    data.get(COOLDOWN_END_KEY)?
        .as_object()?
        .keys()
        .next()
        .and_then(|k| parse_iso(k))
}

/// Why scaling is not allowed now: the group's cooldown has not ended. The text is Heat's
/// `NoActionRequired` message for it.
pub fn check_cooldown(
    group: &str,
    data: &Map<String, Value>,
    cooldown: &Cooldown,
    now: DateTime<Utc>,
) -> Result<(), String> {
    match cooldown_end(data) {
        Some(end) if now < end => Err(no_action(
            group,
            &format!("due to cooldown, cooldown {cooldown}"),
        )),
        _ => Ok(()),
    }
}

/// Heat's `NoActionRequired` message.
pub fn no_action(group: &str, reason: &str) -> String {
    format!("The resource {group} could not perform scaling action: {reason}")
}

/// Records the end of a scaling action: when the size changed, the cooldown runs from now
/// (never shortening one already recorded) with `reason` (`<adjustment type> : <adjustment>`).
pub fn finished_scaling(
    data: &mut Map<String, Value>,
    cooldown: &Cooldown,
    reason: String,
    size_changed: bool,
    now: DateTime<Utc>,
) {
    if !size_changed {
        return;
    }
    // Seconds beyond what a timestamp can hold end at the last one.
    let millis = (cooldown.secs * 1000.0).min(1e15) as i64;
    let mut end = now
        .checked_add_signed(chrono::Duration::milliseconds(millis))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if let Some(previous) = cooldown_end(data) {
        end = end.max(previous);
    }
    let mut entry = Map::new();
    entry.insert(iso(end), Value::String(reason));
    data.insert(COOLDOWN_END_KEY.into(), Value::Object(entry));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cap(current: i64, adj: f64, kind: &str, step: Option<i64>, min: i64, max: i64) -> i64 {
        new_capacity(current, adj, kind, step, min, max)
    }

    #[test]
    fn change_and_exact_capacity_are_clamped() {
        assert_eq!(cap(2, 3.0, CHANGE_IN_CAPACITY, None, 0, 10), 5);
        assert_eq!(cap(6, -2.0, CHANGE_IN_CAPACITY, None, 0, 5), 4);
        assert_eq!(cap(2, 8.0, CHANGE_IN_CAPACITY, None, 0, 5), 5);
        assert_eq!(cap(2, -10.0, CHANGE_IN_CAPACITY, None, 1, 5), 1);
        assert_eq!(cap(2, 4.0, EXACT_CAPACITY, None, 0, 5), 4);
        assert_eq!(cap(2, 11.0, EXACT_CAPACITY, None, 0, 5), 5);
        assert_eq!(cap(4, 1.0, EXACT_CAPACITY, None, 3, 5), 3);
        // min_adjustment_step only applies to percentages.
        assert_eq!(cap(2, 1.0, CHANGE_IN_CAPACITY, Some(3), 0, 10), 3);
        // Non-integral adjustments are truncated towards zero.
        assert_eq!(cap(2, 1.5, CHANGE_IN_CAPACITY, None, 0, 10), 3);
    }

    #[test]
    fn percentages_round_as_heat() {
        let p = PERCENT_CHANGE_IN_CAPACITY;
        assert_eq!(cap(4, 50.0, p, None, 1, 10), 6);
        assert_eq!(cap(4, -25.0, p, None, 1, 10), 3);
        assert_eq!(cap(4, 100.0, p, None, 1, 6), 6);
        assert_eq!(cap(6, -50.0, p, None, 4, 10), 4);
        // Below one member: away from zero.
        assert_eq!(cap(2, -33.0, p, None, 0, 10), 1);
        assert_eq!(cap(1, 33.0, p, None, 0, 10), 2);
        // One member or more: towards zero.
        assert_eq!(cap(2, -66.0, p, None, 0, 10), 1);
        assert_eq!(cap(1, 225.0, p, None, 0, 10), 3);
        assert_eq!(cap(3, -50.0, p, None, 0, 10), 2);
        // Exactly one member down.
        assert_eq!(cap(2, -50.0, p, None, 1, 5), 1);
    }

    #[test]
    fn min_adjustment_step_raises_small_percent_steps() {
        let p = PERCENT_CHANGE_IN_CAPACITY;
        assert_eq!(cap(1, 100.0, p, Some(3), 0, 10), 4);
        assert_eq!(cap(1, 33.0, p, Some(2), 0, 10), 3);
        assert_eq!(cap(1, 325.0, p, Some(2), 0, 10), 4);
        assert_eq!(cap(3, -25.0, p, Some(2), 0, 10), 1);
        // A larger step is kept; a zero step setting changes nothing.
        assert_eq!(cap(10, 50.0, p, Some(2), 0, 20), 15);
        assert_eq!(cap(3, -25.0, p, Some(0), 0, 10), 2);
        // No change at all becomes a step down (Heat's `adjustment > 0` test).
        assert_eq!(cap(0, 50.0, p, Some(1), 0, 10), 0);
        assert_eq!(cap(4, 0.0, p, Some(1), 0, 10), 3);
        // Then clamped.
        assert_eq!(cap(2, 10.0, p, Some(5), 0, 4), 4);
    }

    #[test]
    fn rolling_update_batches() {
        assert!(needs_update(4, 4, 0));
        assert!(!needs_update(4, 4, 4));
        assert!(needs_update(4, 5, 5));
        assert!(needs_update(4, 3, 4));
        assert_eq!(next_batch(4, 4, 0, 1, 0), (4, 1));
        assert_eq!(next_batch(4, 4, 0, 1, 4), (5, 1));
        assert_eq!(next_batch(4, 5, 4, 1, 4), (4, 0));
        assert_eq!(next_batch(4, 4, 0, 2, 4), (6, 2));
        assert_eq!(next_batch(5, 5, 4, 2, 0), (5, 1));
        assert_eq!(batches(3, 3, 2, 0), [(3, 2), (3, 1)]);
        // Keeping every member in service adds one above the target, then drops it.
        assert_eq!(batches(2, 2, 1, 2), [(3, 1), (3, 1), (2, 0)]);
        assert!(batches(0, 0, 1, 0).is_empty());
    }

    #[test]
    fn member_definitions_keep_the_newest_and_add_named_ones() {
        let old = vec![
            ("a".to_string(), json!({"type": "Old"})),
            ("b".to_string(), json!({"type": "Old"})),
            ("c".to_string(), json!({"type": "Old"})),
        ];
        let new = json!({"type": "New"});
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("n{n}")
        };
        // Shrinking removes the first (oldest) ones.
        let defs = member_definitions(&old, &new, 2, 0, &mut next);
        assert_eq!(defs, [old[1].clone(), old[2].clone()]);
        // Growing keeps the old definitions and adds new members.
        let defs = member_definitions(&old, &new, 4, 0, &mut next);
        assert_eq!(defs[..3], old[..]);
        assert_eq!(defs[3], ("n1".to_string(), new.clone()));
        // A batch of two changes the two oldest.
        let defs = member_definitions(&old, &new, 3, 2, &mut next);
        let types: Vec<&Value> = defs.iter().map(|(_, d)| &d["type"]).collect();
        assert_eq!(types, [&json!("New"), &json!("New"), &json!("Old")]);
        // Added members count towards the batch.
        let defs = member_definitions(&old, &new, 4, 2, &mut next);
        let types: Vec<&Value> = defs.iter().map(|(_, d)| &d["type"]).collect();
        assert_eq!(
            types,
            [&json!("New"), &json!("Old"), &json!("Old"), &json!("New")]
        );
    }

    #[test]
    fn short_ids_are_heat_shaped_and_fresh() {
        let id = short_id(&[]);
        assert_eq!(id.len(), 12);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
    }

    #[test]
    fn cooldown_blocks_until_its_end_and_never_shortens() {
        let now = Utc::now();
        let mut data = Map::new();
        let sixty = Cooldown::from_property(Some(&json!(60)));
        assert!(check_cooldown("asg", &data, &sixty, now).is_ok());
        finished_scaling(
            &mut data,
            &sixty,
            "change_in_capacity : 2".into(),
            true,
            now,
        );
        let reason = check_cooldown("asg", &data, &sixty, now + chrono::Duration::seconds(30));
        assert_eq!(
            reason.unwrap_err(),
            "The resource asg could not perform scaling action: due to cooldown, cooldown 60"
        );
        // A policy without a cooldown still waits for the group's recorded end.
        let none = Cooldown::from_property(None);
        assert!(check_cooldown("asg", &data, &none, now + chrono::Duration::seconds(30)).is_err());
        assert!(check_cooldown("asg", &data, &none, now + chrono::Duration::seconds(61)).is_ok());
        // A shorter cooldown later does not shorten the recorded one.
        finished_scaling(&mut data, &none, "exact_capacity : 1".into(), true, now);
        assert_eq!(
            cooldown_end(&data),
            Some(now + chrono::Duration::seconds(60)).map(|t| parse_iso(&iso(t)).unwrap())
        );
        // No size change, no new cooldown.
        let mut untouched = Map::new();
        finished_scaling(&mut untouched, &sixty, "x".into(), false, now);
        assert!(untouched.is_empty());
        // Heat's text for the numbers; negative ones are none.
        assert_eq!(
            Cooldown::from_property(Some(&json!(60.0))).to_string(),
            "60.0"
        );
        assert_eq!(Cooldown::from_property(Some(&json!(-5))).secs, 0.0);
        let huge = Cooldown::from_property(Some(&json!(1e300)));
        finished_scaling(&mut data, &huge, "x".into(), true, now);
        assert!(cooldown_end(&data).is_some());
    }
}
