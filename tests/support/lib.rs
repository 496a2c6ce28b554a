//! The black-box harness: starts the real local stack (`infra/local/stack.py`: moto, the resources
//! of `template.yaml`, the function binaries behind a local Lambda Runtime API and the HTTP API)
//! once per test binary, and reads back what was stored with the AWS SDK.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_dynamodb::config::{Credentials, Region, SharedCredentialsProvider};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::Value;
use steward_core::adapters::dynamodb::keys;
use steward_core::secret::SecretKey;

pub type Item = HashMap<String, AttributeValue>;

pub struct Stack {
    /// "enforced" when every call a function or the operator makes is authorised against the
    /// template's policies (infra/local/steward_local/iam.py), "off" only when a debugging setting said so.
    pub iam: String,
    /// The local Stripe emulator, when the env file's keys are the local ones.
    pub stripe: Option<String>,
    /// The fault-injecting proxy in front of moto, when the stack runs with `FAULT_PROXY=1`.
    pub fault_proxy: Option<String>,
    pub bin_dir: PathBuf,
    pub resources: HashMap<String, String>,
    /// Where the stack writes each function's log.
    pub log_dir: PathBuf,
    /// The reference site's origin (the API's, locally): where forms thank people.
    pub site: String,
    pub api: String,
    pub aws_endpoint: String,
    pub table: String,
    pub region: String,
    pub settings: HashMap<String, String>,
    process: std::sync::Mutex<Child>,
}

/// Where the workspace lives.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is in the workspace").to_path_buf()
}

/// `infra/local.env`, the local defaults shared with `make dev` and the README.
pub fn local_env() -> HashMap<String, String> {
    std::fs::read_to_string(root().join("infra/local.env"))
        .expect("infra/local.env exists")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The local stack, started on free ports the first time a test of this binary asks for it.
/// It stops when the test binary exits (its stdin closes). A test that chose another stack for its
/// thread (`use_stack`) gets that one, and so do the helpers it calls.
pub fn stack() -> &'static Stack {
    if let Some(chosen) = CHOSEN.with(std::cell::Cell::get) {
        return chosen;
    }
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| start_stack(None, &[]))
}

