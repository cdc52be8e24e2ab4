//! Command-line tasks of the admin-service binary.
//!
//! `admin-service reset-password EMAIL` sets a new password for the user with this e-mail, for
//! an installation without a mail server (or a locked-out owner). The password is the first
//! line of standard input; with none (an empty line, or standard input a terminal), a random
//! password is made and printed. The user is enabled and logged out everywhere.

use std::io::{BufRead, IsTerminal};

use anyhow::{bail, Context};
use visage_store::Store;

use crate::config::Settings;
use crate::{password, tokens, validation};

/// Runs `reset-password` for `email` against the configured database; returns the message to
/// print.
pub async fn reset_password(settings: &Settings, email: &str) -> anyhow::Result<String> {
    let store = Store::open(settings.database.clone(), 1).await?;
    let stdin = std::io::stdin();
    let mut line = String::new();
    if !stdin.is_terminal() {
        stdin.lock().read_line(&mut line).context("cannot read the password from standard input")?;
    }
    let given = line.trim_end_matches(['\r', '\n']).to_string();
    let (new_password, generated) =
        if given.is_empty() { (tokens::new_token()[..20].to_string(), true) } else { (given, false) };
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

/// Sets `new_password` for the user with `email`, enables it and ends its sessions.
pub async fn reset_password_in(store: &Store, email: &str, new_password: &str) -> anyhow::Result<()> {
    let user = store
        .user_by_email(email.trim())
        .await?
        .filter(|u| !u.is_untaken_demo())
        .with_context(|| format!("no user has the e-mail address {email}"))?;
    let hash = password::hash(new_password.to_string()).await.map_err(|e| anyhow::anyhow!(e.message))?;
    store.set_password_hash(user.id, &hash, true).await?;
    store.end_user_sessions(user.id).await?;
    Ok(())
}
