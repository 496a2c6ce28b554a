//! Forms: submissions and the profile each lands on, and the per-person rate limits.

use super::*;
use crate::domain::ports::FixedWindow;

/// What a submission needs to know of the profile it landed on (`None`: the one it created).
fn upserted(
    id: ProfileId,
    profile: Option<&HashMap<String, AttributeValue>>,
    submission: &NewSubmission,
) -> UpsertedProfile {
    let attribute = |name: &str| profile.and_then(|p| p.get(name));
    let set = |name: &str| -> std::collections::BTreeSet<String> {
        attribute(name).and_then(|v| v.as_ss().ok()).map(|v| v.iter().cloned().collect()).unwrap_or_default()
    };
    // Unsubscribed from everything or withdrawn: no topic is received, so every ticked one asks.
    let receiving = !attribute("unsubscribed_all").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
        && !set("withdrawn_consents").contains("marketing");
    UpsertedProfile {
        email: attribute("email")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| submission.data.email.as_str().to_owned()),
        confirmed_topics: if receiving { set("marketing_topics") } else { Default::default() },
        // Restricted or objecting people are owed no mail a form could trigger either.
        suppressed: MAIL_BLOCKING_FLAGS.iter().any(|flag| attribute(flag).is_some()),
        restricted: attribute("restricted").is_some(),
        objected: attribute("objected").is_some(),
        created: profile.is_none(),
        id,
    }
}

/// Profile attributes that stop any mail a form could trigger: bounced or complained, restricted,
/// objecting.
const MAIL_BLOCKING_FLAGS: [&str; 3] = ["suppressed", "restricted", "objected"];

impl RateLimiter for DynamoStore {
    async fn hit_once(
        &self,
        scope: &'static str,
        subject: &str,
        event: &str,
        limit: u32,
        window: FixedWindow,
    ) -> Result<u32, StoreError> {
        let (pk, sk) = keys::rate_counter(scope, subject, window.start);
        let event = crate::domain::ports::counted_event(event);
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("ADD #events :event SET #ttl = :ttl, #type = :type, #v = :v")
            // Room up to the limit, and for a retry of an event held (which was within it).
            .condition_expression(
                "attribute_not_exists(#events) OR size(#events) < :limit OR contains(#events, :one)",
            )
            .expression_attribute_names("#events", "events")
            .expression_attribute_names("#ttl", keys::TTL)
            .expression_attribute_names("#type", "type")
            .expression_attribute_names("#v", "v")
            .expression_attribute_values(":event", AttributeValue::Ss(vec![event.clone()]))
            .expression_attribute_values(":one", s(&event))
            .expression_attribute_values(":limit", n(limit))
            .expression_attribute_values(":type", s("rate_counter"))
            .expression_attribute_values(":v", n(SCHEMA_VERSION))
            .expression_attribute_values(":ttl", n(window.end + 60))
            // All of it: an ADD of an event already held changes nothing, and moto then leaves the
            // set out of UPDATED_NEW.
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let output = match output {
            Ok(output) => output,
            Err(err) if is_condition_failure(&err) => return Ok(limit.saturating_add(1)),
            Err(err) => return Err(classify(err)),
        };
        let count = output
            .attributes()
            .and_then(|a| a.get("events"))
            .and_then(|v| v.as_ss().ok())
            .map_or(u32::MAX, |events| u32::try_from(events.len()).unwrap_or(u32::MAX));
        Ok(count)
    }
}