/// A stack of the binary's own, with some settings of its own (`KEY=VALUE`): for a binary whose
/// tests need one throughout, chosen on each test's thread with `use_stack`.
pub fn stack_with(settings: &[&str]) -> Stack {
    start_stack(None, &settings.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

thread_local! {
    static CHOSEN: std::cell::Cell<Option<&'static Stack>> = const { std::cell::Cell::new(None) };
}

/// Makes `stack()` (and every helper) answer with `chosen` on this thread; `None` goes back to
/// the binary's shared stack. For tests on a `current_thread` runtime, whose code all runs here.
pub fn use_stack(chosen: Option<&'static Stack>) {
    CHOSEN.with(|cell| cell.set(chosen));
}

/// The project's Python (the virtualenv `make setup` makes), which runs the local stack.
pub fn python() -> String {
    std::env::var("STEWARD_PYTHON").unwrap_or_else(|_| root().join(".venv/bin/python").display().to_string())
}

/// A stack of its own, from a copy of `template.yaml` changed by `infra/local/mutate_template.py`
/// (`mutations`: its arguments, `--without LOGICAL_ID=ACTION` or `--set LOGICAL_ID.PROPERTY=VALUE`),
/// with settings of its own. Panics when the mutation does not apply.
pub fn start_mutated_stack(mutations: &[&str], settings: &[&str]) -> OwnStack {
    let copy = std::env::temp_dir().join(format!("steward-template-{}.json", uuid::Uuid::new_v4().simple()));
    let status = Command::new(python())
        .arg(root().join("infra/local/mutate_template.py"))
        .args(mutations)
        .arg("--out")
        .arg(&copy)
        .status()
        .expect("the template mutation runs");
    assert!(status.success(), "the template mutation {mutations:?} applies");
    let own = start_own_stack(Some(&copy), settings);
    let _ = std::fs::remove_file(&copy); // read once, at the stack's start
    own
}

/// A stack of its own, from another template and with settings of its own (`KEY=VALUE`). It
/// stops when the test that started it ends.
pub fn start_own_stack(template: Option<&std::path::Path>, settings: &[&str]) -> OwnStack {
    let settings: Vec<String> = settings.iter().map(|s| (*s).to_owned()).collect();
    OwnStack(Box::leak(Box::new(start_stack(template, &settings))))
}

/// A test's own stack, stopped when the test is done with it (dropped, a panic included): a
/// binary whose tests each start one (iam.rs starts thirteen) would otherwise keep every finished
/// test's stack running, schedules and all, on the two cores the tests still running need.
pub struct OwnStack(&'static Stack);

impl OwnStack {
    /// The stack, for `use_stack`; dropping this goes back to the binary's shared stack.
    pub fn get(&self) -> &'static Stack {
        self.0
    }
}

impl std::ops::Deref for OwnStack {
    type Target = Stack;

    fn deref(&self) -> &Stack {
        self.0
    }
}

impl Drop for OwnStack {
    fn drop(&mut self) {
        use_stack(None);
        self.0.stop();
    }
}

/// `KEY=VALUE,KEY=VALUE` into pairs; a comma not followed by `NAME=` belongs to the value
/// (`TOKEN_KEYS_MAIL_LINKS=new:…,old:…`).
fn stack_settings(text: &str) -> Vec<String> {
    let mut pairs: Vec<String> = Vec::new();
    for part in text.split(',') {
        let starts_pair = part.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
        match pairs.last_mut() {
            Some(last) if !starts_pair => {
                last.push(',');
                last.push_str(part);
            }
            _ if starts_pair => pairs.push(part.to_owned()),
            _ => {}
        }
    }
    pairs
}

fn start_stack(template: Option<&std::path::Path>, own_settings: &[String]) -> Stack {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>, where `cargo build --bins` put the functions.
    let bin_dir = exe.parent().and_then(|d| d.parent()).expect("profile directory").to_path_buf();
    let python = python();
    let test_name = exe.file_stem().and_then(|s| s.to_str()).unwrap_or("tests").to_owned();
    static STACKS_STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let ordinal = STACKS_STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log_dir = bin_dir.join("stack-logs").join(match ordinal {
        0 => format!("{test_name}-{}", std::process::id()),
        n => format!("{test_name}-{}-{n}", std::process::id()),
    });
    let mut process = Command::new(&python)
        .arg(root().join("infra/local/stack.py"))
        .args([
            "--api-port",
            "0",
            "--moto-port",
            "0",
            "--stripe-port",
            "0",
            "--trust-test-ip-header",
            "--exit-on-stdin-eof",
        ])
        // A test binary may change a setting of its own stack (`KEY=VALUE,...`), set before its
        // first use of `stack()`.
        .args(
            // No housekeeping (expired items deleted, old mail dropped) unless a test asks: tests
            // write expired items on purpose, for Steward's own retention to find, as it does in
            // AWS well before DynamoDB's TTL. Housekeeping has tests of its own.
            std::iter::once("LOCAL_HOUSEKEEPING_SECONDS=0".to_owned())
                .chain(stack_settings(&std::env::var("STEWARD_STACK_SET").unwrap_or_default()))
                .chain(own_settings.iter().cloned())
                .flat_map(|pair| ["--set".to_owned(), pair]),
        )
        .args(template.map(|t| ["--template".into(), t.as_os_str().to_owned()]).into_iter().flatten())
        .arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--log-dir")
        .arg(&log_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the local stack with {python} (run `make setup`): {e}"));
    let stdout = process.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(json) = line.strip_prefix("STEWARD-READY ") {
                let _ = tx.send(json.to_owned());
            }
        }
    });
    let ready =
        rx.recv_timeout(Duration::from_secs(90)).expect("the local stack did not become ready within 90 s");
    let ready: serde_json::Value = serde_json::from_str(&ready).expect("ready line is JSON");
    let text = |key: &str| ready[key].as_str().expect("ready line field").to_owned();
    let resources = ready["resources"]
        .as_object()
        .expect("resources")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    Stack {
        iam: text("iam"),
        stripe: ready["stripe"].as_str().map(str::to_owned),
        fault_proxy: ready["fault_proxy"].as_str().map(str::to_owned),
        bin_dir,
        resources,
        api: text("api"),
        site: text("site"),
        log_dir,
        aws_endpoint: text("aws_endpoint"),
        table: ready["resources"]["ProfileTable"].as_str().expect("table").to_owned(),
        region: text("region"),
        settings: local_env(),
        process: std::sync::Mutex::new(process),
    }
}

