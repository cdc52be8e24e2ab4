//! Checks of what clients send, with CompreFace's codes and messages.

use visage_common::{ApiError, ErrorCode};

use crate::error::Error;

/// The longest application, service, first and last name.
pub const MAX_NAME: usize = 50;
pub const MIN_PASSWORD: usize = 8;
pub const MAX_PASSWORD: usize = 255;
pub const MAX_EMAIL: usize = 254;

/// A required text field: trimmed; 400 code 5 when missing or blank.
pub fn required(field: &str, value: Option<&str>) -> Result<String, Error> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(ApiError::empty_field(field).into()),
    }
}

/// An application or service name: 1–50 characters without `;`, `/` or `\`.
pub fn entity_name(label: &str, value: Option<&str>) -> Result<String, Error> {
    let name = required("name", value)?;
    if name.chars().count() > MAX_NAME {
        return Err(ApiError::validation(format!("{label} name size must be between 1 and {MAX_NAME}")).into());
    }
    if name.contains([';', '/', '\\']) {
        return Err(
            ApiError::validation("The name cannot contain the following special characters: ';', '/', '\\'").into()
        );
    }
    if name.contains('\0') {
        return Err(ApiError::validation("The name cannot contain the NUL character").into());
    }
    Ok(name)
}

/// A first or last name: optional (empty allowed), at most 50 characters.
pub fn person_name(field: &str, value: Option<&str>) -> Result<String, Error> {
    let name = value.unwrap_or("").trim().to_string();
    if name.chars().count() > MAX_NAME || name.contains('\0') {
        return Err(ApiError::validation(format!("{field} size must be between 0 and {MAX_NAME}")).into());
    }
    Ok(name)
}

/// An e-mail address: required, trimmed, of a plausible form (400 code 22 otherwise).
pub fn email(value: Option<&str>) -> Result<String, Error> {
    let email = required("email", value)?;
    if email.len() > MAX_EMAIL || !plausible_email(&email) {
        return Err(Error::of(ErrorCode::InvalidEmailFormat));
    }
    Ok(email)
}

/// A new password: 8 to 255 characters.
pub fn new_password(field: &str, value: Option<&str>) -> Result<String, Error> {
    let password = value.unwrap_or("");
    if password.trim().is_empty() {
        return Err(ApiError::empty_field(field).into());
    }
    let length = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&length) {
        return Err(
            ApiError::validation(format!("{field} size must be between {MIN_PASSWORD} and {MAX_PASSWORD}")).into()
        );
    }
    Ok(password.to_string())
}

/// `local@domain.tld`: one `@`, a non-empty local part without spaces, a domain of dot-separated
/// labels of letters, digits and hyphens with a last label of two letters or more.
fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<String, Error>) -> u32 {
        match result {
            Err(Error::Api(e)) => e.code.code(),
            other => panic!("expected an API error, got {other:?}"),
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email(Some("  Alice.Smith+tag@Example.co.uk ")).unwrap(), "Alice.Smith+tag@Example.co.uk");
        for bad in ["alice", "alice@", "@example.com", "a@b", "a@b.c", "a b@c.de", "a@-b.de", "a@b..de", "a..b@c.de"] {
            assert_eq!(code(email(Some(bad))), 22, "{bad}");
        }
        assert_eq!(code(email(Some("  "))), 5);
        assert_eq!(code(email(None)), 5);
    }

    #[test]
    fn names() {
        assert_eq!(entity_name("Application", Some(" My app ")).unwrap(), "My app");
        assert_eq!(code(entity_name("Application", Some(""))), 5);
        assert_eq!(code(entity_name("Application", Some("a;b"))), 26);
        assert_eq!(code(entity_name("Application", Some("a/b"))), 26);
        assert_eq!(code(entity_name("Application", Some("a\\b"))), 26);
        assert_eq!(code(entity_name("Application", Some(&"x".repeat(51)))), 26);
        assert!(entity_name("Application", Some(&"é".repeat(50))).is_ok());
        assert_eq!(person_name("firstName", None).unwrap(), "");
        assert_eq!(code(person_name("firstName", Some(&"x".repeat(51)))), 26);
    }

    #[test]
    fn passwords() {
        assert!(new_password("password", Some("12345678")).is_ok());
        assert_eq!(code(new_password("password", Some("1234567"))), 26);
        assert_eq!(code(new_password("password", Some(""))), 5);
        assert_eq!(code(new_password("password", Some(&"x".repeat(256)))), 26);
    }
}
