//! A real SMTP server for the email tests: PyPI `aiosmtpd` (tests/support/smtp_server.py) on
//! 127.0.0.1 with a free port, STARTTLS or implicit TLS with a certificate from a test CA made
//! here (the leaf is CA:FALSE, as rustls requires), and AUTH. Stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::free_port;

pub const USER: &str = "mimi";
pub const PASSWORD: &str = "smtp-secret";

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub ca_file: PathBuf,
    dir: TempDir,
}

/// The venv's python: `$MIMI_TEST_PYTHON` (tests/run.sh sets it), else the venv tests/run.sh makes.
fn python() -> PathBuf {
    if let Ok(p) = std::env::var("MIMI_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache"));
    let venv = cache.join("mimi-test-venv/bin/python");
    assert!(
        venv.exists(),
        "the SMTP tests need aiosmtpd: run tests/run.sh (it creates {} with `pip install aiosmtpd`), or set \
         MIMI_TEST_PYTHON to a python that has it",
        venv.display()
    );
    venv
}

fn certificates(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "mimi-test-smtp-ca");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.distinguished_name.push(DnType::CommonName, "smtp.test");
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &ca).unwrap();
    let (ca_file, cert_file, key_file) = (dir.join("ca.pem"), dir.join("leaf.pem"), dir.join("leaf.key"));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    std::fs::write(&cert_file, cert.pem()).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    (ca_file, cert_file, key_file)
}

impl SmtpServer {
    /// `mode`: "starttls" or "implicit".
    pub fn start(mode: &str) -> SmtpServer {
        Self::start_on(mode, free_port())
    }

    pub fn start_on(mode: &str, port: u16) -> SmtpServer {
        let dir = tempfile::tempdir().unwrap();
        let (ca_file, cert, key) = certificates(dir.path());
        let out = dir.path().join("mail");
        std::fs::create_dir_all(&out).unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["--port", &port.to_string(), "--mode", mode, "--user", USER, "--password", PASSWORD])
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "READY", "the SMTP server did not start (is aiosmtpd installed?)");
        SmtpServer { child, port, ca_file, dir }
    }

    /// Every message received so far, in order (the server's parsed summaries).
    pub fn mails(&self) -> Vec<Value> {
        let out = self.dir.path().join("mail");
        let mut n = 1;
        let mut mails = Vec::new();
        while let Ok(text) = std::fs::read_to_string(out.join(format!("{n}.json"))) {
            mails.push(serde_json::from_str(&text).unwrap());
            n += 1;
        }
        mails
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Value> {
        crate::support::wait_until(Duration::from_secs(30), &format!("{n} mail(s)"), || async {
            self.mails().len() >= n
        })
        .await;
        self.mails()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
