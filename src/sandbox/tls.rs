//! HTTPS for the sandbox: a fresh CA and server certificate per run, and an axum listener that
//! completes the TLS handshake.
//!
//! Why TLS at all: kubectl (client-go) only sends a kubeconfig's bearer token over TLS, so an
//! `http://` server could not check the token kubectl is configured with. The CA certificate goes
//! into the kubeconfig as `certificate-authority-data`; the server certificate (CA:FALSE, as
//! rustls requires) names `localhost`, `127.0.0.1`, `::1` and the listening address.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The per-run certificate authority and server configuration.
pub struct Certs {
    /// PEM of the CA certificate clients trust.
    pub ca_pem: String,
    pub server: Arc<rustls::ServerConfig>,
}

/// Makes a CA and a server certificate for `ip`.
pub fn generate(ip: IpAddr) -> anyhow::Result<Certs> {
    let mut ca = CertificateParams::new(Vec::<String>::new()).context("failed to make CA parameters")?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "mimi-sandbox-ca");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?).context("failed to sign the sandbox CA")?;
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !ip.is_unspecified() && !names.contains(&ip.to_string()) {
        names.push(ip.to_string());
    }
    let mut leaf = CertificateParams::new(names).context("failed to make server certificate parameters")?;
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.distinguished_name.push(DnType::CommonName, "mimi-sandbox");
    let key = KeyPair::generate()?;
    let cert = leaf.signed_by(&key, &ca).context("failed to sign the sandbox server certificate")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.der().to_vec()), CertificateDer::from(ca.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Certs { ca_pem: ca.pem(), server: Arc::new(server) })
}

/// A TCP listener whose connections are TLS-wrapped before axum sees them.
pub struct TlsListener {
    pub tcp: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.tcp.accept().await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "sandbox accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            match tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (tls, addr),
                Ok(Err(e)) => tracing::debug!(error = %e, %addr, "sandbox TLS handshake failed"),
                Err(_) => tracing::debug!(%addr, "sandbox TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
