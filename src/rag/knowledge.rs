//! The knowledge base: Markdown runbooks chunked by heading, searched by meaning.
//!
//! Each `#`/`##`/`###` heading starts a chunk holding its heading path ("OOMKilled > Fix") and the
//! text under it, cut at [`MAX_CHUNK`] characters. The whole folder is re-indexed at start-up (the
//! knowledge collection is rebuilt, so deleted runbooks disappear). Runbooks are the operator's own
//! documents, shown as quoted reference text, never executed.

use std::path::Path;

use serde_json::json;

use super::memory::{Memory, MemoryError};
use super::store::{Filter, Point};

pub const MAX_CHUNK: usize = 2000;
/// Runbook chunks below this similarity are not offered as an answer.
pub const MIN_SCORE: f32 = 0.2;

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The file name, e.g. `oom-killed.md`.
    pub source: String,
    /// The heading path, e.g. `OOMKilled pods > Fix`.
    pub heading: String,
    pub text: String,
}

/// A runbook chunk found for a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub chunk: Chunk,
    pub score: f32,
}

/// Splits a Markdown document at its headings (outside code fences).
pub fn chunk(source: &str, markdown: &str) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut body = String::new();
    let mut fenced = false;
    let flush = |path: &[(usize, String)], body: &mut String, out: &mut Vec<Chunk>| {
        let text = body.trim();
        if !text.is_empty() || !path.is_empty() {
            let heading = path.iter().map(|(_, h)| h.as_str()).collect::<Vec<_>>().join(" > ");
            if !text.is_empty() {
                out.push(Chunk { source: source.to_string(), heading, text: text.chars().take(MAX_CHUNK).collect() });
            }
        }
        body.clear();
    };
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        if !fenced && (1..=3).contains(&level) && line[level..].starts_with(' ') {
            flush(path.as_slice(), &mut body, &mut out);
            path.retain(|(l, _)| *l < level);
            path.push((level, line[level..].trim().to_string()));
            continue;
        }
        body.push_str(line);
        body.push('\n');
    }
    flush(path.as_slice(), &mut body, &mut out);
    out
}

fn chunk_id(c: &Chunk) -> u64 {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("{}#{}", c.source, c.heading).as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 1
}

impl Memory {
    /// Rebuilds the knowledge collection from every `*.md` file in `dir`; returns the chunk count.
    pub async fn index_runbooks(&self, dir: &Path) -> Result<usize, MemoryError> {
        let mut chunks = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| super::StoreError::Unavailable(format!("{}: {e}", dir.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        files.sort();
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            chunks.extend(chunk(&name, &text));
        }
        self.reset(self.knowledge_collection()).await?;
        let mut points = Vec::new();
        for c in &chunks {
            let vector = self.embed_one(&format!("{}\n{}", c.heading, c.text)).await?;
            let payload = json!({"kind": "runbook", "source": c.source, "heading": c.heading, "text": c.text});
            points.push(Point { id: chunk_id(c), vector, payload });
        }
        if !points.is_empty() {
            self.put(self.knowledge_collection(), points).await?;
        }
        self.mark_knowledge();
        Ok(chunks.len())
    }

    /// The runbook chunks closest to `question`, best first.
    pub async fn lookup(&self, question: &str, limit: usize) -> Result<Vec<Found>, MemoryError> {
        if !self.has_knowledge() {
            return Ok(Vec::new());
        }
        let filter = Filter::default().field("kind", "runbook");
        let hits = self.find(self.knowledge_collection(), question, &filter, limit, MIN_SCORE).await?;
        Ok(hits
            .into_iter()
            .map(|h| {
                let s = |k: &str| h.payload[k].as_str().unwrap_or_default().to_string();
                Found { chunk: Chunk { source: s("source"), heading: s("heading"), text: s("text") }, score: h.score }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runbook_is_chunked_by_heading_with_its_path() {
        let md = "# OOMKilled\nintro\n## Check\nkubectl describe\n```\n# not a heading\n```\n## Fix\nraise the limit\n# Other\nx";
        let c = chunk("oom.md", md);
        let got: Vec<(&str, &str)> = c.iter().map(|c| (c.heading.as_str(), c.text.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("OOMKilled", "intro"),
                ("OOMKilled > Check", "kubectl describe\n```\n# not a heading\n```"),
                ("OOMKilled > Fix", "raise the limit"),
                ("Other", "x"),
            ]
        );
    }
}
