//! Presigned S3 POST uploads (browser-based uploads with a signed policy, AWS Signature V4).
//!
//! The AWS SDK for Rust cannot presign a POST (awslabs/aws-sdk-rust#863), so the policy is built
//! here and signed with `aws-sigv4`'s primitives (signing-key derivation and HMAC), exactly as
//! "Browser-Based Uploads Using POST (AWS Signature Version 4)" describes. Every condition is an
//! exact match except the size range: the browser can change nothing the server decided.

use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;

use crate::domain::careers::{PresignedPost, UploadRules, UploadSigner};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const AMZ_DATE: &[FormatItem<'static>] = format_description!("[year][month][day]T[hour][minute][second]Z");
const SCOPE_DATE: &[FormatItem<'static>] = format_description!("[year][month][day]");
const EXPIRATION: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// The credentials the policy is signed with (the function's own role in Lambda).
#[derive(Clone)]
pub struct SigningCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for SigningCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningCredentials({}, <redacted>)", self.access_key_id)
    }
}

/// The hex signature of a base64 policy: HMAC-SHA-256 with the SigV4 signing key of the day.
pub fn sign_policy(policy_base64: &str, secret_access_key: &str, at: SystemTime, region: &str) -> String {
    let signing_key = aws_sigv4::sign::v4::generate_signing_key(secret_access_key, at, region, "s3");
    aws_sigv4::sign::v4::calculate_signature(signing_key, policy_base64.as_bytes())
}

/// Signs upload grants for one bucket with one set of credentials (the function's own role).
#[derive(Debug, Clone)]
pub struct S3PostSigner {
    pub credentials: SigningCredentials,
    pub region: String,
    /// The URL browsers POST to.
    pub bucket_url: String,
}

impl UploadSigner for S3PostSigner {
    fn presign(&self, rules: &UploadRules<'_>, now: SystemTime) -> PresignedPost {
        presign_post(rules, &self.credentials, &self.region, self.bucket_url.clone(), now)
    }
}

/// Where browsers POST: the regional virtual-hosted bucket URL in AWS, or the endpoint override
/// (the local S3) in path style.
pub fn bucket_url(bucket: &str, region: &str, endpoint_override: Option<&str>) -> String {
    match endpoint_override {
        Some(endpoint) => format!("{}/{bucket}", endpoint.trim_end_matches('/')),
        None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
    }
}

