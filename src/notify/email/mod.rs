//! The email sink: SMTP through lettre (rustls with the ring provider; the system's CA roots, or
//! `[email] ca_file`), STARTTLS or implicit TLS, AUTH, a connection pool. One message per outbox
//! row: an incident's message, and its timeline replies threaded with `In-Reply-To` /
//! `References`. Email cannot edit; the outbox sends it no edits. No approving by email link.

mod build;

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

pub use build::{build_message, message_id};

use super::sink::{Capabilities, MessageId, Outgoing, Sink, SinkError};
use crate::config::{EmailSettings, SmtpTls};
use crate::domain::approver::Platform;

pub struct EmailSink {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl EmailSink {
    /// Builds the SMTP client from `[email]` (validated); connects on first use.
    pub fn new(e: &EmailSettings) -> anyhow::Result<EmailSink> {
        let host = e.smtp_host.clone().context("email.smtp_host is not set")?;
        let from =
            e.from.as_deref().context("email.from is not set")?.parse().context("email.from is not an address")?;
        let tls = match e.tls {
            SmtpTls::None => Tls::None,
            mode => {
                let mut params = TlsParameters::builder(host.clone());
                if let Some(path) = &e.ca_file {
                    let pem = std::fs::read(path)
                        .with_context(|| format!("failed to read email.ca_file {}", path.display()))?;
                    let cert = Certificate::from_pem(&pem)
                        .with_context(|| format!("email.ca_file {} has no PEM certificate", path.display()))?;
                    params = params.certificate_store(CertificateStore::None).add_root_certificate(cert);
                }
                let params = params.build_rustls().context("failed to set up TLS for email")?;
                if mode == SmtpTls::Implicit { Tls::Wrapper(params) } else { Tls::Required(params) }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(e.port())
            .tls(tls)
            .timeout(Some(Duration::from_secs(e.timeout_seconds)));
        if let (Some(user), Some(password)) = (&e.username, &e.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
        }
        Ok(EmailSink { transport: builder.build(), from })
    }
}

#[async_trait]
impl Sink for EmailSink {
    fn name(&self) -> &str {
        "email"
    }

    fn platform(&self) -> Option<Platform> {
        None
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { edits: false, threads: true, chat: false }
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<MessageId, SinkError> {
        let (message, id) = build_message(&self.from, msg).map_err(SinkError::Rejected)?;
        match self.transport.send(message).await {
            Ok(_) => Ok(MessageId(id)),
            // 53x: authentication; the server, not this message, refuses: down until fixed.
            Err(e) if e.status().is_some_and(|c| c.to_string().starts_with("53")) => {
                Err(SinkError::Unavailable(describe(&e)))
            }
            // Other 5xx: this message will never be accepted (bad recipient, too big).
            Err(e) if e.is_permanent() => Err(SinkError::Rejected(describe(&e))),
            Err(e) => Err(SinkError::Unavailable(describe(&e))),
        }
    }
}

/// The error with its causes, without the credentials lettre never prints anyway.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