impl DynamoStore {
    /// The profile update a submission makes: only what it carries, the latest submission, each
    /// form's retention, and topics waiting for confirmation. `id` is the profile's id: the stored
    /// one (the update checks it is still there) or a new one (the update checks none exists).
    fn profile_update(
        &self,
        submission: &NewSubmission,
        pk: &str,
        sk: &str,
        id: &ProfileId,
        stored: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Update, StoreError> {
        let data = &submission.data;
        let now = submission.client.received_at.rfc3339();

        let mut sets = vec![
            "#type = :type",
            "#v = :v",
            "profile_id = :id",
            "#gsi = :gsi",
            "created_at = if_not_exists(created_at, :now)",
            "updated_at = :now",
            // The address first typed, or the one a person proved since: never rewritten by a form.
            "email = if_not_exists(email, :email)",
            "last_submission_id = :sid",
        ];
        let mut values: HashMap<String, AttributeValue> = HashMap::from([
            (":type".into(), s("profile")),
            (":v".into(), n(SCHEMA_VERSION)),
            (":id".into(), s(id.as_str())),
            (":gsi".into(), s(keys::profile_partition(id.as_str()))),
            (":now".into(), s(now)),
            (":email".into(), s(data.email.as_str())),
            (":sid".into(), s(submission.id.as_str())),
        ]);
        // A submission is evidence of what someone sent, not proof of who they are: it fills in
        // only what the profile does not hold yet (never the address, never a value the person
        // proved or corrected), and says where each value came from and when. Its own values
        // stay with the submission.
        let mut clauses: Vec<String> = sets.drain(..).map(str::to_owned).collect();
        let mut names: HashMap<String, String> = HashMap::from([
            ("#type".into(), "type".into()),
            ("#v".into(), "v".into()),
            ("#gsi".into(), keys::GSI1_PK.into()),
        ]);
        let held = |attribute: &str| stored.is_some_and(|p| p.contains_key(attribute));
        let mut sources = HashMap::new();
        let mut filled = Vec::new();
        for (attribute, value) in profile_values(data) {
            let Some(value) = value else { continue };
            if held(attribute) {
                continue;
            }
            // Placeholders throughout: `state` and others are DynamoDB reserved words.
            // Still absent when written: the condition below says so, and a value a person
            // corrected meanwhile refuses the write (which reads again) rather than being
            // credited to this form.
            clauses.push(format!("#{attribute} = :{attribute}"));
            filled.push(attribute);
            names.insert(format!("#{attribute}"), attribute.to_owned());
            values.insert(format!(":{attribute}"), s(value));
            sources.insert(attribute.to_owned(), provenance(submission));
        }
        // Where each value came from: one map, written whole when the profile has none yet (the
        // condition below refuses the write if another one appeared since the read).
        let has_provenance = stored.is_some_and(|p| p.contains_key(PROVENANCE));
        if stored.is_some() || !sources.is_empty() {
            // Used by the condition (a stored profile) or by the update (values filled in).
            names.insert("#provenance".into(), PROVENANCE.into());
        }
        if has_provenance {
            for (attribute, source) in sources {
                clauses.push(format!("#provenance.#{attribute} = :source_{attribute}"));
                values.insert(format!(":source_{attribute}"), source);
            }
        } else if !sources.is_empty() {
            clauses.push("#provenance = :provenance".to_owned());
            values.insert(":provenance".into(), AttributeValue::M(sources));
        }
        // Each form's retention, latest submission first: the retention sweep removes the profile
        // once every one of them has passed and nothing else is kept.
        clauses.push("#retain = :retain".to_owned());
        names.insert("#retain".into(), format!("{RETAIN_UNTIL_PREFIX}{}", submission.form.as_str()));
        values.insert(":retain".into(), n(submission.expires_at.epoch_seconds()));
        let mut expression = format!("SET {}", clauses.join(", "));
        // How many live submissions the address holds, counted up here and recounted when it
        // reaches the bound (retention and the person's deletions make room without counting down).
        expression.push_str(" ADD #held :one");
        names.insert("#held".into(), HELD_SUBMISSIONS.into());
        values.insert(":one".into(), n(1));
        if !data.topics.is_empty() {
            // Ticked topics wait for the confirmation link (double opt-in) before any marketing. A
            // withdrawal of consent stands: a form is anyone's word, and only the confirmation
            // from the address gives consent again.
            expression.push_str(", pending_topics :topics");
            values.insert(":topics".into(), AttributeValue::Ss(data.topics.iter().cloned().collect()));
        }

        // The profile as read: the same id, and the same flags that decide whether the submission
        // owes mail, so that a restriction or objection written since the read refuses this
        // transaction (and it reads again) rather than letting a confirmation mail through.
        let condition = match stored {
            None => "attribute_not_exists(profile_id)".to_owned(),
            Some(stored) => {
                values.insert(":held_limit".into(), n(submission.held_limit));
                let mut clauses = vec![
                    "profile_id = :id".to_owned(),
                    "(attribute_not_exists(#held) OR #held < :held_limit)".to_owned(),
                    format!(
                        "{}(#provenance)",
                        if has_provenance { "attribute_exists" } else { "attribute_not_exists" }
                    ),
                ];
                clauses.extend(filled.iter().map(|attribute| format!("attribute_not_exists(#{attribute})")));
                for flag in MAIL_BLOCKING_FLAGS {
                    names.insert(format!("#{flag}"), flag.to_owned());
                    let test =
                        if stored.contains_key(flag) { "attribute_exists" } else { "attribute_not_exists" };
                    clauses.push(format!("{test}(#{flag})"));
                }
                clauses.join(" AND ")
            }
        };
        built(
            Update::builder()
                .table_name(&self.table)
                .key(keys::PK, s(pk))
                .key(keys::SK, s(sk))
                .update_expression(expression)
                .condition_expression(condition)
                .set_expression_attribute_names(Some(names))
                .set_expression_attribute_values(Some(values))
                .build(),
        )
    }
}

/// The profile attribute that says where each value came from and when.
pub(crate) const PROVENANCE: &str = "provenance";

/// The profile attribute that counts the address's live submissions (at least: it is recounted
/// when it reaches the bound).
const HELD_SUBMISSIONS: &str = "held_submissions";

/// The profile fields a submission may fill in, by attribute.
pub(crate) fn profile_values(
    data: &crate::domain::forms::validation::ValidForm,
) -> [(&'static str, Option<String>); 6] {
    [
        ("full_name", data.name.clone()),
        ("phone", data.phone.as_ref().map(|p| p.as_e164().to_owned())),
        ("job_title", data.job_title.clone()),
        ("company", data.company.clone()),
        ("country", data.country.map(|c| c.code().to_owned())),
        ("state", data.state.as_ref().map(|s| s.code().to_owned())),
    ]
}

/// A value's provenance: which form's submission it came from, and when.
fn provenance(submission: &NewSubmission) -> AttributeValue {
    AttributeValue::M(HashMap::from([
        ("source".to_owned(), s("form")),
        ("form".to_owned(), s(submission.form.as_str())),
        ("submission_id".to_owned(), s(submission.id.as_str())),
        ("at".to_owned(), s(submission.client.received_at.rfc3339())),
    ]))
}

impl SubmissionStore for DynamoStore {
    async fn store_submission(
        &self,
        submission: &NewSubmission,
        owed: &Owed<'_>,
    ) -> Result<(UpsertedProfile, Inserted), StoreError> {
        let (pk, sk) = keys::profile_by_email(&self.email_pseudonym(submission.data.email.normalized()));
        // Profile and submission are written in one transaction, so that a failure (a throttled
        // or unavailable table) leaves neither. The profile is read first for its id, which keys
        // the submission; a concurrent first submission for the same address, or an erasure,
        // changes it and refuses the transaction, and the read is done again.
        for attempt in 0..4u64 {
            if attempt > 0 {
                // Concurrent submissions for one address (a double click, two tabs) collide here;
                // a short, jittered pause lets the first commit before this one reads again.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % 20;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt + jitter)).await;
            }
            let stored = self.get((pk.clone(), sk.clone())).await?;
            let stored_id =
                stored.as_ref().and_then(|p| p.get("profile_id")).and_then(|v| v.as_s().ok()).cloned();
            let new_profile = stored_id.is_none();
            let id = stored_id.map_or_else(ProfileId::new_random, ProfileId::from_stored);
            let (submission_pk, submission_sk) = keys::submission(id.as_str(), submission.id.as_str());
            let mut item = submission_item(submission);
            item.insert(keys::PK.into(), s(&submission_pk));
            item.insert(keys::SK.into(), s(&submission_sk));
            item.insert("profile_id".into(), s(id.as_str()));
            let put = self.put_if_absent(item)?;
            let update =
                self.profile_update(submission, &pk, &sk, &id, stored.as_ref().filter(|_| !new_profile))?;
            // What it owes, decided from the profile as read (the update's condition refuses the
            // transaction if its flags changed since: suppressed, restricted, objecting), in the
            // same transaction: 2 write units a delivery, where a write of its own with its
            // checks costs 6.
            let profile = upserted(id.clone(), stored.as_ref(), submission);
            let now = submission.client.received_at.epoch_seconds();
            let mut items = vec![
                TransactWriteItem::builder().update(update).build(),
                TransactWriteItem::builder().put(put).build(),
            ];
            let owed = owed(&profile);
            for delivery in &owed.deliveries {
                items.push(self.queued_with_submission(delivery, now)?);
            }
            // An erasure that finds the person under an address they moved to writes the
            // tombstone before it reaches the profile: nothing of theirs is queued meanwhile.
            if !new_profile && owed.deliveries.iter().any(|d| d.event.kind.carries_personal_data()) {
                items.push(self.not_erased(&id)?);
            }
            if let Some(message) = owed.first_mail.as_ref().filter(|_| profile.created) {
                items.push(self.first_mail_with_profile(message, now)?);
            }
            match self.transact_outcome(items).await? {
                Transacted::Committed => return Ok((profile, Inserted::New)),
                Transacted::Conflicted => continue,
                // Either this submission is already stored (a retry), or the profile changed.
                Transacted::Refused => {
                    if let Some(stored) = self.get((submission_pk, submission_sk)).await? {
                        let said = stored.get("request_fingerprint").and_then(|v| v.as_s().ok());
                        if said.is_some_and(|said| *said != submission.fingerprint) {
                            let theirs = UpsertedProfile { created: false, ..upserted(id, None, submission) };
                            return Ok((theirs, Inserted::DifferentRequest));
                        }
                        // The profile as it is now: a flag may have changed since the first read.
                        let now = self.get((pk.clone(), sk.clone())).await?;
                        return Ok((upserted(id, now.as_ref(), submission), Inserted::AlreadyStored));
                    }
                    // At the bound, as counted: count again what is really held.
                    let counted = stored
                        .as_ref()
                        .and_then(|p| p.get(HELD_SUBMISSIONS))
                        .and_then(|v| v.as_n().ok())
                        .and_then(|v| v.parse::<u32>().ok());
                    if let Some(counted) = counted.filter(|c| *c >= submission.held_limit) {
                        let now = submission.client.received_at.epoch_seconds();
                        let held = self.live_submissions(&id, now).await?;
                        if held >= submission.held_limit {
                            return Ok((upserted(id, stored.as_ref(), submission), Inserted::AddressFull));
                        }
                        self.recount_held(&pk, &sk, counted, held).await?;
                    }
                }
            }
        }
        Err(StoreError::Unavailable("the profile kept changing during the submission".into()))
    }
}

impl DynamoStore {
    /// How many of a profile's submissions are live (DynamoDB deletes expired items within days,
    /// not at once, so the expiry is compared too).
    async fn live_submissions(&self, id: &ProfileId, now: i64) -> Result<u32, StoreError> {
        let mut held = 0u32;
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :submission)")
                .filter_expression("attribute_not_exists(#ttl) OR #ttl > :now")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_names("#ttl", keys::TTL)
                .expression_attribute_values(":pk", s(keys::profile_partition(id.as_str())))
                .expression_attribute_values(":submission", s("SUBMISSION#"))
                .expression_attribute_values(":now", n(now))
                .select(aws_sdk_dynamodb::types::Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            held = held.saturating_add(u32::try_from(page.count()).unwrap_or(u32::MAX));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                return Ok(held);
            }
        }
    }

