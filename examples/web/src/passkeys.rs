//! Passkey settings, read from the environment at start-up.

use anyhow::Context as _;
use torii::PasskeyConfig;

/// The relying party for passkeys: `PASSKEY_RP_ID` (default `localhost`) and `PASSKEY_ORIGIN` (default
/// `http://localhost:PORT`, with the port the server actually listens on). Open the app at that origin:
/// browsers refuse passkeys whose relying party does not match the page, so `http://127.0.0.1:PORT`
/// cannot use them.
///
/// # Errors
/// When the settings cannot work (checked here, at start-up).
pub(crate) fn from_env(port: u16) -> anyhow::Result<PasskeyConfig> {
    from_lookup(|name| std::env::var(name).ok(), port)
}

fn from_lookup(lookup: impl Fn(&str) -> Option<String>, port: u16) -> anyhow::Result<PasskeyConfig> {
    let rp_id = lookup("PASSKEY_RP_ID").unwrap_or_else(|| "localhost".to_owned());
    let origin = lookup("PASSKEY_ORIGIN").unwrap_or_else(|| format!("http://localhost:{port}"));
    let config = PasskeyConfig::new(rp_id, "Torii example").with_origin(origin);
    config.validate().context("PASSKEY_RP_ID / PASSKEY_ORIGIN cannot be used")?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic)]

    use super::*;

    #[test]
    fn defaults_to_localhost_on_the_listening_port_and_refuses_mismatches() {
        let config = from_lookup(|_| None, 4321).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(config.rp_id(), "localhost");
        assert_eq!(config.origins(), ["http://localhost:4321"]);
        let mismatch = |name: &str| (name == "PASSKEY_ORIGIN").then(|| "https://example.com".to_owned());
        assert!(from_lookup(mismatch, 4321).is_err());
    }
}
