//! Command-line tasks of the admin-service binary.
//!
//! `admin-service reset-password EMAIL` sets a new password for the user with this e-mail, for
//! an installation without a mail server (or a locked-out owner). The password is the first
//! line of standard input; with none (an empty line, or standard input a terminal), a random
//! password is made and printed. The user is enabled and logged out everywhere.
//!
//! `admin-service create-owner EMAIL [--password-file FILE]` makes the installation's first
//! account (the global OWNER, who takes the demo application over), for `SIGN_UP=closed` or an
//! installation nobody should register on through the network. The password is the file's
//! first line, else the first line of standard input; with none, a random one is made and
//! printed. Refused once the installation has an owner.
//!
//! `admin-service import-compreface --from URL [--core URL] [--max-faces N]` moves a CompreFace
//! installation in ([`crate::compreface`]); [`import_options`] reads its arguments.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use visage_store::Store;

use crate::compreface::ImportOptions;
use crate::config::Settings;
use crate::{password, tokens, validation};

/// Runs `reset-password` for `email` against the configured database; returns the message to
/// print.
pub async fn reset_password(settings: &Settings, email: &str) -> anyhow::Result<String> {
    let store = Store::open(settings.database.clone(), 1).await?;
    let (new_password, generated) = given_or_generated(read_password(None)?);
    if let Err(crate::error::Error::Api(e)) = validation::new_password("password", Some(&new_password)) {
        bail!("{}", e.message);
    }
    reset_password_in(&store, email, &new_password).await?;
    Ok(if generated {
        format!("The password of {email} is now: {new_password}")
    } else {
        format!("The password of {email} was changed.")
    })
}

/// Reads a password: the first line of `file`, else of standard input (unless it is a terminal);
/// `None` when there is none.
fn read_password(file: Option<&str>) -> anyhow::Result<Option<String>> {
    let mut line = String::new();
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
            line = text.lines().next().unwrap_or_default().to_string();
        }
        None => {
            let stdin = std::io::stdin();
            if !stdin.is_terminal() {
                stdin.lock().read_line(&mut line).context("cannot read the password from standard input")?;
            }
        }
    }
    let line = line.trim_end_matches(['\r', '\n']).to_string();
    Ok((!line.is_empty()).then_some(line))
}

/// The password given, else a random one: `(password, generated)`.
fn given_or_generated(given: Option<String>) -> (String, bool) {
    match given {
        Some(password) => (password, false),
        None => (tokens::new_token()[..20].to_string(), true),
    }
}

/// Runs `create-owner` with its arguments (`EMAIL [--password-file FILE]`) against the
/// configured database; returns the message to print.
pub async fn create_owner(settings: &Settings, args: &[String]) -> anyhow::Result<String> {
    let (email, file) = match args {
        [email] => (email.as_str(), None),
        [email, flag, file] if flag == "--password-file" => (email.as_str(), Some(file.as_str())),
        _ => bail!("usage: admin-service create-owner EMAIL [--password-file FILE]"),
    };
    let store = Store::open(settings.database.clone(), 1).await?;
    let (password, generated) = given_or_generated(read_password(file)?);
    create_owner_in(&store, settings, email, &password).await?;
    Ok(if generated {
        format!("{email} owns this installation; its password: {password}")
    } else {
        format!("{email} owns this installation.")
    })
}

