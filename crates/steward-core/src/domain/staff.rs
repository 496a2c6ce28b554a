//! The company's people in the staff console: who they are (as Cognito vouches, never as a
//! browser says), the groups that decide what each sees, and how they sign in.

use std::collections::BTreeSet;
use std::future::Future;

use serde::Deserialize;

/// A console group (a Cognito user pool group of the same name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    /// Sales: the forms given to them (contact requests).
    Sales,
    /// Marketing: the forms given to them (sign-ups, downloads, the newsletter, surveys).
    Marketing,
    /// The events team: each event's attendees, with their payment state.
    Events,
    /// Recruiters: applicants, their CV verdicts and short-lived links to the CVs.
    Recruiting,
    /// The privacy team: people, the register of requests, the audit log.
    Privacy,
}

impl Group {
    pub const ALL: [Self; 5] = [Self::Sales, Self::Marketing, Self::Events, Self::Recruiting, Self::Privacy];

    pub fn slug(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Marketing => "marketing",
            Self::Events => "events",
            Self::Recruiting => "recruiting",
            Self::Privacy => "privacy",
        }
    }

    pub fn parse(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|group| group.slug() == slug)
    }
}

/// A signed-in staff member, from a token Cognito signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    /// Cognito's stable id for them.
    pub subject: String,
    /// Their user name in the pool (what the pool's administrative calls name them by).
    pub username: String,
    /// Their work address, as Cognito holds it and verified it (staff cannot change it
    /// themselves): what the audit log names them by.
    pub email: String,
    pub groups: BTreeSet<Group>,
    /// When their session ends (epoch seconds): the token's expiry.
    pub expires_at: i64,
}

impl StaffMember {
    pub fn is_in(&self, group: Group) -> bool {
        self.groups.contains(&group)
    }

    /// Whether they may read what is given to `teams` (a form's submissions): they are in one.
    pub fn may_read(&self, teams: &[Group]) -> bool {
        teams.iter().any(|team| self.is_in(*team))
    }

    /// How the audit log names them.
    pub fn actor(&self) -> crate::domain::privacy::audit::Actor {
        crate::domain::privacy::audit::Actor::Staff(self.email.clone())
    }
}

/// Where a sign-in stands after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStep {
    /// Signed in: the token to keep (in the session cookie), and how long it lasts.
    SignedIn { token: String, expires_in: i64 },
    /// The authenticator app's code is asked for.
    Code { session: String },
    /// A first sign-in with the invitation's temporary password: a new one is asked for.
    NewPassword { session: String },
    /// A first sign-in: an authenticator app is set up with this secret, then its code asked for.
    SetUpApp { session: String, secret: String },
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The address, password or code is wrong: one answer for all, so that it tells no one
    /// which addresses have accounts.
    #[error("the address, password or code is not right")]
    Refused,
    /// The new password does not meet the pool's policy.
    #[error("{0}")]
    WeakPassword(String),
    /// Too many attempts.
    #[error("too many attempts; wait a few minutes")]
    Throttled,
    #[error("the sign-in service is unavailable: {0}")]
    Unavailable(String),
}

/// Cognito, as the console signs in with it.
pub trait StaffSignIn {
    fn password(
        &self,
        email: &str,
        password: &str,
    ) -> impl Future<Output = Result<SignInStep, SignInError>> + Send;
    fn code(
        &self,
        email: &str,
        session: &str,
        code: &str,
    ) -> impl Future<Output = Result<SignInStep, SignInError>> + Send;
    fn new_password(
        &self,
        email: &str,
        session: &str,
        password: &str,
    ) -> impl Future<Output = Result<SignInStep, SignInError>> + Send;
    /// The first code of a newly set-up app: it proves the app holds the secret.
    fn app_code(
        &self,
        email: &str,
        session: &str,
        code: &str,
    ) -> impl Future<Output = Result<SignInStep, SignInError>> + Send;
}

/// Why a token is not accepted, or could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a valid token of the pool: no session.
    #[error("the staff token is not accepted: {0}")]
    Refused(String),
    /// The pool's keys or its directory could not be read: try again later (the session stands).
    #[error("the staff token could not be checked: {0}")]
    Unavailable(String),
}

/// Checks a token Cognito issued: its signature by the pool's keys, issuer, audience and expiry.
pub trait StaffTokens {
    fn staff_member(&self, token: &str) -> impl Future<Output = Result<StaffMember, TokenError>> + Send;
}

/// The pool's directory, read at each request: an account disabled (they left) ends its
/// sessions at once, and a change of groups takes effect at once, not when the token expires.
pub trait StaffDirectory {
    /// Their groups now, or `None` when the account is disabled or gone.
    fn current_groups(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<BTreeSet<Group>>, TokenError>> + Send;
}