impl Stack {
    /// Stops the stack as the binary's exit does (its stdin closes), and waits for it: at most
    /// 20 s, then it is killed.
    pub fn stop(&self) {
        let mut process = self.process.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(process.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if !matches!(process.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = process.kill();
        let _ = process.wait();
    }

    /// The token keys this stack's functions hold, every family (as its secrets were seeded).
    pub fn token_keys(&self) -> steward_core::token::TokenKeys {
        steward_core::token::TokenKeys::from_lookup(|name| self.settings.get(name).cloned())
            .expect("the stack's token keys parse")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// The SDK configuration that reaches the local stack's AWS emulator; every client is made from it.
    pub fn aws(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(steward_core::adapters::aws::http_client())
            .endpoint_url(&self.aws_endpoint)
            .region(Region::new(self.region.clone()))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "local",
                "local",
                None,
                None,
                "local-stack",
            )))
            .build()
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.aws()).force_path_style(true).build(),
        )
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.aws())
    }

    pub fn sesv2(&self) -> aws_sdk_sesv2::Client {
        aws_sdk_sesv2::Client::new(&self.aws())
    }

    /// The physical name of a template resource, by its logical id.
    pub fn resource(&self, logical_id: &str) -> &str {
        self.resources.get(logical_id).unwrap_or_else(|| panic!("{logical_id} is not in the local stack"))
    }

    /// An item by its keys.
    pub async fn item(&self, pk: String, sk: String) -> Option<Item> {
        self.dynamodb()
            .get_item()
            .table_name(&self.table)
            .key(keys::PK, AttributeValue::S(pk))
            .key(keys::SK, AttributeValue::S(sk))
            .consistent_read(true)
            .send()
            .await
            .expect("get_item")
            .item
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.aws())
    }

    pub fn hash_key(&self) -> SecretKey {
        SecretKey::new(self.settings["HASH_KEY"].clone().into_bytes())
    }

    /// The keys of the profile of an email address (matched case-insensitively, as the product does).
    pub fn profile_key(&self, email: &str) -> (String, String) {
        keys::profile_by_email(&self.hash_key().pseudonym("email", &email.to_lowercase()))
    }

    /// The profile stored for an email address.
    /// A privacy-center session for a person, kept as signing in keeps one (without the mail
    /// round trip): its bearer token, valid for ten minutes.
    pub async fn session_for(&self, profile_id: &str) -> String {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (pk, sk) = keys::session(profile_id, &id);
        self.dynamodb()
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(pk))
            .item("sk", AttributeValue::S(sk))
            .item(keys::TTL, AttributeValue::N((now + 600).to_string()))
            .send()
            .await
            .expect("the session is kept");
        let profile = steward_core::domain::ids::ProfileId::from_stored(profile_id.to_owned());
        self.token_keys().sign(steward_core::token::Purpose::Session, &id, &profile, Some(now + 600))
    }

    pub async fn profile(&self, email: &str) -> Option<Item> {
        let (pk, sk) = self.profile_key(email);
        self.item(pk, sk).await
    }

    /// Every submission stored under a profile.
    pub async fn submissions(&self, profile_id: &str) -> Vec<Item> {
        self.dynamodb()
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :sub)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::profile_partition(profile_id)))
            .expression_attribute_values(":sub", AttributeValue::S("SUBMISSION#".into()))
            .consistent_read(true)
            .send()
            .await
            .expect("query")
            .items
            .unwrap_or_default()
    }

    /// Every item in the table (the local table is small).
    pub async fn scan_all(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .dynamodb()
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }
}

