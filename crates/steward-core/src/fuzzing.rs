//! Entry points for the fuzz targets in `fuzz/` (`make fuzz`) and for replaying, as ordinary
//! tests, every input they ever crashed on (`tests/fuzz_regressions.rs`). Each takes arbitrary
//! bytes and must return without panicking; some also check a property that must always hold.

use std::sync::OnceLock;

use crate::config::Config;
use crate::domain::forms::catalogue::{Catalogue, BUILT_IN};
use crate::domain::forms::validation::{validate, FormInput};
use crate::domain::ids::ProfileId;
use crate::token::{KeyRing, Purpose, TokenKeys};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}

const LIMIT: usize = 64 * 1024;

/// Body decoding: the first byte picks the content type (or the first line is one).
pub fn body(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (content_type, body): (String, &[u8]) = match selector % 5 {
        0 => ("application/x-www-form-urlencoded".into(), rest),
        1 => ("application/json".into(), rest),
        2 => ("multipart/form-data; boundary=X".into(), rest),
        3 => ("multipart/form-data; boundary=\"a b\"; charset=utf-8".into(), rest),
        _ => {
            let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            (String::from_utf8_lossy(&rest[..split]).into_owned(), rest.get(split + 1..).unwrap_or_default())
        }
    };
    let _ = runtime().block_on(crate::http::body::decode_form(Some(&content_type), body, LIMIT));
}

/// An API Gateway event whose body is flagged base64, as the runtime adapter receives it.
pub fn base64_event(data: &[u8]) {
    use lambda_http::request::LambdaRequest;
    use lambda_http::{Context, LambdaEvent, Request};
    static SAMPLE: &str = include_str!("../../../events/submit-form/newsletter-json.json");
    let mut event: serde_json::Value = serde_json::from_str(SAMPLE).expect("the sample event is JSON");
    event["isBase64Encoded"] = true.into();
    event["body"] = String::from_utf8_lossy(data).into_owned().into();
    event["headers"]["content-type"] = "application/x-www-form-urlencoded".into();
    let Ok(event) = serde_json::from_value::<LambdaRequest>(event) else { return };
    let request: Request =
        crate::lambda::guard_body(LambdaEvent::new(event, Context::default())).payload.into();
    let body = crate::lambda::body_bytes(&request);
    let _ = runtime().block_on(crate::http::body::decode_form(
        Some("application/x-www-form-urlencoded"),
        body,
        LIMIT,
    ));
}

/// An API Gateway event with arbitrary bytes in its path, query, a header value, its Host and its
/// method: admitted and converted as the runtime does, it must never panic, and what is admitted
/// must convert.
pub fn event(data: &[u8]) {
    use lambda_http::Request;
    static SAMPLE: &str = include_str!("../../../events/submit-form/newsletter-json.json");
    let mut event: serde_json::Value = serde_json::from_str(SAMPLE).expect("the sample event is JSON");
    let mut parts = data.split(|b| *b == 0xff).map(|part| String::from_utf8_lossy(part).into_owned());
    let mut next = || parts.next().unwrap_or_default();
    event["rawQueryString"] = next().into();
    event["rawPath"] = format!("/{}", next()).into();
    event["headers"]["user-agent"] = next().into();
    let host = next();
    if !host.is_empty() {
        event["headers"]["host"] = host.into();
    }
    let method = next();
    if !method.is_empty() {
        event["requestContext"]["http"]["method"] = method.into();
    }
    let request: Request = crate::lambda::admit(event).into();
    let _ = request.uri().query();
}

fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "TABLE_NAME" => "fuzz",
                    "ALLOWED_ORIGINS" => "https://www.example.com",
                    "SITE_URL" => "https://www.example.com",
                    "POLICY_VERSION" => "2018-03-23",
                    "HASH_KEY" => "fuzzing-hash-key-0123456789abcdef",
                    "PUBLIC_API_URL" => "https://api.example.com",
                    _ => return None,
                }
                .to_owned(),
            )
        })
        .expect("the fuzzing configuration is valid");
        Catalogue::load(BUILT_IN, &config).expect("the built-in catalogue loads")
    })
}

