//! Facts that live in two places and must agree: the template's lifecycle for CVs and the careers
//! form's retention in the catalogue.

use steward_core::config::Config;
use steward_core::domain::forms::catalogue::{Catalogue, BUILT_IN};

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
    // Functions take Lambda's environment alone (`aws::lambda`); the operator's command, run
    // anywhere, the SDK's whole default chain (`aws::load`). Both set the shared timeouts.
    let root = steward_blackbox::root();
    let mains = std::fs::read_dir(root.join("functions"))
        .unwrap()
        .flatten()
        .map(|d| (d.path().join("src/main.rs"), "steward_core::adapters::aws::lambda("));
    let operator = (root.join("crates/steward-admin/src/context.rs"), "steward_core::adapters::aws::load(");
    for (main, loader) in mains.chain([operator]) {
        let source = std::fs::read_to_string(&main).unwrap();
        assert!(!source.contains("load_defaults"), "{main:?} builds its own SDK configuration");
        assert!(!source.contains("aws_config::defaults"), "{main:?} builds its own SDK configuration");
        assert!(source.contains(loader), "{main:?} uses {loader}");
        assert!(
            !main.starts_with(root.join("functions")) || !source.contains("adapters::aws::load("),
            "{main:?} is a function: the default chain is the operator's"
        );
    }
}

fn template() -> String {
    std::fs::read_to_string(steward_blackbox::root().join("template.yaml")).unwrap()
}

/// One block of lines per top-level entry (resource, parameter, output): a line indented by
/// exactly two spaces starts the next one.
fn blocks(template: &str) -> Vec<Vec<&str>> {
    let mut blocks: Vec<Vec<&str>> = vec![];
    for line in template.lines() {
        let starts_resource =
            line.starts_with("  ") && !line.starts_with("   ") && !line.trim_start().starts_with('#');
        match blocks.last_mut() {
            Some(block) if !starts_resource => block.push(line),
            _ => blocks.push(vec![line]),
        }
    }
    blocks
}

/// The block of the resource with this logical id, if there is one.
fn resource<'a>(blocks: &'a [Vec<&'a str>], name: &str) -> Option<&'a Vec<&'a str>> {
    blocks.iter().find(|b| b[0].trim() == format!("{name}:"))
}

/// The entries a `Fn::ForEach` loop's fragment writes for each item of its collection, one block
/// of lines each, `${Identifier}` still in them. The fragment's keys are indented by six spaces,
/// the first one after the `    - ` that starts the loop's third element; each block's first line
/// is the key alone (`${Stem}ErrorsAlarm:`), as `resource` finds it.
fn loop_fragment<'a>(block: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut entries: Vec<Vec<&'a str>> = vec![];
    for &line in block.iter().skip(1) {
        match line.strip_prefix("    - ").or_else(|| line.strip_prefix("      ")) {
            Some(key) if !key.starts_with([' ', '#']) && key.trim_end().ends_with(':') => {
                entries.push(vec![key])
            }
            _ => {
                if let Some(entry) = entries.last_mut() {
                    entry.push(line);
                }
            }
        }
    }
    entries
}

