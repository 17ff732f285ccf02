//! RFC 8785 (JSON Canonicalization Scheme) for the JSON values notices and events are made
//! of: integers, strings, booleans, null, arrays and objects.

use alloc::string::String;
use alloc::vec::Vec;

const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a JSON value has no canonical form here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("JCS: only integers of magnitude below 2^53 are supported as numbers")]
pub struct NotCanonicalizable;

/// RFC 8785 (JCS) serialisation of a JSON value whose numbers are all integers.
///
/// Members are sorted by their UTF-16 code units, there is no whitespace, and strings use
/// the ECMAScript `JSON.stringify` escapes. Non-integer numbers are refused rather than
/// risk a formatting difference from other implementations.
pub fn canonical_json(value: &serde_json::Value) -> Result<String, NotCanonicalizable> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &serde_json::Value, out: &mut String) -> Result<(), NotCanonicalizable> {
    use serde_json::Value;
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // JCS writes numbers as IEEE 754 doubles; only integers a double holds exactly
            // (|i| <= 2^53 - 1) have the same text in every implementation.
            match n.as_i64() {
                Some(i) if i.unsigned_abs() <= MAX_SAFE_INTEGER => out.push_str(&alloc::format!("{i}")),
                _ => return Err(NotCanonicalizable),
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    // Copy runs that need no escape in one go; only '"', '\\' and controls are escaped.
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            out.push_str(&alloc::format!("\\u{b:04x}"));
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn integers_a_double_cannot_hold_and_fractions_have_no_canonical_form() {
        assert_eq!(canonical_json(&serde_json::json!(9_007_199_254_740_993_i64)), Err(NotCanonicalizable));
        assert_eq!(canonical_json(&serde_json::json!(0.5)), Err(NotCanonicalizable));
        assert_eq!(canonical_json(&serde_json::json!(9_007_199_254_740_991_i64)).unwrap(), "9007199254740991");
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            (-(MAX_SAFE_INTEGER as i64)..=MAX_SAFE_INTEGER as i64).prop_map(|i| serde_json::json!(i)),
            any::<String>().prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                proptest::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_json_matches_serde_jcs(v in json_value()) {
            prop_assert_eq!(canonical_json(&v).unwrap(), serde_jcs::to_string(&v).unwrap());
        }
    }
}
