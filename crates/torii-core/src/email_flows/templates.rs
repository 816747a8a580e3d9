//! The messages: a subject, a plain-text body and an HTML body for each [`MessageKind`].
//!
//! Every value put into HTML is escaped, although the configuration already refuses markup characters
//! in the app name and base URL: the escaping keeps a later change from opening an injection.

use chrono::Duration;

use super::config::EmailConfig;
use super::mailer::{EmailMessage, MailError, MessageKind};

/// Builds the message of `kind` for `to`. `link` is the action link (absent for the password-changed
/// notice) and `valid_for` how long it works.
///
/// # Errors
/// [`MailError::InvalidMessage`] when the recipient is not a valid address.
pub fn render(
    config: &EmailConfig,
    kind: MessageKind,
    to: &str,
    link: Option<String>,
    valid_for: Duration,
) -> Result<EmailMessage, MailError> {
    let app = config.app_name();
    let minutes = valid_for.num_minutes().max(1);
    let validity =
        if minutes % 60 == 0 && minutes >= 60 { plural(minutes / 60, "hour") } else { plural(minutes, "minute") };
    let (subject, intro, action, outro) = match kind {
        MessageKind::MagicLink => (
            format!("Your sign-in link for {app}"),
            format!("Use the link below to sign in to {app}."),
            "Sign in",
            format!("The link works once and expires in {validity}. If you did not ask for it, ignore this email."),
        ),
        MessageKind::EmailVerification => (
            format!("Confirm your email address for {app}"),
            format!("Confirm that this address belongs to your {app} account."),
            "Confirm email address",
            format!("The link expires in {validity}. If you did not create an account, ignore this email."),
        ),
        MessageKind::PasswordReset => (
            format!("Reset your {app} password"),
            format!(
                "Someone asked to reset the password of your {app} account. Use the link below to choose a new one."
            ),
            "Choose a new password",
            format!(
                "The link works once and expires in {validity}. If you did not ask for it, ignore this email: your password stays as it is."
            ),
        ),
        MessageKind::PasswordChanged => (
            format!("Your {app} password was changed"),
            format!("The password of your {app} account was just changed, and your other sessions were signed out."),
            "",
            "If you did not do this, reset your password at once and contact us.".to_owned(),
        ),
        MessageKind::AccountExists => (
            format!("Someone tried to sign up to {app} with your address"),
            format!(
                "Someone tried to create a {app} account with this email address, which already has one. \
                 Nothing was changed."
            ),
            "",
            "If it was you, sign in instead, or use \"Forgot password\" if you do not remember it. If it was not \
             you, you can ignore this email."
                .to_owned(),
        ),
    };
    let text = match &link {
        Some(link) => format!("{intro}\n\n{action}: {link}\n\n{outro}\n\n-- {app}\n"),
        None => format!("{intro}\n\n{outro}\n\n-- {app}\n"),
    };
    let button = link.as_deref().map_or_else(String::new, |link| {
        let href = escape(link);
        format!(
            "<p><a href=\"{href}\" style=\"display:inline-block;padding:10px 18px;background:#1f4e8c;color:#fff;\
             text-decoration:none;border-radius:4px\">{}</a></p>\n\
             <p style=\"font-size:12px;color:#555\">Or paste this link into your browser:<br>{href}</p>\n",
            escape(action)
        )
    });
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.5\">\n<p>{intro}</p>\n{button}<p>{outro}</p>\n\
         <p>&mdash; {app}</p>\n</body></html>\n",
        title = escape(&subject),
        intro = escape(&intro),
        outro = escape(&outro),
        app = escape(app),
    );
    EmailMessage::new(kind, config.from(), to, subject, text, html, link)
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 { format!("1 {unit}") } else { format!("{n} {unit}s") }
}

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Option<EmailConfig> {
        EmailConfig::new("Acme", "https://app.example", "noreply@app.example").ok()
    }

    #[test]
    fn each_kind_has_text_and_html_with_the_link() {
        let Some(config) = config() else { return };
        for kind in [MessageKind::MagicLink, MessageKind::EmailVerification, MessageKind::PasswordReset] {
            let link = config.link("/x", "TOKEN");
            let m = render(&config, kind, "ada@example.com", Some(link.clone()), Duration::minutes(10)).ok();
            let Some(m) = m else { return };
            assert!(m.subject().contains("Acme"));
            assert!(m.text().contains(&link) && m.html().contains(&link));
            assert!(m.text().contains("10 minutes"));
            assert_eq!(m.link(), Some(link.as_str()));
        }
        let notice = render(&config, MessageKind::PasswordChanged, "ada@example.com", None, Duration::zero()).ok();
        assert!(notice.is_some_and(|m| m.link().is_none() && !m.html().contains("href")));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn hours_are_worded() {
        let Some(config) = config() else { return };
        let m = render(&config, MessageKind::EmailVerification, "a@example.com", Some("l".into()), Duration::hours(24));
        assert!(m.is_ok_and(|m| m.text().contains("24 hours")));
    }
}
