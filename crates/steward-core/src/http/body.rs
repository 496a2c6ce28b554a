//! Decoding form bodies: `application/x-www-form-urlencoded`, `multipart/form-data` (fields only;
//! file parts are skipped, the CV goes straight to S3) and `application/json`. API Gateway's base64
//! is undone by the runtime adapter before this runs, see [`crate::lambda`].

use bytes::Bytes;
use serde_json::Value;

use crate::domain::forms::validation::FormInput;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("content type {0:?} is not supported; send application/x-www-form-urlencoded, multipart/form-data or application/json")]
    UnsupportedMediaType(String),
    #[error("the body is not valid UTF-8")]
    InvalidUtf8,
    #[error("the body is not valid base64")]
    InvalidBase64,
    #[error("the JSON body is malformed: {0}")]
    MalformedJson(String),
    #[error("the JSON body must be an object of field names to values")]
    JsonNotAnObject,
    #[error("the multipart body is malformed: {0}")]
    MalformedMultipart(String),
    #[error("the body is empty")]
    Empty,
}

/// Decodes a request body into form fields according to its `Content-Type`.
pub async fn decode_form(
    content_type: Option<&str>,
    body: &[u8],
    limit: usize,
) -> Result<FormInput, BodyError> {
    if body.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    let raw_type = content_type.unwrap_or("").trim();
    let media: mime::Mime =
        raw_type.parse().map_err(|_| BodyError::UnsupportedMediaType(truncate(raw_type)))?;
    if let Some(charset) = media.get_param(mime::CHARSET) {
        if !charset.as_str().eq_ignore_ascii_case("utf-8") {
            return Err(BodyError::UnsupportedMediaType(truncate(raw_type)));
        }
    }
    if body.is_empty() {
        return Err(BodyError::Empty);
    }
    match (media.type_(), media.subtype()) {
        (mime::APPLICATION, mime::WWW_FORM_URLENCODED) => decode_urlencoded(body),
        (mime::APPLICATION, mime::JSON) => decode_json(body),
        (mime::MULTIPART, mime::FORM_DATA) => {
            let boundary = media
                .get_param(mime::BOUNDARY)
                .ok_or_else(|| BodyError::MalformedMultipart("no boundary".into()))?;
            decode_multipart(boundary.as_str(), body, limit).await
        }
        _ => Err(BodyError::UnsupportedMediaType(truncate(raw_type))),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(100).collect()
}

/// Unlike `form_urlencoded`, which replaces bad bytes with U+FFFD silently, this refuses them.
fn decode_urlencoded(body: &[u8]) -> Result<FormInput, BodyError> {
    let decode = |part: &[u8]| -> Result<String, BodyError> {
        let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
        String::from_utf8(bytes).map_err(|_| BodyError::InvalidUtf8)
    };
    let mut input = FormInput::default();
    for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = decode(halves.next().unwrap_or_default())?;
        let value = decode(halves.next().unwrap_or_default())?;
        input.push(&name, value);
    }
    Ok(input)
}