/// The local stack and checkov read the template with its loop written out
/// (`infra/local/steward_local/language_extensions.py`), as CloudFormation does: every function
/// gets its own three resources, each naming that function, and nothing of the loop is left.
#[test]
fn given_the_alarms_loop_when_expanded_as_the_local_stack_does_then_every_function_has_its_own() {
    let out = std::env::temp_dir().join(format!("steward-expanded-{}.json", std::process::id()));
    let status = std::process::Command::new(steward_blackbox::python())
        .arg(steward_blackbox::root().join("infra/local/language_extensions.py"))
        .arg("--out")
        .arg(&out)
        .status()
        .expect("the project's Python runs");
    assert!(status.success(), "the expansion failed");
    let expanded: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    std::fs::remove_file(&out).ok();
    assert_eq!(expanded["Transform"], "AWS::Serverless-2016-10-31", "the loop's transform is done with");
    let resources = expanded["Resources"].as_object().unwrap();
    assert!(!resources.keys().any(|name| name.starts_with("Fn::ForEach")), "no loop is left");
    let functions: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, _)| name)
        .collect();
    assert!(functions.len() >= 10, "{functions:?}");
    for function in functions {
        let stem = function.strip_suffix("Function").unwrap();
        let this_function = serde_json::json!({ "Ref": function });
        let failures = &resources[&format!("{stem}FailuresMetric")]["Properties"];
        assert_eq!(failures["LogGroupName"], serde_json::json!({ "Ref": format!("{stem}LogGroup") }));
        let errors = &resources[&format!("{stem}ErrorsAlarm")]["Properties"];
        let named: Vec<&serde_json::Value> = errors["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|metric| metric["MetricStat"]["Metric"]["Dimensions"][0].get("Value"))
            .collect();
        assert_eq!(named, [&this_function, &this_function], "{stem}ErrorsAlarm");
        let throttles = &resources[&format!("{stem}ThrottlesAlarm")]["Properties"];
        assert_eq!(throttles["Dimensions"][0]["Value"], this_function, "{stem}ThrottlesAlarm");
        let text = serde_json::to_string(&resources[&format!("{stem}ErrorsAlarm")]).unwrap();
        assert!(!text.contains("Stem}"), "{stem}: the loop's identifier is substituted everywhere");
    }
}

