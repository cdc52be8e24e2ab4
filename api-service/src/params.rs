//! Reading what a request carries besides images: query parameters, JSON bodies, path ids.
//!
//! Parameters follow CompreFace's rules (see `visage_common::params`): the query string and,
//! for uploads, multipart form fields; repeated values joined with commas; booleans in any
//! letter case. Every malformed value is a 400 with a message naming it, never a 500.

use visage_common::params::Params;
use visage_common::ApiError;
pub use visage_http::extract::{
    malformed_json, parse_uuid, require_json, unsupported_media_type, JsonBody, PathParam, Query,
};

/// A required, non-blank text parameter: 33 when absent, 26 `<Label> is empty; ` when blank
/// (CompreFace's constraint message, with its trailing separator).
pub fn required_text(params: &Params, name: &str, label: &str) -> Result<String, ApiError> {
    let value = params.get(name).ok_or_else(|| ApiError::missing_parameter(name))?;
    if value.trim().is_empty() {
        return Err(ApiError::validation(format!("{label} is empty; ")));
    }
    Ok(value)
}

/// Page and size as Spring Data reads them: a page below 0 or not a number is 0; a size below 1
/// or not a number is `default_size`; sizes above `max_size` are cut to it.
pub fn page_request(params: &Params, default_size: u64, max_size: u64) -> (u64, u64) {
    let number = |name| params.non_empty(name).and_then(|v| v.trim().parse::<i64>().ok());
    let page = number("page").filter(|p| *p >= 0).unwrap_or(0) as u64;
    let size = number("size").filter(|s| *s >= 1).map_or(default_size, |s| (s as u64).min(max_size));
    (page, size)
}

#[cfg(test)]
mod tests {
    use visage_common::ErrorCode;

    use super::*;

    #[test]
    fn pages_follow_spring_data() {
        let page = |q: &str| page_request(&Params::from_query(Some(q)), 20, 2000);
        assert_eq!(page(""), (0, 20));
        assert_eq!(page("page=3&size=5"), (3, 5));
        assert_eq!(page("page=-1&size=0"), (0, 20));
        assert_eq!(page("page=x&size=y"), (0, 20));
        assert_eq!(page("size=5000"), (0, 2000));
    }

    #[test]
    fn required_text_distinguishes_missing_and_blank() {
        let params = Params::from_query(Some("subject=%20&x=1"));
        assert_eq!(required_text(&params, "subject", "Subject name").unwrap_err().message, "Subject name is empty; ");
        assert_eq!(required_text(&params, "y", "Y").unwrap_err().code, ErrorCode::MissingParameter);
        assert_eq!(required_text(&params, "x", "X").unwrap(), "1");
    }
}
