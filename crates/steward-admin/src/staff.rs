//! The staff console's accounts: inviting a colleague (Cognito mails them a temporary password;
//! their first sign-in sets their own and an authenticator app), the groups that decide what they
//! see, and ending an account when they leave (disabled, every session signed out). Each in the
//! audit log, naming no one: the count and the groups.

use aws_sdk_cognitoidentityprovider::types::AttributeType;
use steward_core::domain::fields::Email;
use steward_core::domain::staff::Group;
use steward_core::telemetry::error_chain;

use crate::context::{Context, Record};
use crate::Done;

fn groups_of(groups: &[String]) -> Result<Vec<Group>, String> {
    if groups.is_empty() {
        return Err("give at least one --group".into());
    }
    groups
        .iter()
        .map(|g| {
            Group::parse(g).ok_or_else(|| {
                let known: Vec<&str> = Group::ALL.iter().map(|g| g.slug()).collect();
                format!("{g:?} is not a console group; one of: {}", known.join(", "))
            })
        })
        .collect()
}

fn address(email: &str) -> Result<String, String> {
    Email::parse("email", email)
        .map(|e| e.as_str().to_lowercase())
        .map_err(|e| format!("--email: {}", e.message))
}

/// The record of a change to a staff account: it names the account as the console's own records
/// name its users (`staff:<work address>`), and counts the groups changed.
fn staff_record<'a>(action: &'a str, email: &str, groups: &[&str]) -> Record<'a> {
    let mut record = Record::new(action, "ok").subject_owned(format!("staff:{email}"));
    for group in groups {
        record = record.count(&format!("group:{group}"), 1);
    }
    record
}

pub async fn invite(context: &Context, email: &str, groups: &[String]) -> Result<Done, String> {
    let groups = groups_of(groups)?;
    let email = address(email)?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&context.aws);
    let pool = context.staff_pool(&cognito).await?;
    let attribute = |name: &str, value: &str| AttributeType::builder().name(name).value(value).build();
    cognito
        .admin_create_user()
        .user_pool_id(&pool)
        .username(&email)
        .user_attributes(attribute("email", &email).map_err(|e| e.to_string())?)
        .user_attributes(attribute("email_verified", "true").map_err(|e| e.to_string())?)
        .desired_delivery_mediums(aws_sdk_cognitoidentityprovider::types::DeliveryMediumType::Email)
        .send()
        .await
        .map_err(|e| format!("inviting them failed: {}", error_chain(&e)))?;
    for group in &groups {
        cognito
            .admin_add_user_to_group()
            .user_pool_id(&pool)
            .username(&email)
            .group_name(group.slug())
            .send()
            .await
            .map_err(|e| format!("adding them to {} failed: {}", group.slug(), error_chain(&e)))?;
    }
    let slugs: Vec<&str> = groups.iter().map(|g| g.slug()).collect();
    let joined = slugs.join(",");
    context
        .audit(Record::new("invite-staff", "ok").subject(Some(&joined)).count("groups", groups.len() as u64))
        .await?;
    Ok(Done::ok(format!(
        "invited to the staff console, in {}: Cognito mails them a temporary password; at their first sign-in they choose their own and set up an authenticator app",
        slugs.join(", ")
    )))
}

pub async fn remove(context: &Context, email: &str, groups: &[String]) -> Result<Done, String> {
    let email = address(email)?;
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&context.aws);
    let pool = context.staff_pool(&cognito).await?;
    if !groups.is_empty() {
        let groups = groups_of(groups)?;
        for group in &groups {
            cognito
                .admin_remove_user_from_group()
                .user_pool_id(&pool)
                .username(&email)
                .group_name(group.slug())
                .send()
                .await
                .map_err(|e| format!("taking them out of {} failed: {}", group.slug(), error_chain(&e)))?;
        }
        let slugs: Vec<&str> = groups.iter().map(|g| g.slug()).collect();
        context.audit(staff_record("remove-staff-from-groups", &email, &slugs)).await?;
        return Ok(Done::ok(format!(
            "taken out of {}: the console shows them no more of it, from their next page",
            slugs.join(", ")
        )));
    }
    cognito
        .admin_disable_user()
        .user_pool_id(&pool)
        .username(&email)
        .send()
        .await
        .map_err(|e| format!("disabling them failed: {}", error_chain(&e)))?;
    cognito
        .admin_user_global_sign_out()
        .user_pool_id(&pool)
        .username(&email)
        .send()
        .await
        .map_err(|e| format!("signing them out failed: {}", error_chain(&e)))?;
    context.audit(staff_record("remove-staff", &email, &[])).await?;
    Ok(Done::ok("their account is disabled and signed out everywhere: the console refuses their next page, and they cannot sign in again"))
}
