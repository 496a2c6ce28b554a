//! The staff console on the whole stack: staff sign in with Cognito (password, then the code of
//! an authenticator app), each group sees what it may and nothing else, a request received by
//! mail is entered, verified and answered by erasure from the register, every view is in the
//! audit log under the staff member's name, and the JSON API is behind the HTTP API's JWT
//! authorizer.

use reqwest::StatusCode;
use serde_json::{json, Value};
use steward_blackbox::{http, stack, submit_json, unique_email, wait_for_mail};

/// A local staff user, as the stack created it (`/_local/staff`).
struct StaffUser {
    email: String,
    password: String,
    secret: String,
}

async fn staff(group: &str) -> StaffUser {
    let listed: Value = http().get(stack().url("/_local/staff")).send().await.unwrap().json().await.unwrap();
    let user = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["group"] == group)
        .unwrap_or_else(|| panic!("no local staff user in {group}: {listed}"))
        .clone();
    let text = |name: &str| user[name].as_str().unwrap().to_owned();
    StaffUser { email: text("email"), password: text("password"), secret: text("totp_secret") }
}

/// The code an authenticator app shows now for a base32 secret.
fn code(secret: &str) -> String {
    // Authenticator apps ignore the trailing bits of a secret whose length is not a multiple of
    // eight characters (moto's is such a secret).
    let mut lenient = data_encoding::BASE32_NOPAD.specification();
    lenient.check_trailing_bits = false;
    let key = lenient.encoding().unwrap().decode(secret.to_uppercase().as_bytes()).expect("a base32 secret");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &key, now)
}

fn cookies_of(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// A browser signed in to the console: its session cookie.
struct Browser {
    cookie: String,
}

impl Browser {
    async fn get(&self, path: &str) -> reqwest::Response {
        http().get(stack().url(path)).header("cookie", &self.cookie).send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        http()
            .post(stack().url(path))
            .header("cookie", &self.cookie)
            .header("origin", &stack().api)
            .form(form)
            .send()
            .await
            .unwrap()
    }

    fn token(&self) -> &str {
        self.cookie.split_once('=').map(|(_, v)| v).unwrap_or_default()
    }
}

async fn post_form(path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
    let mut request = http().post(stack().url(path)).header("origin", &stack().api).form(form);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.unwrap()
}

async fn sign_in(user: &StaffUser) -> Browser {
    let first =
        post_form("/console/sign-in", None, &[("email", &user.email), ("password", &user.password)]).await;
    assert_eq!(first.status(), StatusCode::OK, "the password step asks for the code");
    let step =
        cookies_of(&first).into_iter().find(|(k, _)| k.contains("sign-in")).expect("the step's cookie");
    let page = first.text().await.unwrap();
    assert!(page.contains("authenticator app"), "{page}");
    let step_cookie = format!("{}={}", step.0, step.1);
    let second =
        post_form("/console/sign-in/code", Some(&step_cookie), &[("code", &code(&user.secret))]).await;
    assert_eq!(second.status(), StatusCode::SEE_OTHER, "{}", second.text().await.unwrap());
    assert_eq!(second.headers()["location"], "/console");
    let set: Vec<String> =
        second.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(set.iter().any(|c| c.contains("HttpOnly") && c.contains("SameSite=Strict")), "{set:?}");
    let session =
        cookies_of(&second).into_iter().find(|(k, v)| k.ends_with("steward-staff") && !v.is_empty());
    let (name, value) = session.expect("a session cookie");
    Browser { cookie: format!("{name}={value}") }
}

#[tokio::test]
async fn without_a_session_the_console_sends_to_its_sign_in_and_a_wrong_code_or_password_signs_no_one_in() {
    let home = http().get(stack().url("/console")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/console/sign-in");
    let forged = http()
        .get(stack().url("/console/requests"))
        .header("cookie", "steward-staff=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER, "an unsigned token is no session");

    let user = staff("privacy").await;
    let wrong =
        post_form("/console/sign-in", None, &[("email", &user.email), ("password", "not-the-password")])
            .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong_text = wrong.text().await.unwrap();
    let unknown = post_form(
        "/console/sign-in",
        None,
        &[("email", "nobody-here@example.com"), ("password", "whatever-it-is")],
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong_text.contains("is not right") && unknown.text().await.unwrap().contains("is not right"),
        "one answer for a wrong password and an unknown address"
    );

    let first =
        post_form("/console/sign-in", None, &[("email", &user.email), ("password", &user.password)]).await;
    let step = cookies_of(&first).into_iter().find(|(k, _)| k.contains("sign-in")).unwrap();
    let bad =
        post_form("/console/sign-in/code", Some(&format!("{}={}", step.0, step.1)), &[("code", "000000")])
            .await;
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    assert!(
        cookies_of(&bad).iter().all(|(k, _)| !k.ends_with("steward-staff")),
        "no session for a wrong code"
    );

    let elsewhere = http()
        .post(stack().url("/console/sign-in"))
        .header("origin", "https://evil.example")
        .form(&[("email", &user.email), ("password", &user.password)])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN, "a post from another site is refused");
}

#[tokio::test]
async fn each_group_sees_what_it_works_with_and_nothing_else() {
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "sales",
            &["/console/forms/contact-us"],
            &[
                "/console/forms/careers",
                "/console/applicants",
                "/console/requests",
                "/console/people",
                "/console/audit",
                "/console/events",
            ],
        ),
        (
            "marketing",
            &["/console/forms/newsletter", "/console/forms/cloud-signup"],
            &["/console/forms/contact-us", "/console/requests", "/console/applicants"],
        ),
        (
            "events",
            &["/console/events", "/console/forms/event-registration"],
            &["/console/forms/contact-us", "/console/requests", "/console/applicants"],
        ),
        (
            "recruiting",
            &["/console/applicants", "/console/forms/careers"],
            &["/console/forms/contact-us", "/console/requests", "/console/audit"],
        ),
        (
            "privacy",
            &["/console/requests", "/console/people", "/console/audit"],
            &["/console/forms/contact-us", "/console/applicants", "/console/events"],
        ),
    ];
    for (group, may, may_not) in cases {
        let browser = sign_in(&staff(group).await).await;
        let home = browser.get("/console").await;
        assert_eq!(home.status(), StatusCode::OK);
        let home = home.text().await.unwrap();
        assert!(home.contains("Signed in as"), "{home}");
        for path in may {
            let response = browser.get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{group} may open {path}");
            assert!(
                home.contains(&format!("href=\"{path}\"")) || path.starts_with("/console/people"),
                "{group}'s home links {path}"
            );
        }
        for path in may_not {
            assert_eq!(
                browser.get(path).await.status(),
                StatusCode::FORBIDDEN,
                "{group} may not open {path}"
            );
            assert!(!home.contains(&format!("href=\"{path}\"")), "{group}'s home does not link {path}");
        }
    }
}

