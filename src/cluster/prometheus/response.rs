//! The Prometheus HTTP API's JSON answers, read into `Series` (pure).
//!
//! `{"status":"success","data":{"resultType":"vector"|"matrix"|"scalar"|"string","result":…}}` or
//! `{"status":"error","errorType":"bad_data","error":"…"}`. Sample values are strings ("1.5",
//! "NaN", "+Inf"). At most `MAX_SERIES` series are kept: a query matching the whole cluster must
//! not fill memory.

use serde::Deserialize;
use serde_json::Value;

use super::{MetricsError, Series};
use crate::domain::alert::Labels;

/// Series kept from one answer.
pub(super) const MAX_SERIES: usize = 200;

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Reads an answer (any HTTP status: Prometheus sends errors as JSON with 400, 422 or 503).
pub(super) fn parse(status: u16, body: &[u8]) -> Result<Vec<Series>, MetricsError> {
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(e) if (200..300).contains(&status) => return Err(MetricsError::Decode(e.to_string())),
        Err(_) => {
            let text = String::from_utf8_lossy(&body[..body.len().min(300)]).trim().to_string();
            return Err(MetricsError::Http { status, message: text });
        }
    };
    if envelope.status != "success" {
        return Err(MetricsError::Query {
            kind: envelope.error_type.unwrap_or_else(|| "error".into()),
            message: envelope.error.unwrap_or_default(),
        });
    }
    let data = envelope.data.ok_or_else(|| MetricsError::Decode("no data in a successful answer".into()))?;
    match data.result_type.as_str() {
        "vector" | "matrix" => {
            let raw: Vec<RawSeries> =
                serde_json::from_value(data.result).map_err(|e| MetricsError::Decode(e.to_string()))?;
            Ok(raw
                .into_iter()
                .take(MAX_SERIES)
                .map(|r| {
                    let samples = r.value.into_iter().chain(r.values).map(|(t, v)| (t, value(&v))).collect();
                    Series { labels: r.metric, samples }
                })
                .collect())
        }
        "scalar" => {
            let (t, v): (f64, String) =
                serde_json::from_value(data.result).map_err(|e| MetricsError::Decode(e.to_string()))?;
            Ok(vec![Series { labels: Labels::new(), samples: vec![(t, value(&v))] }])
        }
        other => Err(MetricsError::Decode(format!("result type {other:?} is not numeric"))),
    }
}

/// A sample value: Go's float formatting, including `NaN`, `+Inf` and `-Inf`.
fn value(s: &str) -> f64 {
    match s {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_matrices_and_scalars_are_read() {
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"pod":"a"},"value":[1700000000.5,"1.5"]},
            {"metric":{},"value":[1700000000.5,"NaN"]}]}}"#;
        let s = parse(200, vector).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].labels.get("pod").map(String::as_str), Some("a"));
        assert_eq!(s[0].samples, [(1700000000.5, 1.5)]);
        assert!(s[1].samples[0].1.is_nan());

        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up"},"values":[[1,"1"],[2,"+Inf"],[3,"-Inf"]]}]},"warnings":["x"]}"#;
        let s = parse(200, matrix).unwrap();
        assert_eq!(s[0].samples, [(1.0, 1.0), (2.0, f64::INFINITY), (3.0, f64::NEG_INFINITY)]);

        let scalar = br#"{"status":"success","data":{"resultType":"scalar","result":[5,"42"]}}"#;
        assert_eq!(parse(200, scalar).unwrap()[0].samples, [(5.0, 42.0)]);
    }

    #[test]
    fn errors_are_told_apart() {
        let bad = br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}"#;
        assert_eq!(
            parse(400, bad),
            Err(MetricsError::Query { kind: "bad_data".into(), message: "1:5: parse error: unexpected".into() })
        );
        assert_eq!(
            parse(502, b"<html>Bad Gateway</html>"),
            Err(MetricsError::Http { status: 502, message: "<html>Bad Gateway</html>".into() })
        );
        assert!(matches!(parse(200, b"not json"), Err(MetricsError::Decode(_))));
        let string = br#"{"status":"success","data":{"resultType":"string","result":[1,"hello"]}}"#;
        assert!(matches!(parse(200, string), Err(MetricsError::Decode(_))));
    }

    #[test]
    fn huge_answers_are_capped() {
        let items: Vec<String> =
            (0..MAX_SERIES + 50).map(|i| format!(r#"{{"metric":{{"i":"{i}"}},"value":[1,"1"]}}"#)).collect();
        let body = format!(r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#, items.join(","));
        assert_eq!(parse(200, body.as_bytes()).unwrap().len(), MAX_SERIES);
    }
}