/// Every function is watched: its errors (Lambda's, and the 5xx answers its log lines count) and
/// throttles raise an alarm, its logs expire, and it is traced; every dead-letter queue alarms
/// when anything lands in it; webhook failures and the SES account's bounce and complaint rates
/// alarm; and every alarm goes to the alarm topic, both ways. The per-function metric filter and
/// alarms are written once, in the `Fn::ForEach::FunctionAlarms` loop (`AWS::LanguageExtensions`):
/// its collection lists every function's stem, and its fragment is checked once for all of them.
#[test]
fn given_the_template_then_every_function_and_dead_letter_queue_is_watched() {
    let template = template();
    let blocks = blocks(&template);
    let has = |block: &Vec<&str>, text: &str| block.iter().any(|l| l.trim() == text);
    let functions: Vec<String> = blocks
        .iter()
        .filter(|b| has(b, "Type: AWS::Serverless::Function"))
        .map(|b| b[0].trim().trim_end_matches(':').to_owned())
        .collect();
    assert!(functions.len() >= 10, "{functions:?}");
    for function in &functions {
        let stem = function.strip_suffix("Function").unwrap();
        let log_group =
            resource(&blocks, &format!("{stem}LogGroup")).unwrap_or_else(|| panic!("{stem}LogGroup"));
        assert!(has(log_group, &format!("LogGroupName: !Sub \"/aws/lambda/${{{function}}}\"")), "{function}");
        assert!(has(log_group, "RetentionInDays: !Ref LogRetentionDays"), "{function}");
    }
    assert!(template.contains("\n    Tracing: Active\n"), "X-Ray tracing for every function (Globals)");

    assert!(
        template.contains("\nTransform:\n  - AWS::LanguageExtensions\n  - AWS::Serverless-2016-10-31\n"),
        "Fn::ForEach needs the AWS::LanguageExtensions transform, before SAM's"
    );
    let function_alarms =
        resource(&blocks, "Fn::ForEach::FunctionAlarms").expect("the per-function alarms loop");
    assert!(has(function_alarms, "- Stem"), "the loop's identifier is Stem");
    let collection = function_alarms
        .iter()
        .find_map(|l| l.strip_prefix("    - ["))
        .and_then(|l| l.trim_end().strip_suffix(']'))
        .expect("the loop's collection, on one line: `    - [SubmitForm, ...]`");
    let mut listed: Vec<&str> = collection.split(',').map(str::trim).collect();
    listed.sort_unstable();
    let mut stems: Vec<&str> = functions.iter().map(|f| f.strip_suffix("Function").unwrap()).collect();
    stems.sort_unstable();
    assert_eq!(listed, stems, "Fn::ForEach::FunctionAlarms lists every function's stem, and no other");

    let fragment = loop_fragment(function_alarms);
    let function_ref = r#"Value: {Ref: !Sub "${Stem}Function"}"#;
    let failures = resource(&fragment, "${Stem}FailuresMetric").expect("a failures metric filter");
    assert!(has(failures, "Type: AWS::Logs::MetricFilter"));
    assert!(has(failures, r#"LogGroupName: {Ref: !Sub "${Stem}LogGroup"}"#));
    assert!(has(failures, r#"FilterPattern: '{ $.outcome = "error" }'"#));
    let errors = resource(&fragment, "${Stem}ErrorsAlarm").expect("an errors alarm");
    assert!(has(errors, "MetricName: Errors") && has(errors, "MetricName: FailedOperations"));
    assert_eq!(errors.iter().filter(|l| l.trim() == function_ref).count(), 2, "{errors:?}");
    let throttles = resource(&fragment, "${Stem}ThrottlesAlarm").expect("a throttles alarm");
    assert!(has(throttles, "MetricName: Throttles") && has(throttles, function_ref));

    let dead_letter_queues: Vec<&str> = template
        .lines()
        .filter_map(|l| l.trim().strip_prefix("deadLetterTargetArn: !GetAtt "))
        .map(|l| l.trim_end_matches(".Arn"))
        .collect();
    assert!(dead_letter_queues.len() >= 2, "{dead_letter_queues:?}");
    for queue in dead_letter_queues {
        let alarm = resource(&blocks, &format!("{queue}Alarm")).unwrap_or_else(|| panic!("{queue}Alarm"));
        assert!(has(alarm, &format!("Value: !GetAtt {queue}.QueueName")), "{queue}");
        assert!(has(alarm, "MetricName: ApproximateNumberOfMessagesVisible"), "{queue}");
    }
    for (alarm, metric) in [
        ("WebhookFailuresAlarm", "MetricName: WebhookFailures"),
        ("SesBounceRateAlarm", "MetricName: Reputation.BounceRate"),
        ("SesComplaintRateAlarm", "MetricName: Reputation.ComplaintRate"),
    ] {
        let block = resource(&blocks, alarm).unwrap_or_else(|| panic!("{alarm}"));
        assert!(has(block, metric), "{alarm}");
    }
    // The alarms written out, and those the loop writes once per stem.
    let is_alarm = |b: &&Vec<&str>| has(b, "Type: AWS::CloudWatch::Alarm");
    let written_out: Vec<&Vec<&str>> =
        blocks.iter().filter(|b| !b[0].trim().starts_with("Fn::ForEach::")).filter(is_alarm).collect();
    let per_function: Vec<&Vec<&str>> = fragment.iter().filter(is_alarm).collect();
    assert_eq!(per_function.len(), 2, "an errors and a throttles alarm per function");
    assert!(written_out.len() + per_function.len() * listed.len() >= 2 * functions.len() + 5);
    for alarm in written_out.iter().chain(&per_function) {
        assert!(
            has(alarm, "AlarmActions: [!Ref AlarmTopic]") && has(alarm, "OKActions: [!Ref AlarmTopic]"),
            "{}",
            alarm[0]
        );
        assert!(has(alarm, "TreatMissingData: notBreaching"), "{}", alarm[0]);
    }
}

/// Each function's `SECRET_IDS` (what it reads at cold start) and the secrets its policy lets it
/// read are the same set, only the payments and webhook functions see a Stripe secret, and each
/// token key family goes to the functions that sign or check its purposes and to no other.
#[test]
fn given_every_function_then_it_may_read_exactly_the_secrets_it_is_told_to_read() {
    let template = template();
    let blocks = blocks(&template);
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
        assert!(!told.is_empty(), "{name} reads its keys from Secrets Manager, not its environment");
        if name == "VerifyCvFunction" {
            assert_eq!(told, ["HashKeySecret"], "verify-cv holds no token key: it only counts verdict mails");
        }
        let stripe = told.iter().any(|s| s.starts_with("Stripe"));
        // Erasure reaches Stripe through the deliveries function (it cancels and deletes there).
        let stripe_users = ["PaymentsFunction", "StripeWebhookFunction", "DeliveriesFunction"];
        assert_eq!(stripe, stripe_users.contains(&name.as_str()), "{name}");
        let families: Vec<&str> =
            told.iter().filter(|s| s.ends_with("KeysSecret")).map(String::as_str).collect();
        let expected: &[&str] = match name.as_str() {
            "SubmitFormFunction" => &["ConsentKeysSecret", "CvUploadKeysSecret", "PaymentKeysSecret"],
            "CvUploadFunction" => &["CvUploadKeysSecret"],
            "PaymentsFunction" => &["PaymentKeysSecret"],
            "UnsubscribeFunction" => &["ConsentKeysSecret", "MailLinkKeysSecret"],
            "PrivacyFunction" => &["PrivacyCenterKeysSecret"],
            "DeliveriesFunction" => &["WebhookKeysSecret"],
            _ => &[],
        };
        assert_eq!(families, expected, "{name}'s token keys");
        functions.push(name);
    }
    let operator = resource(&blocks, "OperatorPolicy").expect("the operator's policy");
    let operator_keys: Vec<&str> = operator
        .iter()
        .filter_map(|l| l.trim().strip_prefix("- !Ref "))
        .filter(|r| r.ends_with("KeysSecret"))
        .collect();
    assert_eq!(
        operator_keys,
        ["MailLinkKeysSecret", "WebhookKeysSecret"],
        "the operator signs campaign links and gives webhook receivers their secrets, nothing else"
    );
    let functions = functions.len();
    for expected in ["SubmitFormFunction", "PaymentsFunction", "StripeWebhookFunction"] {
        assert!(blocks.iter().any(|b| b[0].trim() == format!("{expected}:")), "{expected} not found");
    }
    assert!(functions >= 10, "{functions} functions found");
}

/// A deployment sends what its template says, never a default written for somewhere else: every
/// setting a function reads by name is set in its template block (or comes from its secrets), and
/// nothing the template deploys names a placeholder domain.
#[test]
fn given_the_template_then_every_setting_a_function_reads_is_set_and_none_is_a_placeholder() {
    let template = template();
    let blocks = blocks(&template);
    // Read from Secrets Manager (SECRET_IDS), not from the block's variables.
    let from_secrets = [
        "HASH_KEY",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRETS",
        "TURNSTILE_SECRET_KEY",
        "WEBHOOK_SIGNING_KEY",
    ];
    let functions = std::fs::read_dir(steward_blackbox::root().join("functions")).unwrap();
    let mut checked = 0;
    for dir in functions.map(|entry| entry.unwrap().path()) {
        let binary = dir.file_name().unwrap().to_string_lossy().into_owned();
        // Every source file of the function: settings are read in handlers too.
        let main: String = std::fs::read_dir(dir.join("src"))
            .unwrap()
            .map(|file| std::fs::read_to_string(file.unwrap().path()).unwrap())
            .collect();
        let block = blocks
            .iter()
            .find(|b| b.iter().any(|l| l.trim() == format!("Binary: {binary}")))
            .unwrap_or_else(|| panic!("no template resource builds {binary}"));
        let mut names: Vec<&str> = ["env.required(\"", "env.optional(\"", "env.origins(\""]
            .iter()
            .flat_map(|call| main.split(call).skip(1).filter_map(|rest| rest.split('"').next()))
            .collect();
        if main.contains("Config::from_env") {
            names.extend(["TABLE_NAME", "ALLOWED_ORIGINS", "SITE_URL", "POLICY_VERSION", "PUBLIC_API_URL"]);
        }
        // AWS_*: the Lambda runtime's and the SDK's own (an endpoint override only the local
        // stack sets).
        for name in names.into_iter().filter(|n| !from_secrets.contains(n) && !n.starts_with("AWS_")) {
            assert!(
                block.iter().any(|l| l.trim_start().starts_with(&format!("{name}:"))),
                "{binary} reads {name}, which its template block does not set"
            );
        }
        checked += 1;
    }
    assert!(checked >= 10, "{checked} functions checked");
    for line in template.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let line = line.to_ascii_lowercase();
        for placeholder in ["example.com", "example.org", "example.net", "changeme", "placeholder"] {
            assert!(!line.contains(placeholder), "the template would ship a placeholder: {line}");
        }
    }
}

/// What the reference site offers is what Steward sells: each option of the paid forms' pages is
/// on sale now and reads exactly as the payment catalogue names it (dates, price, currency,
/// interval), and nothing on sale is missing. A page generated before an event started fails
/// here: run `python3 infra/generate_site.py` again.
#[test]
fn given_the_reference_site_then_its_paid_forms_offer_what_the_catalogue_sells_in_its_words() {
    use steward_core::domain::payments::{PaymentCatalogue, BUILT_IN};
    use steward_core::i18n::{self, Lang};
    let catalogue = PaymentCatalogue::load(BUILT_IN).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let options = |page: &str, select: &str| -> Vec<(String, String)> {
        let html = std::fs::read_to_string(steward_blackbox::root().join("site").join(page)).unwrap();
        let start =
            html.find(&format!("<select id=\"{select}\"")).unwrap_or_else(|| panic!("{page}: no {select}"));
        let list = &html[start..start + html[start..].find("</select>").unwrap()];
        list.split("<option value=\"")
            .skip(1)
            .filter_map(|option| {
                let (value, rest) = option.split_once("\">")?;
                let label = rest.split("</option>").next()?;
                (!value.is_empty()).then(|| (value.to_owned(), label.replace("&amp;", "&")))
            })
            .collect()
    };
    // Each language's pages, in that language's words (`/de/…` is the German site).
    for (lang, prefix) in [(Lang::En, ""), (Lang::De, "de/")] {
        for (page, field, on_sale) in [
            ("events/signup.html", "event", catalogue.events.iter().filter(|(_, e)| e.on_sale(now)).count()),
            ("cloud.html", "plan", catalogue.plans.len()),
        ] {
            let page = format!("{prefix}{page}");
            let offered = options(&page, field);
            for (id, label) in &offered {
                let offer = i18n::within(lang, || catalogue.offer(field, id, now))
                    .unwrap_or_else(|e| panic!("{page} offers {id}: {}", e.message));
                assert_eq!(label, &offer.label, "{page}: {id} as the catalogue names it");
            }
            assert_eq!(offered.len(), on_sale, "{page} offers everything on sale: {offered:?}");
        }
    }
}

/// The public read of what is on sale shares the payments function with the checkout: the
/// gateway throttles it well below the function's reserved concurrency allows.
#[test]
fn given_the_event_availability_route_then_the_gateway_throttles_it_apart_from_the_checkout() {
    let template = template();
    let settings = template.split("\n      RouteSettings:").nth(1).expect("route settings on the HTTP API");
    let route =
        settings.split("\"GET /payments/events\":").nth(1).expect("the availability route is throttled");
    let limit = |name: &str| -> u32 {
        route
            .lines()
            .find_map(|line| line.trim().strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} set"))
    };
    assert!(limit("ThrottlingRateLimit:") <= 10 && limit("ThrottlingBurstLimit:") <= 20);
}

/// The policy's "Information about our website": the reference site's policy page links the Terms
/// of Use it names (a link, not text to copy), in every language's copy of the site.
#[test]
fn given_the_reference_site_then_the_policy_links_the_terms_of_use() {
    let root = steward_blackbox::root();
    for page in ["site/privacy-policy.html", "site/de/privacy-policy.html"] {
        let html = std::fs::read_to_string(root.join(page)).unwrap();
        assert!(
            html.contains(
                r#"<a href="https://www.wso2.com/terms-of-use">https://www.wso2.com/terms-of-use</a>"#
            ),
            "{page} links the Terms of Use"
        );
    }
}
