//! The process-wide TLS crypto provider: ring, everywhere. matrix-sdk compiles aws-lc in beside it,
//! so rustls can no longer pick a provider by itself: it must be installed before any client is built.
//!
//! The HTTP client of the LLM analyzer (reqwest, built without a default provider) needs one
//! installed before any client is built; so does any other reqwest client in the process (tests,
//! tools). Calling [`install_crypto_provider`] at start-up makes that independent of the order in
//! which things happen. The sandbox, Prometheus and email clients pass ring explicitly.

use std::sync::Once;

/// Installs ring as the process's default rustls provider (idempotent; an already installed
/// provider is kept).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A rustls client configuration on ring (safe default protocol versions) trusting `roots`.
pub fn client_config(roots: rustls::RootCertStore) -> Result<rustls::ClientConfig, rustls::Error> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
