//! The lexical fallback: a feature-hashing embedder that needs no model.
//!
//! Text is lower-cased and split into words (letters, digits, `_`, `-`, `.`, `/` kept together so
//! that `OOMKilled`, `shop/checkout` and `ImagePullBackOff` stay one token, and also split on those
//! separators so `checkout` matches `shop/checkout`). Features, each hashed (FNV-1a, stable across
//! versions and platforms) into one of [`DIMENSION`] buckets with a hash-derived sign:
//! - every word, weight 1.0;
//! - every adjacent word pair, weight 0.5 (some word order);
//! - every character trigram of `#word#`, weight 0.25 (typos, plural forms, `crashloop`/`crashloopbackoff`).
//!
//! The vector is L2-normalised, so cosine similarity is a dot product. It finds incidents that use
//! the same words; it does not know that "OOM" and "out of memory" mean the same thing (MiniLM does).

use async_trait::async_trait;

use super::{EmbedError, Embedder, normalize};

/// Buckets; different from MiniLM's 384 so that switching between them is always detected.
pub const DIMENSION: usize = 512;

#[derive(Debug, Clone, Copy, Default)]
pub struct Lexical;

impl Lexical {
    /// The vector of one text.
    pub fn vector(text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; DIMENSION];
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')))
            .map(|w| w.trim_matches(|c: char| matches!(c, '.' | '-' | '/')))
            .filter(|w| !w.is_empty())
            .collect();
        for w in &words {
            add(&mut v, w.as_bytes(), 1.0);
            let parts: Vec<&str> = w.split(['_', '-', '.', '/']).filter(|p| !p.is_empty()).collect();
            if parts.len() > 1 {
                for p in &parts {
                    add(&mut v, p.as_bytes(), 0.5);
                }
            }
            let padded: Vec<char> = format!("#{w}#").chars().collect();
            for t in padded.windows(3) {
                let s: String = t.iter().collect();
                add(&mut v, format!("3:{s}").as_bytes(), 0.25);
            }
        }
        for pair in words.windows(2) {
            add(&mut v, format!("2:{} {}", pair[0], pair[1]).as_bytes(), 0.5);
        }
        normalize(&mut v);
        v
    }
}

fn add(v: &mut [f32], feature: &[u8], weight: f32) {
    let h = fnv1a(feature);
    let bucket = (h % DIMENSION as u64) as usize;
    let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
    v[bucket] += sign * weight;
}

/// FNV-1a, 64 bits: stable, so stored vectors stay valid across Mimi versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[async_trait]
impl Embedder for Lexical {
    fn name(&self) -> String {
        "lexical-v1".into()
    }

    fn dimension(&self) -> usize {
        DIMENSION
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| Lexical::vector(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rag::embed::dot;

    #[test]
    fn shared_words_score_higher_than_unrelated_text() {
        let a = Lexical::vector("KubePodCrashLooping shop/checkout CrashLoopBackOff exit code 1");
        let b = Lexical::vector("KubePodCrashLooping checkout pod in CrashLoopBackOff");
        let c = Lexical::vector("Node disk pressure on worker-3, kubelet evicting pods");
        assert!(dot(&a, &b) > dot(&a, &c) + 0.2, "{} vs {}", dot(&a, &b), dot(&a, &c));
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5, "unit length");
    }

    #[test]
    fn the_vector_is_stable_and_empty_text_is_zero() {
        assert_eq!(Lexical::vector("OOMKilled"), Lexical::vector("oomkilled"));
        assert!(Lexical::vector("  ").iter().all(|x| *x == 0.0));
    }
}
