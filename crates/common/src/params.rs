//! Request parameters as CompreFace reads them.
//!
//! Scalar parameters come from the query string and also from multipart form fields; a parameter
//! given several times (`face_plugins=age&face_plugins=gender`) is joined with commas; booleans are
//! case-insensitive. Values that do not parse are a 400 (code 26) naming the parameter.

use crate::error::ApiError;

/// Parameters by name, in arrival order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a raw query string (`None` for a request without one).
    pub fn from_query(query: Option<&str>) -> Self {
        let pairs = query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default();
        Self(pairs)
    }

    /// Adds a value (a multipart form field, say).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.push((name.into(), value.into()));
    }

    /// Every value given for `name`, joined with commas; `None` if it was never given.
    pub fn get(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// The first value given for `name` (for parameters that are not lists).
    pub fn first(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// The value of `name`, `None` when absent or blank.
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// A boolean (`true`/`false` in any case); `default` when absent or blank.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.non_empty(name) {
            None => Ok(default),
            Some(v) if v.trim().eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.trim().eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(invalid(name, &v, "true or false")),
        }
    }

    /// An integer; `None` when absent or blank.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.non_empty(name).map(|v| v.trim().parse::<i64>().map_err(|_| invalid(name, &v, "an integer"))).transpose()
    }

    /// A number; `None` when absent or blank.
    pub fn float(&self, name: &str) -> Result<Option<f64>, ApiError> {
        self.non_empty(name)
            .map(|v| match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(invalid(name, &v, "a number")),
            })
            .transpose()
    }
}

fn invalid(name: &str, value: &str, expected: &str) -> ApiError {
    let shown: String = value.chars().take(64).collect();
    ApiError::validation(format!("Parameter '{name}' must be {expected}, got '{shown}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_values_are_joined_and_booleans_ignore_case() {
        let mut p = Params::from_query(Some("face_plugins=age&status=True&face_plugins=gender&limit=%202"));
        p.push("det_prob_threshold", "0.5");
        assert_eq!(p.get("face_plugins").as_deref(), Some("age,gender"));
        assert_eq!(p.bool_or("status", false), Ok(true));
        assert_eq!(p.bool_or("detect_faces", true), Ok(true));
        assert_eq!(p.int("limit"), Ok(Some(2)));
        assert_eq!(p.float("det_prob_threshold"), Ok(Some(0.5)));
        assert_eq!(p.get("missing"), None);
    }

    #[test]
    fn bad_values_are_validation_errors() {
        let p = Params::from_query(Some("limit=two&status=yes&t=NaN"));
        assert_eq!(p.int("limit").unwrap_err().code.code(), 26);
        assert_eq!(p.bool_or("status", false).unwrap_err().code.code(), 26);
        assert!(p.float("t").is_err());
    }
}