/// An HTTP client that neither follows redirects nor keeps cookies, like a test should see.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A unique address per test, so tests never share profiles or rate limits.
pub fn unique_email(label: &str) -> String {
    format!("{label}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A unique source IP per test, from the IPv6 documentation prefix: it is only ever a header value
/// (the local gateway honours `X-Local-Source-Ip` in tests only), never an address we connect to.
pub fn unique_ip() -> String {
    let b = *uuid::Uuid::new_v4().as_bytes();
    format!("2001:db8::{:x}:{:x}", u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]]))
}

/// Asks for a privacy-center sign-in link, as the page's JSON client does.
pub async fn ask_for_privacy_link(email: &str) -> reqwest::Response {
    http()
        .post(stack().url("/privacy/link"))
        .header("accept", "application/json")
        .header("x-local-source-ip", unique_ip())
        .json(&serde_json::json!({ "email": email }))
        .send()
        .await
        .unwrap()
}

pub fn s<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .unwrap_or_else(|| panic!("{name} missing in {item:?}"))
}

pub fn map<'a>(item: &'a Item, name: &str) -> &'a Item {
    item.get(name).and_then(|v| v.as_m().ok()).unwrap_or_else(|| panic!("{name} missing in {item:?}"))
}

/// Polls until `check` passes or a deadline, for effects that land asynchronously.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    eventually_within(Duration::from_secs(45), what, check).await;
}

/// `eventually`, for work that waits on a schedule rather than a request.
pub async fn eventually_within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within {} s", limit.as_secs());
}

/// A message read back from the local SES: its raw MIME and its text part.
pub struct Sent {
    pub raw: String,
    pub text: String,
}

pub async fn mailbox() -> Vec<Value> {
    http().get(stack().url("/_local/mailbox.json")).send().await.unwrap().json().await.unwrap()
}

