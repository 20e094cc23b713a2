//! Slack request signatures (C01, C02): `X-Slack-Signature: v0=hex(HMAC-SHA256(secret,
//! "v0:{X-Slack-Request-Timestamp}:{body}"))`, the timestamp within 5 minutes of now, compared in
//! constant time (`ring::hmac::verify`). During a secret rotation both secrets are accepted.

use ring::hmac;

use crate::config::Secret;

/// Requests older (or newer) than this are refused (replays, C02).
pub const MAX_AGE_SECONDS: i64 = 300;

pub const SIGNATURE: &str = "x-slack-signature";
pub const TIMESTAMP: &str = "x-slack-request-timestamp";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing or malformed Slack signature headers")]
    Missing,
    #[error("the request timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks one request. `now` is Unix seconds.
pub fn verify(
    secrets: &[&Secret],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let ts_text = timestamp.ok_or(VerifyError::Missing)?;
    let ts: i64 = ts_text.parse().map_err(|_| VerifyError::Missing)?;
    let hex_sig = signature.and_then(|s| s.strip_prefix("v0=")).ok_or(VerifyError::Missing)?;
    let tag = hex::decode(hex_sig).map_err(|_| VerifyError::Missing)?;
    if (now - ts).abs() > MAX_AGE_SECONDS {
        return Err(VerifyError::Stale);
    }
    let mut signed = Vec::with_capacity(body.len() + ts_text.len() + 4);
    signed.extend_from_slice(b"v0:");
    signed.extend_from_slice(ts_text.as_bytes());
    signed.push(b':');
    signed.extend_from_slice(body);
    let ok = secrets.iter().any(|secret| {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
        hmac::verify(&key, &signed, &tag).is_ok()
    });
    if ok { Ok(()) } else { Err(VerifyError::Mismatch) }
}

/// The signature Slack would send (tests and the fake Slack sign with it).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(format!("v0:{timestamp}:").as_bytes());
    ctx.update(body);
    format!("v0={}", hex::encode(ctx.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn check(secrets: &[&str], ts: Option<&str>, sig: Option<&str>, body: &[u8]) -> Result<(), VerifyError> {
        let secrets: Vec<Secret> = secrets.iter().map(|s| Secret::new(*s)).collect();
        let refs: Vec<&Secret> = secrets.iter().collect();
        verify(&refs, ts, sig, body, NOW)
    }

    #[test]
    fn slacks_documented_example_verifies() {
        // From Slack's "Verifying requests from Slack" guide.
        let secret = "8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        let secrets = [Secret::new(secret)];
        assert_eq!(verify(&[&secrets[0]], Some("1531420618"), Some(sig), body, 1_531_420_618 + 10), Ok(()));
        assert_eq!(sign(secret, 1_531_420_618, body), sig);
    }

    #[test]
    fn c01_bad_missing_or_changed_signatures_are_refused() {
        let body = b"payload=%7B%7D";
        let good = sign("s3cret", NOW, body);
        let ts = NOW.to_string();
        assert_eq!(check(&["s3cret"], Some(&ts), Some(&good), body), Ok(()));
        assert_eq!(check(&["other"], Some(&ts), Some(&good), body), Err(VerifyError::Mismatch));
        assert_eq!(check(&["s3cret"], Some(&ts), Some(&good), b"payload=%7B%7C"), Err(VerifyError::Mismatch));
        assert_eq!(check(&["s3cret"], None, Some(&good), body), Err(VerifyError::Missing));
        assert_eq!(check(&["s3cret"], Some(&ts), None, body), Err(VerifyError::Missing));
        assert_eq!(check(&["s3cret"], Some(&ts), Some(&good[3..]), body), Err(VerifyError::Missing));
        assert_eq!(check(&["s3cret"], Some("soon"), Some(&good), body), Err(VerifyError::Missing));
        assert_eq!(check(&["s3cret"], Some(&ts), Some("v0=zz"), body), Err(VerifyError::Missing));
        assert_eq!(check(&[], Some(&ts), Some(&good), body), Err(VerifyError::Mismatch));
    }

    #[test]
    fn c02_stale_or_future_timestamps_are_refused() {
        let body = b"{}";
        for ts in [NOW - MAX_AGE_SECONDS - 1, NOW + MAX_AGE_SECONDS + 1] {
            let sig = sign("s3cret", ts, body);
            assert_eq!(check(&["s3cret"], Some(&ts.to_string()), Some(&sig), body), Err(VerifyError::Stale));
        }
        let ts = NOW - MAX_AGE_SECONDS;
        assert_eq!(check(&["s3cret"], Some(&ts.to_string()), Some(&sign("s3cret", ts, body)), body), Ok(()));
    }

    #[test]
    fn during_rotation_both_secrets_verify() {
        let body = b"{}";
        let ts = NOW.to_string();
        for secret in ["new", "old"] {
            let sig = sign(secret, NOW, body);
            assert_eq!(check(&["new", "old"], Some(&ts), Some(&sig), body), Ok(()));
        }
        assert_eq!(check(&["new"], Some(&ts), Some(&sign("old", NOW, body)), body), Err(VerifyError::Mismatch));
    }
}