/// Form validation: the first byte picks the form; then NUL-separated name/value pairs, where a
/// one-byte name picks one of the form's fields (so values reach every validator).
pub fn form(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let forms: Vec<_> = catalogue().forms().collect();
    let form = forms[selector as usize % forms.len()];
    let mut input = FormInput::default();
    let mut parts = rest.split(|&b| b == 0);
    while let (Some(name), Some(value)) = (parts.next(), parts.next()) {
        let name = match name {
            [index] => form
                .fields
                .get(*index as usize % (form.fields.len() + 1))
                .map_or("interests", |f| &f.name)
                .to_owned(),
            other => String::from_utf8_lossy(other).into_owned(),
        };
        input.push(&name, String::from_utf8_lossy(value).into_owned());
    }
    if let Ok(valid) = validate(form, &input) {
        // What validation accepts is what the rest of the code relies on.
        assert!(valid.email.as_str().contains('@'));
        assert!(valid.name.as_deref().is_none_or(|n| !n.chars().any(char::is_control)));
    }
}

const PURPOSES: [Purpose; 11] = [
    Purpose::CvUpload,
    Purpose::Payment,
    Purpose::ConfirmSubscription,
    Purpose::Unsubscribe,
    Purpose::Preferences,
    Purpose::SignIn,
    Purpose::Session,
    Purpose::ExportConfirm,
    Purpose::ExportDownload,
    Purpose::EmailChange,
    Purpose::EmailChangeUndo,
];

/// Token parsing: arbitrary text as a token for every purpose, and as a key list; a token signed
/// for any subject verifies to that subject.
pub fn token(data: &[u8]) {
    static KEYS: OnceLock<TokenKeys> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        TokenKeys::everywhere(
            KeyRing::parse(
                "f1:fuzzing-token-key-0123456789abcdef,f0@2026-01-01:older-fuzzing-key-0123456789abcdef",
            )
            .unwrap(),
        )
    });
    let text = String::from_utf8_lossy(data);
    for purpose in PURPOSES {
        let _ = keys.verify(&text, purpose, 1_795_944_600);
    }
    let _ = KeyRing::parse(&text);
    let _ = keys.verify_even_retired(&text, Purpose::Unsubscribe, 1_795_944_600);
    let signed = keys.sign(Purpose::Unsubscribe, &text, &ProfileId::from_stored("profile".to_owned()), None);
    let claims = keys.verify(&signed, Purpose::Unsubscribe, 1_795_944_600);
    if signed.len() <= 2048 {
        assert_eq!(claims.map(|c| c.subject), Ok(text.into_owned()), "a signed token verifies");
    }
}

/// Stripe-Signature parsing: arbitrary headers never panic; a signature made as Stripe makes it,
/// for any timestamp and body, verifies or is stale.
pub fn stripe_signature(data: &[u8]) {
    use crate::adapters::stripe::signature::{verify, SignatureError};
    use hmac::Mac;
    const NOW: i64 = 1_795_944_600;
    let secrets = ["whsec_fuzz".to_owned()];
    let _ = verify(Some(&String::from_utf8_lossy(data)), b"{}", &secrets, 300, NOW);
    if data.len() < 8 {
        return;
    }
    let (stamp, payload) = data.split_at(8);
    let timestamp = i64::from_le_bytes(stamp.try_into().expect("eight bytes"));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"whsec_fuzz").expect("any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload);
    let header = format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()));
    let outcome = verify(Some(&header), payload, &secrets, 300, NOW);
    assert!(
        matches!(outcome, Ok(t) if t == timestamp) || outcome == Err(SignatureError::Stale),
        "{outcome:?}"
    );
}