/// Messages to an address whose subject contains `subject_part`.
pub async fn mail_to(email: &str, subject_part: &str) -> Vec<Sent> {
    let to: Vec<Value> = http()
        .get(stack().url("/_local/mailbox.json"))
        .query(&[("to", email)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    to.into_iter()
        .filter(|m| {
            m["to"].as_str().unwrap_or_default().contains(email)
                && m["subject"].as_str().unwrap_or_default().contains(subject_part)
        })
        .map(|m| Sent {
            raw: m["raw"].as_str().unwrap().to_owned(),
            text: m["text"].as_str().unwrap().to_owned(),
        })
        .collect()
}

pub async fn wait_for_mail(email: &str, subject_part: &str) -> Sent {
    eventually(&format!("mail {subject_part:?} to {email}"), || async {
        !mail_to(email, subject_part).await.is_empty()
    })
    .await;
    mail_to(email, subject_part).await.remove(0)
}

/// The first link in a message's text to `path` on the API.
pub fn link(text: &str, path: &str) -> String {
    let start =
        text.find(&format!("{}{path}", stack().api)).unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// What a browser does with a presigned POST: every field, then the file, to the bucket URL.
pub async fn post_to_bucket(post: &Value, bytes: Vec<u8>, content_type: &str) -> reqwest::StatusCode {
    let mut form = reqwest::multipart::Form::new();
    for (name, value) in post["fields"].as_object().unwrap() {
        form = form.text(name.clone(), value.as_str().unwrap().to_owned());
    }
    let file = reqwest::multipart::Part::bytes(bytes).file_name("upload").mime_str(content_type).unwrap();
    form = form.part("file", file);
    http().post(post["url"].as_str().unwrap()).multipart(form).send().await.unwrap().status()
}

/// Starts paying for a registration with its grant (`receipt["payment"]["token"]`).
pub async fn start_payment(grant: &Value) -> Value {
    http()
        .post(stack().url("/payments"))
        .header("x-local-source-ip", unique_ip())
        .json(&serde_json::json!({"token": grant}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A URL on the local Stripe emulator.
pub fn stripe(path: &str) -> String {
    format!("{}{path}", stack().stripe.as_deref().expect("the local stack runs the Stripe emulator"))
}

/// What Stripe.js does in the browser with a payment's client secret and a card number.
pub async fn confirm_with_card(started: &Value, card: &str) -> Value {
    let secret = started["client_secret"].as_str().unwrap();
    let intent = secret.split("_secret_").next().unwrap();
    let response = http()
        .post(stripe(&format!("/v1/payment_intents/{intent}/confirm")))
        .form(&[
            ("key", started["publishable_key"].as_str().unwrap()),
            ("client_secret", secret),
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", card),
        ])
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

/// Posts a form as JSON from an address of its own, and expects it stored (201).
pub async fn submit_json(form: &str, body: Value) -> Value {
    let response = http()
        .post(stack().url(&format!("/forms/{form}")))
        .header("x-local-source-ip", unique_ip())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::CREATED, "{form}");
    let receipt: Value = response.json().await.unwrap();
    match body.get("email").and_then(Value::as_str) {
        Some(email) => with_profile_read_back(receipt, email).await,
        None => receipt,
    }
}

/// A form's answer, with the profile it landed on read back from the table (as an operator
/// would) under `profile_id`: public answers never name a profile, since whoever typed an
/// address is not proven to own it.
pub async fn with_profile_read_back(mut receipt: Value, email: &str) -> Value {
    assert!(receipt.get("profile_id").is_none(), "a public answer named a profile: {receipt}");
    if let Some(profile) = stack().profile(email).await {
        receipt["profile_id"] = s(&profile, "profile_id").into();
    }
    receipt
}

/// The operator command, against the local stack, as an operator runs it against a deployed
/// one: `--stack` names the table, the bucket and the secrets it reads with its credentials.
pub fn admin_command() -> Command {
    let stack_name = stack().table.strip_suffix("-profiles").expect("the table is <stack>-profiles");
    let mut command = Command::new(stack().bin_dir.join("steward-admin"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("STEWARD_STACK", stack_name)
        .env("PUBLIC_API_URL", &stack().api)
        .env("AWS_ENDPOINT_URL", &stack().aws_endpoint)
        .env("AWS_REGION", &stack().region)
        // The operator's identity: the stack holds steward-admin to the template's OperatorPolicy.
        .env("AWS_ACCESS_KEY_ID", &stack().settings["OPERATOR_AWS_ACCESS_KEY_ID"])
        .env("AWS_SECRET_ACCESS_KEY", "local");
    if let Some(stripe) = &stack().stripe {
        command.env("STRIPE_API_BASE", stripe);
    }
    command
}

/// An SES notification (a bounce, a complaint) as SES publishes it through SNS to the stack's
/// feedback queue.
pub async fn mail_feedback(notification: Value) {
    let sqs = stack().sqs();
    let queue = sqs.get_queue_url().queue_name(stack().resource("MailFeedbackQueue")).send().await.unwrap();
    let envelope = serde_json::json!({"Type": "Notification", "MessageId": uuid::Uuid::new_v4().to_string(), "Message": notification.to_string()});
    sqs.send_message()
        .queue_url(queue.queue_url().unwrap())
        .message_body(envelope.to_string())
        .send()
        .await
        .unwrap();
}

/// Runs the operator command to its end.
pub fn admin(args: &[&str]) -> std::process::Output {
    admin_command().args(args).output().expect("steward-admin runs")
}

/// Sends a campaign on a topic with `steward-admin campaign`.
pub fn campaign(id: &str, topic: &str) {
    let body = std::env::temp_dir().join(format!("{id}.txt"));
    std::fs::write(&body, "Hello!\n\nWSO2 Cloud has a new region.").unwrap();
    let output = admin(&[
        "campaign",
        "--id",
        id,
        "--topic",
        topic,
        "--subject",
        &format!("News {id}"),
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}