    /// Sets the count to what is held, unless another submission counted meanwhile (then the
    /// next attempt sees that).
    async fn recount_held(&self, pk: &str, sk: &str, counted: u32, held: u32) -> Result<(), StoreError> {
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(keys::PK, s(pk))
            .key(keys::SK, s(sk))
            .update_expression("SET #held = :held")
            .condition_expression("#held = :counted")
            .expression_attribute_names("#held", HELD_SUBMISSIONS)
            .expression_attribute_values(":held", n(held))
            .expression_attribute_values(":counted", n(counted))
            .send()
            .await;
        match written {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failure(&err) => Ok(()),
            Err(err) => Err(classify(err)),
        }
    }
}

fn submission_item(submission: &NewSubmission) -> HashMap<String, AttributeValue> {
    let data = &submission.data;
    let client = &submission.client;
    let consent = &submission.consent;

    let mut fields: HashMap<String, AttributeValue> =
        HashMap::from([("email".into(), s(data.email.as_str()))]);
    let standard = [
        ("name", data.name.clone()),
        ("phone", data.phone.as_ref().map(|p| p.as_e164().to_owned())),
        ("job_title", data.job_title.clone()),
        ("company", data.company.clone()),
        ("country", data.country.map(|c| c.code().to_owned())),
        ("state", data.state.as_ref().map(|s| s.code().to_owned())),
        ("message", data.message.clone()),
    ];
    for (name, value) in standard {
        if let Some(value) = value {
            fields.insert(name.into(), s(value));
        }
    }
    for (name, value) in &data.custom {
        fields.insert(name.clone(), s(value));
    }
    if !data.topics.is_empty() {
        fields.insert("interests".into(), AttributeValue::Ss(data.topics.iter().cloned().collect()));
    }

    let mut browser = HashMap::from([
        ("source_ip".to_owned(), s(&client.source_ip)),
        ("received_at".to_owned(), s(client.received_at.rfc3339())),
    ]);
    for (name, value) in [
        ("user_agent", &client.user_agent),
        ("accept_language", &client.accept_language),
        ("referer", &client.referer),
    ] {
        if let Some(value) = value {
            browser.insert(name.to_owned(), s(value));
        }
    }

    let purposes = consent
        .purposes
        .iter()
        .map(|p| {
            AttributeValue::M(HashMap::from([
                ("id".to_owned(), s(&p.id)),
                (
                    "basis".to_owned(),
                    s(serde_json::to_value(p.basis)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()),
                ),
            ]))
        })
        .collect();
    let mut evidence = HashMap::from([
        ("form".to_owned(), s(consent.form.as_str())),
        ("purposes".to_owned(), AttributeValue::L(purposes)),
        ("policy_version".to_owned(), s(&consent.policy_version)),
        ("given_at".to_owned(), s(consent.given_at.rfc3339())),
        ("source_ip".to_owned(), s(&consent.source_ip)),
        ("marketing_topics".to_owned(), AttributeValue::L(consent.topics.iter().map(s).collect())),
        ("notice_sha256".to_owned(), s(&consent.notice_digest)),
        ("language".to_owned(), s(consent.language.code())),
        ("global_privacy_control".to_owned(), AttributeValue::Bool(consent.global_privacy_control)),
        ("opted_out".to_owned(), AttributeValue::L(consent.opted_out.iter().map(s).collect())),
    ]);
    if let Some(ua) = &consent.user_agent {
        evidence.insert("user_agent".to_owned(), s(ua));
    }

    HashMap::from([
        ("type".into(), s("submission")),
        ("v".into(), n(SCHEMA_VERSION)),
        ("submission_id".into(), s(submission.id.as_str())),
        ("request_fingerprint".into(), s(&submission.fingerprint)),
        ("form".into(), s(submission.form.as_str())),
        ("received_at".into(), s(client.received_at.rfc3339())),
        (keys::TTL.into(), n(submission.expires_at.epoch_seconds())),
        ("fields".into(), AttributeValue::M(fields)),
        ("browser".into(), AttributeValue::M(browser)),
        ("consent".into(), AttributeValue::M(evidence)),
    ])
}