/// A JSON object's members in the order sent, duplicates kept: `serde_json`'s own map keeps
/// only the last of a repeated name, which would let `{"email":"a","email":"b"}` pass as one
/// value. Kept whole, a repeated name is refused as a repeated form field is.
struct Members(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of field names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

fn decode_json(body: &[u8]) -> Result<FormInput, BodyError> {
    std::str::from_utf8(body).map_err(|_| BodyError::InvalidUtf8)?;
    let value: Value = serde_json::from_slice(body).map_err(|e| BodyError::MalformedJson(e.to_string()))?;
    if !value.is_object() {
        return Err(BodyError::JsonNotAnObject);
    }
    let Members(members) =
        serde_json::from_slice(body).map_err(|e| BodyError::MalformedJson(e.to_string()))?;
    let mut input = FormInput::default();
    for (name, value) in members {
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match &value {
            Value::Null => {}
            Value::Array(items) => match items.iter().map(scalar).collect::<Option<Vec<_>>>() {
                Some(values) => values.into_iter().for_each(|v| input.push(&name, v)),
                None => {
                    input.wrong_type.insert(name);
                }
            },
            other => match scalar(other) {
                Some(v) => input.push(&name, v),
                None => {
                    input.wrong_type.insert(name);
                }
            },
        }
    }
    Ok(input)
}

async fn decode_multipart(boundary: &str, body: &[u8], limit: usize) -> Result<FormInput, BodyError> {
    let malformed = |e: multer::Error| BodyError::MalformedMultipart(e.to_string());
    let data = Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(data) });
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().whole_stream(limit as u64));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut input = FormInput::default();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().map(str::to_owned);
        let is_file = field.file_name().is_some();
        let bytes = field.bytes().await.map_err(malformed)?;
        match name {
            Some(name) if !is_file => {
                let value = String::from_utf8(bytes.to_vec()).map_err(|_| BodyError::InvalidUtf8)?;
                input.push(&name, value);
            }
            _ => {} // files and unnamed parts are never stored
        }
    }
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn decode(content_type: &str, body: &[u8]) -> Result<FormInput, BodyError> {
        decode_form(Some(content_type), body, 1024).await
    }

    #[tokio::test]
    async fn urlencoded_fields_keep_unicode_and_repeats() {
        let input = decode(
            "application/x-www-form-urlencoded",
            b"name=Zo%C3%AB+%C3%91&interests=cloud&interests=events&empty=",
        )
        .await
        .unwrap();
        assert_eq!(input.values["name"], vec!["Zoë Ñ"]);
        assert_eq!(input.values["interests"], vec!["cloud", "events"]);
        assert_eq!(input.first("empty"), None);
    }

    #[tokio::test]
    async fn invalid_utf8_is_refused_in_every_content_type() {
        assert_eq!(
            decode("application/x-www-form-urlencoded", b"name=%FF").await,
            Err(BodyError::InvalidUtf8)
        );
        assert_eq!(decode("application/json", b"{\"name\":\"\xff\"}").await, Err(BodyError::InvalidUtf8));
        let multipart = b"--XX\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\r\n--XX--\r\n";
        assert_eq!(decode("multipart/form-data; boundary=XX", multipart).await, Err(BodyError::InvalidUtf8));
    }

    #[tokio::test]
    async fn json_values_become_fields_and_wrong_types_are_marked() {
        let input = decode(
            "application/json; charset=utf-8",
            br#"{"name":"A","rating":5,"interests":["cloud","events"],"nested":{"x":1},"skip":null}"#,
        )
        .await
        .unwrap();
        assert_eq!(input.values["rating"], vec!["5"]);
        assert_eq!(input.values["interests"].len(), 2);
        assert!(input.wrong_type.contains("nested"));
        assert!(!input.values.contains_key("skip"));
    }

    #[tokio::test]
    async fn a_repeated_json_name_is_kept_as_two_values_not_silently_the_last() {
        let input = decode("application/json", br#"{"email":"a@example.com","email":"b@example.com"}"#)
            .await
            .unwrap();
        assert_eq!(input.values["email"], vec!["a@example.com", "b@example.com"]);
        let input =
            decode("application/json", br#"{"email":["a@example.com","b@example.com"]}"#).await.unwrap();
        assert_eq!(input.values["email"].len(), 2, "an array is as many values, refused where one belongs");
    }

    #[tokio::test]
    async fn malformed_and_unsupported_bodies_are_named() {
        assert!(matches!(decode("application/json", b"{\"a\":").await, Err(BodyError::MalformedJson(_))));
        assert_eq!(decode("application/json", b"[1,2]").await, Err(BodyError::JsonNotAnObject));
        assert!(matches!(decode("text/plain", b"a=b").await, Err(BodyError::UnsupportedMediaType(_))));
        assert!(matches!(
            decode("application/json; charset=latin1", b"{}").await,
            Err(BodyError::UnsupportedMediaType(_))
        ));
        assert!(matches!(decode("multipart/form-data", b"x").await, Err(BodyError::MalformedMultipart(_))));
        assert!(matches!(
            decode("multipart/form-data; boundary=XX", b"garbage").await,
            Err(BodyError::MalformedMultipart(_))
        ));
        assert_eq!(decode("application/json", b"").await, Err(BodyError::Empty));
        assert_eq!(
            decode_form(None, b"a=b", 1024).await.map(|_| ()),
            Err(BodyError::UnsupportedMediaType(String::new()))
        );
        assert_eq!(
            decode_form(Some("application/json"), &[b' '; 2000], 1024).await,
            Err(BodyError::TooLarge { limit: 1024 })
        );
    }

    #[tokio::test]
    async fn multipart_keeps_fields_and_skips_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nZo\xc3\xab\r\n\
--XX\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"cv.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\r\n--XX--\r\n";
        let input = decode("multipart/form-data; boundary=XX", body).await.unwrap();
        assert_eq!(input.values["name"], vec!["Zoë"]);
        assert!(!input.values.contains_key("cv"));
    }
}