/// Makes `email` the installation's first account, as the first sign-up would (global OWNER,
/// the demo application, the demo keys retired unless `DEMO_KEYS=keep`); an error once there is
/// an owner or when the e-mail or the password is not acceptable.
pub async fn create_owner_in(store: &Store, settings: &Settings, email: &str, password: &str) -> anyhow::Result<()> {
    let email = match validation::email(Some(email)) {
        Ok(email) => email,
        Err(crate::error::Error::Api(e)) => bail!("{}", e.message),
        Err(_) => bail!("not an e-mail address: {email}"),
    };
    if let Err(crate::error::Error::Api(e)) = validation::new_password("password", Some(password)) {
        bail!("{}", e.message);
    }
    if store.untaken_demo_user().await?.is_none() || store.has_real_users().await? {
        bail!("this installation has an owner already: ask them, or use reset-password");
    }
    let hash = password::Hashing::for_this_machine()
        .hash(password.to_string())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let first_name = email.split('@').next().unwrap_or_default().chars().take(50).collect::<String>();
    let new = visage_store::accounts::NewUser {
        email: &email,
        password_hash: &hash,
        first_name: &first_name,
        last_name: "",
        enabled: true,
        allow_statistics: false,
    };
    let retire = settings.demo_keys == crate::config::DemoKeys::UntilTakeover;
    let sent = async { Ok::<(), std::convert::Infallible>(()) };
    let user = store.create_user_with_token(&new, true, retire, None, sent).await?.unwrap_or_else(|e| match e {});
    if user.global_role != visage_store::Role::Owner {
        bail!("{email} was registered, but another sign-up took the installation over first");
    }
    Ok(())
}

/// Sets `new_password` for the user with `email`, enables it and ends its sessions.
pub async fn reset_password_in(store: &Store, email: &str, new_password: &str) -> anyhow::Result<()> {
    let user = store
        .user_by_email(email.trim())
        .await?
        .filter(|u| !u.is_untaken_demo())
        .with_context(|| format!("no user has the e-mail address {email}"))?;
    let hash = password::Hashing::for_this_machine()
        .hash(new_password.to_string())
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    store.set_password_hash(user.id, &hash, true).await?;
    store.end_user_sessions(user.id).await?;
    Ok(())
}

/// The options of `import-compreface` from the arguments after it: `--from URL` (required),
/// `--core URL` (default: `CORE_URL` or `PYTHON_URL` as api-service reads them, else
/// `http://localhost:3000`), `--max-faces N`; `--flag=value` works too. The error says what is
/// wrong with them.
pub fn import_options(args: &[String]) -> Result<ImportOptions, String> {
    let mut from = None;
    let mut core_url = None;
    let mut max_faces = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--from" => &mut from,
            "--core" => &mut core_url,
            "--max-faces" => &mut max_faces,
            _ => return Err(format!("unknown argument {arg:?}")),
        };
        let value = match inline.or_else(|| args.next().cloned()) {
            Some(value) if !value.trim().is_empty() => value,
            _ => return Err(format!("{flag} needs a value")),
        };
        *slot = Some(value);
    }
    let from = from.ok_or("--from URL is required: the database of the CompreFace installation")?;
    let core_url = core_url
        .or_else(|| visage_common::config::first_var(&["CORE_URL", "PYTHON_URL"]).map(|(_, url)| url))
        .unwrap_or_else(|| "http://localhost:3000".to_string())
        .trim_end_matches('/')
        .to_string();
    let max_faces = match max_faces {
        Some(n) => Some(n.trim().parse::<u64>().map_err(|_| format!("--max-faces takes a number, not {n:?}"))?),
        None => None,
    };
    Ok(ImportOptions { from, core_url, max_faces })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn import_options_take_both_flag_forms_and_say_what_is_wrong() {
        let options =
            import_options(&args(&["--from", "postgres://h/frs", "--core=http://core:3000/", "--max-faces", "5"]))
                .unwrap();
        assert_eq!(
            options,
            ImportOptions {
                from: "postgres://h/frs".to_string(),
                core_url: "http://core:3000".to_string(),
                max_faces: Some(5)
            }
        );
        assert_eq!(import_options(&args(&["--from=postgres://h/frs"])).unwrap().max_faces, None);
        assert!(import_options(&args(&[])).unwrap_err().contains("--from"));
        assert!(import_options(&args(&["--from"])).unwrap_err().contains("needs a value"));
        assert!(import_options(&args(&["--from", "x", "--max-faces", "many"])).unwrap_err().contains("number"));
        assert!(import_options(&args(&["--to", "x"])).unwrap_err().contains("unknown argument"));
    }
}
