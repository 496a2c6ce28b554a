//! Facts that live in two places and must agree: the template's lifecycle for CVs and the careers
//! form's retention in the catalogue.

use steward_core::catalogue::{Catalogue, BUILT_IN};
use steward_core::config::Config;

/// The `Default:` of a template parameter (the template is YAML with CloudFormation tags, so it
/// is read as text here rather than with a YAML library that rejects the tags).
fn parameter_default(name: &str) -> String {
    let template = std::fs::read_to_string(steward_blackbox::root().join("template.yaml")).unwrap();
    let mut lines = template.lines().skip_while(|l| l.trim_end() != format!("  {name}:"));
    lines.next().unwrap_or_else(|| panic!("parameter {name} is missing"));
    lines
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix("Default:").map(|v| v.trim().trim_matches('"').to_owned()))
        .unwrap_or_else(|| panic!("parameter {name} has no default"))
}

#[test]
fn given_the_careers_form_then_the_cv_lifecycle_keeps_cvs_exactly_as_long_as_applications() {
    let env = steward_blackbox::local_env();
    let config = Config::from_lookup(|name| {
        let key = match name {
            "TABLE_NAME" => return Some("t".into()),
            "ALLOWED_ORIGINS" => "AllowedOrigins",
            "SITE_URL" => "SiteUrl",
            "POLICY_VERSION" => "PolicyVersion",
            "HASH_KEY" => "HASH_KEY",
            "TOKEN_KEYS" => "TOKEN_KEYS",
            "PUBLIC_API_URL" => "PublicApiUrl",
            _ => return None,
        };
        env.get(key).cloned()
    })
    .unwrap();
    let catalogue = Catalogue::load(BUILT_IN, &config).unwrap();
    let careers = catalogue.form("careers").unwrap();
    assert!(careers.cv_upload);
    assert_eq!(parameter_default("CvRetentionDays"), careers.retention_days.to_string());
    assert_eq!(env["CvRetentionDays"], careers.retention_days.to_string());
}

#[test]
fn given_the_template_then_every_function_has_sample_events_that_parse() {
    let root = steward_blackbox::root();
    let template = std::fs::read_to_string(root.join("template.yaml")).unwrap();
    let binaries: Vec<&str> =
        template.lines().filter_map(|l| l.trim().strip_prefix("Binary: ")).map(str::trim).collect();
    assert!(binaries.len() >= 10, "{binaries:?}");
    for binary in binaries {
        let dir = root.join("events").join(binary);
        let samples: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("events/{binary} is missing"))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        assert!(!samples.is_empty(), "events/{binary} has no sample");
        for sample in samples {
            let text = std::fs::read_to_string(&sample).unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{sample:?}: {e}"));
        }
    }
}

#[test]
fn given_every_function_then_its_aws_clients_use_the_shared_timeouts_and_retries() {
    let root = steward_blackbox::root();
    let mut mains: Vec<_> = std::fs::read_dir(root.join("functions"))
        .unwrap()
        .flatten()
        .map(|d| d.path().join("src/main.rs"))
        .collect();
    mains.push(root.join("crates/steward-admin/src/main.rs"));
    for main in mains {
        let source = std::fs::read_to_string(&main).unwrap();
        assert!(!source.contains("load_defaults"), "{main:?} builds its own SDK configuration");
        assert!(source.contains("steward_core::aws::load("), "{main:?} uses steward_core::aws::load");
    }
}

/// Each function's `SECRET_IDS` (what it reads at cold start) and the secrets its policy lets it
/// read are the same set, and only the payments and webhook functions see a Stripe secret.
#[test]
fn given_every_function_then_it_may_read_exactly_the_secrets_it_is_told_to_read() {
    let template = std::fs::read_to_string(steward_blackbox::root().join("template.yaml")).unwrap();
    // One block per resource: a line indented by exactly two spaces starts the next one.
    let mut blocks: Vec<Vec<&str>> = vec![];
    for line in template.lines() {
        let starts_resource =
            line.starts_with("  ") && !line.starts_with("   ") && !line.trim_start().starts_with('#');
        match blocks.last_mut() {
            Some(block) if !starts_resource => block.push(line),
            _ => blocks.push(vec![line]),
        }
    }
    let refs = |line: &&str| -> Vec<String> {
        line.split("!Ref ").skip(1).map(|r| r.trim_end_matches([']', ',', ' ']).trim().to_owned()).collect()
    };
    let mut functions = vec![];
    for block in blocks.iter().filter(|b| b.iter().any(|l| l.trim() == "Type: AWS::Serverless::Function")) {
        let name = block[0].trim().trim_end_matches(':').to_owned();
        let mut told: Vec<String> =
            block.iter().filter(|l| l.trim_start().starts_with("SECRET_IDS:")).flat_map(refs).collect();
        let mut allowed: Vec<String> =
            block.iter().filter(|l| l.trim_start().starts_with("SecretArn:")).flat_map(refs).collect();
        told.sort();
        allowed.sort();
        assert_eq!(told, allowed, "{name}: SECRET_IDS and its secret policies differ");
        assert_eq!(told.is_empty(), name == "VerifyCvFunction", "{name} reads {told:?}");
        let stripe = told.iter().any(|s| s.starts_with("Stripe"));
        assert_eq!(stripe, matches!(name.as_str(), "PaymentsFunction" | "StripeWebhookFunction"), "{name}");
        functions.push(name);
    }
    let functions = functions.len();
    for expected in ["SubmitFormFunction", "PaymentsFunction", "StripeWebhookFunction"] {
        assert!(blocks.iter().any(|b| b[0].trim() == format!("{expected}:")), "{expected} not found");
    }
    assert!(functions >= 10, "{functions} functions found");
}
