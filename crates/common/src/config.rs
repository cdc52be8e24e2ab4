//! Reading configuration values from the environment.
//!
//! Services take their settings from environment variables (a `.env` file is read by the
//! launcher and docker-compose), accepting CompreFace's own variable names beside ours. These
//! helpers parse the value forms CompreFace uses: `true`/`True`, sizes like `5MB`.

use std::str::FromStr;

/// Why a configuration value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value {value:?} for {name}: {reason}")]
pub struct ConfigError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

/// The first of `names` that is set to a non-empty value.
pub fn first_var(names: &[&str]) -> Option<(String, String)> {
    names.iter().find_map(|name| {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(|v| (name.to_string(), v.trim().to_string()))
    })
}

/// Parses the first set variable of `names` with `parse`, or returns `default`.
pub fn var_or<T>(names: &[&str], default: T, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, ConfigError> {
    match first_var(names) {
        None => Ok(default),
        Some((name, value)) => parse(&value).map_err(|reason| ConfigError { name, value, reason }),
    }
}

/// Any `FromStr` value, for [`var_or`].
pub fn parse_from_str<T: FromStr>(value: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| e.to_string())
}

/// `true`/`false` in any letter case, also `1`/`0`, `yes`/`no`, `on`/`off`.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("expected true or false".to_string()),
    }
}

/// A byte count: a plain number, or a number with `B`, `KB`, `MB` or `GB` (binary multiples, as
/// Spring and nginx read them), in any letter case.
pub fn parse_size(value: &str) -> Result<u64, String> {
    let v = value.trim().to_ascii_uppercase();
    let (digits, multiplier) = if let Some(d) = v.strip_suffix("GB").or_else(|| v.strip_suffix('G')) {
        (d, 1u64 << 30)
    } else if let Some(d) = v.strip_suffix("MB").or_else(|| v.strip_suffix('M')) {
        (d, 1 << 20)
    } else if let Some(d) = v.strip_suffix("KB").or_else(|| v.strip_suffix('K')) {
        (d, 1 << 10)
    } else if let Some(d) = v.strip_suffix('B') {
        (d, 1)
    } else {
        (v.as_str(), 1)
    };
    let n: u64 = digits.trim().parse().map_err(|_| "expected a size such as 5MB or 1048576".to_string())?;
    n.checked_mul(multiplier).ok_or_else(|| "size is too large".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_booleans() {
        assert_eq!(parse_size("5MB"), Ok(5 * 1024 * 1024));
        assert_eq!(parse_size("10mb"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("512k"), Ok(512 * 1024));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert!(parse_size("five").is_err());
        assert!(parse_size("99999999999999GB").is_err());
        assert_eq!(parse_bool("True"), Ok(true));
        assert_eq!(parse_bool("FALSE"), Ok(false));
        assert!(parse_bool("maybe").is_err());
    }
}