pub fn presign_post(
    rules: &UploadRules<'_>,
    credentials: &SigningCredentials,
    region: &str,
    bucket_url: String,
    now: SystemTime,
) -> PresignedPost {
    let now_utc = OffsetDateTime::from(now);
    let expires_at = now + rules.valid_for;
    let amz_date = now_utc.format(AMZ_DATE).expect("a UTC time formats");
    let credential = format!(
        "{}/{}/{region}/s3/aws4_request",
        credentials.access_key_id,
        now_utc.format(SCOPE_DATE).expect("a UTC time formats")
    );

    let mut fields: Vec<(String, String)> = vec![
        ("key".into(), rules.key.into()),
        ("Content-Type".into(), rules.content_type.into()),
        ("success_action_status".into(), "201".into()),
        ("x-amz-server-side-encryption".into(), rules.server_side_encryption.into()),
    ];
    for (name, value) in &rules.metadata {
        fields.push((format!("x-amz-meta-{name}"), value.clone()));
    }
    fields.push(("x-amz-algorithm".into(), ALGORITHM.into()));
    fields.push(("x-amz-credential".into(), credential));
    fields.push(("x-amz-date".into(), amz_date));
    if let Some(token) = &credentials.session_token {
        fields.push(("x-amz-security-token".into(), token.clone()));
    }

    let mut conditions = vec![json!({ "bucket": rules.bucket })];
    conditions.extend(fields.iter().map(|(name, value)| json!({ name.as_str(): value })));
    conditions.push(json!(["content-length-range", 1, rules.max_bytes]));
    let policy = json!({
        "expiration": OffsetDateTime::from(expires_at).format(EXPIRATION).expect("a UTC time formats"),
        "conditions": conditions,
    });
    let policy_base64 = STANDARD.encode(serde_json::to_vec(&policy).expect("JSON serializes"));
    let signature = sign_policy(&policy_base64, &credentials.secret_access_key, now, region);
    fields.push(("policy".into(), policy_base64));
    fields.push(("x-amz-signature".into(), signature));
    PresignedPost { url: bucket_url, fields, expires_at, policy }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// AWS's published example ("Example: Browser-Based Upload using HTTP POST (Using AWS
    /// Signature Version 4)"): its base64 policy, example credentials and expected signature.
    const AWS_EXAMPLE_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const AWS_EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const AWS_EXAMPLE_SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

    fn at(epoch: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(epoch)
    }

    #[test]
    fn the_signature_matches_the_aws_published_example() {
        // 2015-12-29T00:00:00Z, the example's x-amz-date.
        let signature = sign_policy(AWS_EXAMPLE_POLICY, AWS_EXAMPLE_SECRET, at(1_451_347_200), "us-east-1");
        assert_eq!(signature, AWS_EXAMPLE_SIGNATURE);
    }

    fn cv_rules() -> UploadRules<'static> {
        UploadRules {
            bucket: "steward-cvs",
            key: "cv/app-1/0f0f",
            content_type: "application/pdf",
            max_bytes: 10 * 1024 * 1024,
            metadata: vec![("application-id", "app-1".into())],
            server_side_encryption: "AES256",
            valid_for: Duration::from_secs(300),
        }
    }

    #[test]
    fn the_policy_pins_every_field_the_server_decided() {
        let credentials = SigningCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: AWS_EXAMPLE_SECRET.into(),
            session_token: Some("session".into()),
        };
        let post =
            presign_post(&cv_rules(), &credentials, "eu-west-1", "https://b".into(), at(1_451_347_200));
        let conditions = post.policy["conditions"].as_array().unwrap();
        for expected in [
            json!({"bucket": "steward-cvs"}),
            json!({"key": "cv/app-1/0f0f"}),
            json!({"Content-Type": "application/pdf"}),
            json!({"x-amz-server-side-encryption": "AES256"}),
            json!({"x-amz-meta-application-id": "app-1"}),
            json!({"x-amz-security-token": "session"}),
            json!({"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/eu-west-1/s3/aws4_request"}),
            json!({"x-amz-algorithm": "AWS4-HMAC-SHA256"}),
            json!({"x-amz-date": "20151229T000000Z"}),
            json!(["content-length-range", 1, 10485760]),
        ] {
            assert!(conditions.contains(&expected), "{expected} in {conditions:?}");
        }
        assert!(
            !conditions.iter().any(|c| c.is_array() && c[0] == "starts-with"),
            "no prefix conditions: the key and type are exact"
        );
        assert_eq!(post.policy["expiration"], "2015-12-29T00:05:00.000Z");
        let field = |name: &str| post.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        let decoded: serde_json::Value =
            serde_json::from_slice(&STANDARD.decode(field("policy")).unwrap()).unwrap();
        assert_eq!(decoded, post.policy);
        assert_eq!(
            field("x-amz-signature"),
            sign_policy(&field("policy"), AWS_EXAMPLE_SECRET, at(1_451_347_200), "eu-west-1")
        );
        assert_eq!(post.fields.last().unwrap().0, "x-amz-signature", "the file comes after every field");
    }

    #[tokio::test]
    async fn the_careers_use_case_through_the_s3_signer_allows_exactly_its_upload() {
        use crate::domain::careers::{authorize_upload, upload_token, CvBucket, UploadRequest};
        use crate::domain::ids::{ProfileId, SubmissionId};
        use crate::token::TokenKeys;

        let keys = TokenKeys::everywhere(
            crate::token::KeyRing::parse("k1:0123456789abcdef0123456789abcdef").unwrap(),
        );
        let now = at(1_451_347_200);
        let token = upload_token(
            &keys,
            &SubmissionId::new_random(),
            &ProfileId::new_random(),
            now,
            Duration::from_secs(60),
        );
        let bucket = CvBucket {
            name: "cvs".into(),
            url: "https://cvs.s3.eu-west-1.amazonaws.com/".into(),
            region: "eu-west-1".into(),
            max_bytes: 1000,
            url_valid_for: Duration::from_secs(300),
        };
        let signer = S3PostSigner {
            credentials: SigningCredentials {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: AWS_EXAMPLE_SECRET.into(),
                session_token: None,
            },
            region: bucket.region.clone(),
            bucket_url: bucket.url.clone(),
        };
        let request =
            UploadRequest { token, content_type: "application/pdf".into(), file_name: Some("cv.pdf".into()) };
        let uploads =
            crate::adapters::memory::MemoryStore::new(crate::secret::SecretKey::new(*b"0123456789abcdef"));
        let (_, key, post) =
            authorize_upload(&keys, &bucket, &signer, &uploads, &request, now).await.unwrap();
        let field = |name: &str| post.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(post.url, bucket.url);
        assert_eq!(field("key"), key);
        assert_eq!(field("Content-Type"), "application/pdf");
        assert_eq!(field("x-amz-meta-original-filename"), "cv.pdf");
        assert_eq!(
            field("x-amz-signature"),
            sign_policy(&field("policy"), AWS_EXAMPLE_SECRET, now, "eu-west-1")
        );
    }
}