#[tokio::test]
async fn a_team_finds_a_submission_by_address_and_downloads_its_inbox_as_csv_safe_to_open() {
    let email = unique_email("console-sales");
    submit_json(
        "contact-us",
        json!({"email": email, "name": "=cmd|' /C calc'!A0", "message": "Call me", "country": "DE", "company": "Acme"}),
    )
    .await;
    let browser = sign_in(&staff("sales").await).await;
    let page = browser.get(&format!("/console/forms/contact-us?email={email}")).await.text().await.unwrap();
    assert!(page.contains(&email), "found by address");
    assert!(page.contains("1 in all"), "only theirs: {page}");
    let csv = browser.get(&format!("/console/forms/contact-us?email={email}&format=csv")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("'=cmd"), "a formula is written as text: {csv}");
}

#[tokio::test]
async fn a_request_by_mail_is_verified_answered_by_erasure_from_the_register_and_every_step_is_audited() {
    let email = unique_email("console-erasure");
    let receipt = submit_json(
        "contact-us",
        json!({"email": email, "name": "Mia", "message": "Hello", "country": "DE", "company": "Acme"}),
    )
    .await;
    let profile = receipt["profile_id"].as_str().map(str::to_owned);
    let privacy = staff("privacy").await;
    let browser = sign_in(&privacy).await;
    let today = browser.get("/console/requests").await.text().await.unwrap();
    let received = today.split("name=\"received\" value=\"").nth(1).unwrap()[..10].to_owned();

    let entered = browser
        .post(
            "/console/requests",
            &[
                ("kind", "erasure"),
                ("law", "gdpr"),
                ("email", &email),
                ("received", &received),
                ("note", "ticket 42"),
            ],
        )
        .await;
    assert_eq!(entered.status(), StatusCode::SEE_OTHER);
    let at = entered.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&at).await.text().await.unwrap();
    assert!(page.contains("identity not verified"), "{page}");
    let erase_early = browser.post(&at, &[("action", "erase"), ("version", "1")]).await;
    assert_eq!(
        erase_early.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing is done for an unverified requester"
    );
    assert_eq!(
        browser.post(&at, &[("action", "verify"), ("version", "1")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let stale = browser.post(&at, &[("action", "erase"), ("version", "1")]).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT, "a stale page acts on nothing");
    let erased = browser.post(&at, &[("action", "erase"), ("version", "2")]).await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    let page = browser.get(&at).await.text().await.unwrap();
    assert!(page.contains("Done") && page.contains("erased:"), "{page}");
    assert!(!page.contains(&email), "the register keeps no address of an erased person");
    assert!(stack().profile(&email).await.is_none(), "the person is erased");
    wait_for_mail(&email, "").await;

    let report = browser
        .get(&format!("/console/requests/report.csv?year={}", &received[..4]))
        .await
        .text()
        .await
        .unwrap();
    let erasures = report.lines().find(|l| l.contains(",erasure,")).unwrap().to_owned();
    let cells: Vec<&str> = erasures.split(',').collect();
    assert!(cells[2].parse::<u32>().unwrap() >= 1 && cells[3].parse::<u32>().unwrap() >= 1, "{report}");
    let year = browser
        .get(&format!("/console/requests/year.csv?year={}", &received[..4]))
        .await
        .text()
        .await
        .unwrap();
    let id = at.rsplit('/').next().unwrap();
    assert!(year.lines().any(|l| l.starts_with(id) && l.contains(",done,")), "{year}");

    let audit = browser.get("/console/audit").await.text().await.unwrap();
    let by = format!("staff:{}", privacy.email);
    for action in ["enter-request", "request-verify", "erase", "request-erase", "download-requests-report"] {
        assert!(audit.contains(action), "{action} is in the audit log: {audit}");
    }
    assert!(audit.contains(&by));
    if let Some(profile) = profile {
        assert_eq!(browser.get(&format!("/console/people/{profile}")).await.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_persons_page_shows_everything_held_and_who_looked_at_it() {
    let email = unique_email("console-person");
    submit_json(
        "contact-us",
        json!({"email": email, "name": "Ada", "message": "Hi", "country": "DE", "company": "Acme"}),
    )
    .await;
    // Sales looks at its inbox (searching for someone else): it is a listing that included them.
    let sales = staff("sales").await;
    sign_in(&sales).await.get("/console/forms/contact-us?email=someone-else@example.com").await;
    let privacy = staff("privacy").await;
    let browser = sign_in(&privacy).await;
    let found = browser.get(&format!("/console/people?email={email}")).await;
    assert_eq!(found.status(), StatusCode::SEE_OTHER);
    let at = found.headers()["location"].to_str().unwrap().to_owned();
    let page = browser.get(&at).await.text().await.unwrap();
    assert!(page.contains("contact-us") && page.contains("Ada"), "{page}");
    assert!(page.contains("Who looked at this person"));
    assert!(page.contains(&format!("staff:{}", privacy.email)) && page.contains("view-person"), "{page}");
    assert!(
        page.contains(&format!("staff:{}", sales.email)) && page.contains("view-submissions (contact-us)"),
        "the inbox that listed them: {page}"
    );
}

#[tokio::test]
async fn the_json_api_is_behind_the_jwt_authorizer() {
    let none = http().get(stack().url("/console/api/requests")).send().await.unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED, "the gateway refuses it before the function");
    let forged = http()
        .get(stack().url("/console/api/requests"))
        .header("authorization", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let browser = sign_in(&staff("privacy").await).await;
    let listed = http()
        .get(stack().url("/console/api/requests"))
        .header("authorization", format!("Bearer {}", browser.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Value = listed.json().await.unwrap();
    assert!(listed["requests"].is_array());
    let sales = sign_in(&staff("sales").await).await;
    let refused = http()
        .get(stack().url("/console/api/requests"))
        .header("authorization", format!("Bearer {}", sales.token()))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "a valid token of another group");
    assert_eq!(refused.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn a_request_done_in_the_privacy_center_is_in_the_register_by_itself() {
    let email = unique_email("console-self");
    let receipt = submit_json(
        "contact-us",
        json!({"email": email, "name": "Sam", "message": "Hi", "country": "DE", "company": "Acme"}),
    )
    .await;
    let profile = receipt["profile_id"].as_str().expect("the receipt names the profile").to_owned();
    let session = stack().session_for(&profile).await;
    let restricted = http()
        .post(stack().url("/me/restrict"))
        .bearer_auth(&session)
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert!(restricted.status().is_success(), "{}", restricted.text().await.unwrap());
    let browser = sign_in(&staff("privacy").await).await;
    let page = browser.get("/console/requests").await.text().await.unwrap();
    let year = &page.split("name=\"received\" value=\"").nth(1).unwrap()[..4];
    let restrictions = |csv: &str| {
        csv.lines().filter(|l| l.contains(",restriction,self-service,") && l.contains(",done,")).count()
    };
    let recorded = restrictions(
        &browser.get(&format!("/console/requests/year.csv?year={year}")).await.text().await.unwrap(),
    );
    assert!(recorded >= 1, "the self-service restriction is in the year's register");
    let report =
        browser.get(&format!("/console/requests/report.csv?year={year}")).await.text().await.unwrap();
    let line = report.lines().find(|l| l.contains(",restriction,")).unwrap();
    assert!(
        line.split(',').nth(3).unwrap().parse::<u32>().unwrap() >= 1,
        "counted as complied with: {report}"
    );
    let _ = profile;
}

#[tokio::test]
async fn each_morning_the_privacy_team_is_mailed_what_is_due_within_a_week_and_the_alarm_is_fed() {
    let browser = sign_in(&staff("privacy").await).await;
    let page = browser.get("/console/requests").await.text().await.unwrap();
    let today = page.split("name=\"received\" value=\"").nth(1).unwrap()[..10].to_owned();
    let today = time::Date::parse(&today, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
    // Received 25 days ago under the GDPR: due in about five days.
    let received = (today - time::Duration::days(25)).to_string();
    let entered = browser
        .post(
            "/console/requests",
            &[
                ("kind", "access"),
                ("law", "gdpr"),
                ("email", &unique_email("console-due")),
                ("received", &received),
            ],
        )
        .await;
    assert_eq!(entered.status(), StatusCode::SEE_OTHER);
    let id = entered.headers()["location"].to_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let register = browser.get("/console/requests").await.text().await.unwrap();
    let row = register.split("<tr").find(|row| row.contains(&id)).unwrap();
    assert!(row.contains("class=\"due-soon\"") && row.contains("days left"), "shown as due soon: {row}");
    let first_row = register.split("<tbody>").nth(1).unwrap().split("<tr").nth(1).unwrap();
    assert!(!first_row.contains("class=\"\""), "the most urgent first: {first_row}");

    let ran: Value = http()
        .post(stack().url("/_local/schedules/RequestDigestFunction"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ran["error"].is_null(), "{ran}");
    assert!(ran["response"]["due_soon"].as_u64().unwrap() >= 1, "{ran}");
    let mail = wait_for_mail("dpo@wso2.com", "Data-protection requests").await;
    assert!(mail.text.contains(&id), "{}", mail.text);
    assert!(mail.text.contains("/console/requests"), "it links the register");
    let log = std::fs::read_to_string(stack().log_dir.join("RequestDigestFunction.log")).unwrap();
    let line = log.lines().rev().find(|l| l.contains("\"requests due\"")).expect("the count the alarm reads");
    let line: Value = serde_json::from_str(line).unwrap();
    assert!(line["due_or_overdue"].as_u64().unwrap() >= 1, "{line}");
}

#[tokio::test]
async fn a_colleague_invited_by_the_operator_chooses_a_password_sets_up_an_app_and_loses_access_when_removed()
{
    let email = unique_email("console-new").to_lowercase();
    let invited = steward_blackbox::admin(&["staff", "invite", "--email", &email, "--group", "recruiting"]);
    assert!(invited.status.success(), "{}", String::from_utf8_lossy(&invited.stderr));
    let listed: Value = http().get(stack().url("/_local/staff")).send().await.unwrap().json().await.unwrap();
    let pool = listed["user_pool_id"].as_str().unwrap();
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&stack().aws());
    let groups =
        cognito.admin_list_groups_for_user().user_pool_id(pool).username(&email).send().await.unwrap();
    let names: Vec<&str> = groups.groups().iter().filter_map(|g| g.group_name()).collect();
    assert_eq!(names, ["recruiting"]);
    // The invitation's temporary password (Cognito mails it; here the test chooses it).
    let temporary = "Temporary-Password-1";
    cognito
        .admin_set_user_password()
        .user_pool_id(pool)
        .username(&email)
        .password(temporary)
        .permanent(false)
        .send()
        .await
        .unwrap();

    let first = post_form("/console/sign-in", None, &[("email", &email), ("password", temporary)]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let step = |response: &reqwest::Response| {
        let (k, v) = cookies_of(response).into_iter().find(|(k, _)| k.contains("sign-in")).expect("a step");
        format!("{k}={v}")
    };
    let cookie = step(&first);
    assert!(first.text().await.unwrap().contains("Choose your password"));
    let weak = post_form("/console/sign-in/new-password", Some(&cookie), &[("password", "short")]).await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST, "the pool's policy is said");
    let chosen =
        post_form("/console/sign-in/new-password", Some(&cookie), &[("password", "My-Own-Password-42")])
            .await;
    assert_eq!(chosen.status(), StatusCode::OK);
    let cookie = step(&chosen);
    let page = chosen.text().await.unwrap();
    assert!(page.contains("Set up your authenticator app"), "{page}");
    let secret = page.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_owned();
    let signed = post_form("/console/sign-in/app", Some(&cookie), &[("code", &code(&secret))]).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER, "{}", signed.text().await.unwrap());
    let (name, value) =
        cookies_of(&signed).into_iter().find(|(k, v)| k.ends_with("steward-staff") && !v.is_empty()).unwrap();
    let browser = Browser { cookie: format!("{name}={value}") };
    assert_eq!(browser.get("/console/applicants").await.status(), StatusCode::OK);
    assert_eq!(browser.get("/console/requests").await.status(), StatusCode::FORBIDDEN);

    let removed = steward_blackbox::admin(&["staff", "remove", "--email", &email]);
    assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
    let again =
        post_form("/console/sign-in", None, &[("email", &email), ("password", "My-Own-Password-42")]).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "a removed account signs in no more");
    assert_eq!(
        browser.get("/console/applicants").await.status(),
        StatusCode::SEE_OTHER,
        "and the session it had ends at once, not when its token expires"
    );
}

/// A token signed with the local Cognito's key (moto's, which ships with it: only ever local),
/// with the claims given: what a forger holding the key could make, to see each check refuse it.
fn signed_locally(claims: &Value) -> String {
    let script = r#"
import gzip, json, os, sys
import moto.cognitoidp as cognito
from joserfc import jwt
from joserfc.jwk import RSAKey
path = os.path.join(os.path.dirname(cognito.__file__), "resources", "jwks-private.json.gz")
key = RSAKey.import_key(json.loads(gzip.open(path).read()))
print(jwt.encode({"alg": "RS256", "kid": key.kid or "dummy"}, json.loads(sys.argv[1]), key))
"#;
    let output = std::process::Command::new(steward_blackbox::python())
        .args(["-c", script, &claims.to_string()])
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_token_the_pool_did_not_issue_for_the_console_opens_nothing() {
    let browser = sign_in(&staff("privacy").await).await;
    let genuine = claims_of(browser.token());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = genuine.clone();
        change(&mut claims);
        signed_locally(&claims)
    };
    let opens = |token: String| async move {
        let page = http()
            .get(stack().url("/console/requests"))
            .header("cookie", format!("steward-staff={token}"))
            .send();
        page.await.unwrap().status() == StatusCode::OK
    };
    assert!(opens(with(&|_| {})).await, "the same claims, signed again: the control");
    type Forgery = (&'static str, Box<dyn Fn(&mut Value)>);
    let forged: [Forgery; 6] = [
        ("expired", Box::new(move |c: &mut Value| c["exp"] = json!(now - 1))),
        ("another client's", Box::new(|c: &mut Value| c["aud"] = json!("another-client"))),
        (
            "another pool's",
            Box::new(|c: &mut Value| {
                c["iss"] = json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other")
            }),
        ),
        ("an access token", Box::new(|c: &mut Value| c["token_use"] = json!("access"))),
        ("an unverified address", Box::new(|c: &mut Value| c["email_verified"] = json!(false))),
        ("an unknown account", Box::new(|c: &mut Value| c["cognito:username"] = json!("nobody-at-all"))),
    ];
    for (what, change) in forged {
        assert!(!opens(with(&*change)).await, "{what} token opens nothing");
    }
}

#[tokio::test]
async fn no_team_sees_a_person_who_restricted_the_use_of_their_data_and_pages_escape_what_people_typed() {
    let restricted = unique_email("console-restricted");
    let receipt = submit_json(
        "contact-us",
        json!({"email": restricted, "name": "Rita", "message": "Hi", "country": "DE", "company": "Acme"}),
    )
    .await;
    let session = stack().session_for(receipt["profile_id"].as_str().unwrap()).await;
    let done =
        http().post(stack().url("/me/restrict")).bearer_auth(&session).json(&json!({})).send().await.unwrap();
    assert!(done.status().is_success());
    let typed = unique_email("console-typed");
    submit_json(
        "contact-us",
        json!({"email": typed, "name": "<script>alert(1)</script>", "message": "\"><img src=x onerror=alert(1)>", "country": "DE", "company": "Acme"}),
    )
    .await;
    let sales = sign_in(&staff("sales").await).await;
    let page =
        sales.get(&format!("/console/forms/contact-us?email={restricted}")).await.text().await.unwrap();
    assert!(
        page.contains("0 in all"),
        "a restricted person is held back (the address is only in the search box)"
    );
    assert!(page.contains("held back"), "{page}");
    let csv = sales
        .get(&format!("/console/forms/contact-us?email={restricted}&format=csv"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!csv.contains(&restricted));
    let page = sales.get(&format!("/console/forms/contact-us?email={typed}")).await.text().await.unwrap();
    assert!(page.contains(&typed));
    assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "escaped: {page}");
    assert!(page.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn a_cv_link_is_only_for_an_application_and_a_post_from_no_page_is_refused() {
    let email = unique_email("console-not-cv");
    let receipt = submit_json(
        "contact-us",
        json!({"email": email, "name": "Li", "message": "Hi", "country": "DE", "company": "Acme"}),
    )
    .await;
    let recruiter = sign_in(&staff("recruiting").await).await;
    let submission = receipt["submission_id"].as_str().unwrap();
    let link = recruiter.post(&format!("/console/applicants/{submission}/cv"), &[]).await;
    assert_eq!(link.status(), StatusCode::NOT_FOUND, "a contact request is no application");
    let bare = http()
        .post(stack().url("/console/requests"))
        .header("cookie", &recruiter.cookie)
        .form(&[("kind", "access")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bare.status(),
        StatusCode::FORBIDDEN,
        "no Origin and no Sec-Fetch-Site: not the console's page"
    );
}

#[tokio::test]
async fn a_verified_request_is_answered_by_export_or_restriction_and_each_closes_it() {
    let email = unique_email("console-export");
    let receipt = submit_json(
        "contact-us",
        json!({"email": email, "name": "Eve", "message": "Hi", "country": "DE", "company": "Acme"}),
    )
    .await;
    let profile = receipt["profile_id"].as_str().unwrap().to_owned();
    let privacy = sign_in(&staff("privacy").await).await;
    let today = privacy.get("/console/requests").await.text().await.unwrap();
    let received = today.split("name=\"received\" value=\"").nth(1).unwrap()[..10].to_owned();
    for (kind, action) in [("access", "export"), ("restriction", "restrict")] {
        let entered = privacy
            .post(
                "/console/requests",
                &[("kind", kind), ("law", "ccpa"), ("email", &email), ("received", &received)],
            )
            .await;
        let at = entered.headers()["location"].to_str().unwrap().to_owned();
        privacy.post(&at, &[("action", "verify"), ("version", "1")]).await;
        let other = privacy.post(&at, &[("action", "erase"), ("version", "2")]).await;
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY, "only the action the request asks for");
        let answered = privacy.post(&at, &[("action", action), ("version", "2")]).await;
        if action == "export" {
            assert_eq!(answered.status(), StatusCode::OK);
            assert!(answered.headers()["content-disposition"].to_str().unwrap().contains("export.json"));
            let held: Value = answered.json().await.unwrap();
            assert_eq!(held["profile"]["email"], email.as_str(), "everything held, to send them");
        } else {
            assert_eq!(answered.status(), StatusCode::SEE_OTHER);
        }
        let page = privacy.get(&at).await.text().await.unwrap();
        assert!(page.contains("<dd>Done</dd>"), "{page}");
        assert!(page.contains("started"), "its history says what was done: {page}");
    }
    let everything = stack().session_for(&profile).await;
    let me: Value = http()
        .get(stack().url("/me"))
        .bearer_auth(&everything)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        me["profile"]["restricted"].is_string() || me["limits"].to_string().contains("restrict"),
        "restricted: {me}"
    );
}
