//! `steward-admin`: operator commands for what no self-service page covers, run with the
//! operator's own AWS credentials (never a public endpoint). Every command is recorded in the
//! audit log with the caller's AWS identity. docs/operating.md: "Administering Steward".

mod context;
mod cv;
mod deliveries;
mod people;
mod runs;
mod staff;
mod teams;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use context::{Context, Settings};

const ENVIRONMENT_HELP: &str = "\
Where it acts: --stack names a deployed stack (its table `<stack>-profiles`, its bucket
`<stack>-cvs-<account>` and its secrets `<stack>/hash-key`, `<stack>/mail-link-keys`,
`<stack>/stripe-api`, `<stack>/webhook-keys`, read with your credentials). --table, --bucket and
the --*-secret options override one of them. Without a stack or a secret, HASH_KEY,
TOKEN_KEYS_MAIL_LINKS, STRIPE_SECRET_KEY and WEBHOOK_SIGNING_KEY are read from the environment (the local stack: `set -a; . infra/local.env`).

Against the local stack (`make dev`): `make admin ARGS='...'` sets AWS_ENDPOINT_URL (moto),
STRIPE_API_BASE (the Stripe emulator) and --stack steward-local.

Every command writes an audit record (`steward-admin audit`) naming your AWS identity.
Long runs (campaign, sweep, replay-stripe, the listings, deliveries replay) print progress on stderr and a summary on stdout;
Ctrl-C stops them after the current step (exit status 130) and running the same command again
carries on.";

#[derive(Parser)]
#[command(
    name = "steward-admin",
    version,
    about = "Operate Steward: what no self-service page covers",
    after_long_help = ENVIRONMENT_HELP
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Command,
}

/// A person, by address or by profile id.
#[derive(Args, Debug, Clone)]
#[group(required = true, multiple = false)]
pub struct Who {
    /// Their email address (found by its keyed hash, as the functions find it).
    #[arg(long)]
    pub email: Option<String>,
    /// Their profile id (from `find`, a support mail, or an export).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

// Parsed once per run: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Find a profile by email address: its id, topics, limits and what is held.
    Find {
        #[arg(long)]
        email: String,
        /// Print everything held, as the person's own export shows it.
        #[arg(long)]
        json: bool,
        /// Your reference for the request that led you here (a ticket id; never an address).
        #[arg(long)]
        ticket: Option<String>,
    },
    /// A person's history, oldest first: submissions, payments, mail preference and profile changes.
    History {
        #[command(flatten)]
        who: Who,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Export everything held about a person, for a request received by mail (Article 15/20).
    Export {
        #[command(flatten)]
        who: Who,
        /// The request's reference (a ticket id), kept in the audit log.
        #[arg(long)]
        ticket: String,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// Write it to this file (created, readable by you only) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Erase a person, for a request received by mail (Article 17): what erasure in the privacy
    /// center does, including the confirmation mail. Without --yes it shows what would go.
    Erase {
        #[command(flatten)]
        who: Who,
        /// The request's reference (a ticket id), kept in the audit log.
        #[arg(long)]
        ticket: String,
        /// Really erase.
        #[arg(long)]
        yes: bool,
        /// Send no confirmation mail (when the person was answered another way).
        #[arg(long)]
        no_mail: bool,
    },
    /// Print a short-lived download link for an application's verified CV (for a recruiter).
    CvLink {
        /// The careers application (its submission id).
        #[arg(long)]
        application: String,
        /// How long the link works, in seconds (at most an hour).
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
        expires_in: u64,
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Apply the Stripe events created in a time range that were not applied yet (after the
    /// webhook was down or refused them); events already applied are skipped.
    ReplayStripe {
        /// From this time on: RFC 3339 (2026-11-29T10:00:00Z) or a duration ago (90m, 36h, 3d).
        #[arg(long)]
        since: String,
        /// Up to this time (same forms); now when left out.
        #[arg(long)]
        until: Option<String>,
        /// Stop after this many events (run again to carry on).
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Run the retention sweep now: delete what has expired, and the profiles nothing is kept for.
    Sweep,
    /// Queue a topic's campaign for its confirmed subscribers; the outbox sends it at the
    /// configured rate. Running it again with the same --id resumes it: nobody gets it twice.
    Campaign {
        /// Stable campaign id (for example 2026-12-cloud-launch).
        #[arg(long)]
        id: String,
        /// The interest topic (forms.toml [topics]).
        #[arg(long)]
        topic: String,
        #[arg(long)]
        subject: String,
        /// A text file: paragraphs separated by blank lines.
        #[arg(long)]
        body_file: PathBuf,
        /// Stop after queuing this many (a first wave); run again to queue the rest.
        #[arg(long)]
        limit: Option<u64>,
        /// The language the subject and body are written in (en, de): the message around them
        /// (greeting, unsubscribe and preference links, footer) is written in it too.
        #[arg(long, default_value = "en", value_parser = parse_language)]
        language: steward_core::i18n::Lang,
    },
    /// A form's submissions, newest first (for the team the form's data is for).
    Submissions {
        /// The form (forms.toml), e.g. contact-us.
        #[arg(long)]
        form: String,
        #[arg(long, value_enum, default_value = "table")]
        format: teams::Listing,
        #[arg(long)]
        ticket: Option<String>,
    },
    /// An event's attendees, with each registration's payment state.
    Attendees {
        /// The event (payments.toml), e.g. identity-workshop.
        #[arg(long)]
        event: String,
        #[arg(long, value_enum, default_value = "table")]
        format: teams::Listing,
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Job applications, with each CV's verdict, and with --links a short-lived link to each
    /// verified CV.
    Applicants {
        /// Only applications whose position contains this (case-insensitive).
        #[arg(long)]
        position: Option<String>,
        /// Add a link to each verified CV.
        #[arg(long)]
        links: bool,
        /// How long each link works, in seconds (at most an hour).
        #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=3600))]
        expires_in: u64,
        #[arg(long, value_enum, default_value = "table")]
        format: teams::Listing,
        #[arg(long)]
        ticket: Option<String>,
    },
    /// Deliveries to destinations: dead letters, replaying them, a webhook's signing secret.
    Deliveries {
        #[command(subcommand)]
        action: DeliveriesAction,
    },
    /// The staff console's accounts: invite a colleague into groups, or end an account.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// The audit log: operator actions and erasures, oldest first.
    Audit {
        /// From this month or time (2026-11, or RFC 3339, or a duration ago); this month by default.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum DeliveriesAction {
    /// Deliveries given up after their last retry.
    Dead {
        #[arg(long)]
        json: bool,
    },
    /// Queue dead letters again (the destination is back).
    Replay {
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
    /// The Standard Webhooks secret (whsec_...) a webhook destination's receiver verifies with.
    Secret {
        #[arg(long)]
        destination: String,
    },
}

#[derive(Subcommand)]
enum StaffAction {
    /// Invite them: Cognito mails a temporary password; their first sign-in sets their own
    /// password and an authenticator app.
    Invite {
        #[arg(long)]
        email: String,
        /// A group they work in (sales, marketing, events, recruiting, privacy); repeat for more.
        #[arg(long = "group", required = true)]
        groups: Vec<String>,
    },
    /// End their account (they left): disabled, and signed out everywhere; or, with --group,
    /// take them out of those groups only.
    Remove {
        #[arg(long)]
        email: String,
        #[arg(long = "group")]
        groups: Vec<String>,
    },
}

/// What a command prints at the end, and how it exits.
pub struct Done {
    pub output: String,
    pub status: ExitCode,
}

impl Done {
    pub fn ok(output: impl Into<String>) -> Self {
        Self { output: output.into(), status: ExitCode::SUCCESS }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let context = match Context::connect(cli.settings).await {
        Ok(context) => context,
        Err(message) => {
            eprintln!("steward-admin: {message}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Find { email, json, ticket } => people::find(&context, &email, json, ticket).await,
        Command::History { who, json, ticket } => people::history(&context, &who, json, ticket).await,
        Command::Export { who, ticket, format, out } => {
            people::export(&context, &who, &ticket, format, out.as_deref()).await
        }
        Command::Erase { who, ticket, yes, no_mail } => {
            people::erase(&context, &who, &ticket, yes, no_mail).await
        }
        Command::CvLink { application, expires_in, ticket } => {
            cv::link(&context, &application, expires_in, ticket).await
        }
        Command::ReplayStripe { since, until, limit } => {
            runs::replay_stripe(&context, &since, until.as_deref(), limit).await
        }
        Command::Sweep => runs::sweep(&context).await,
        Command::Campaign { id, topic, subject, body_file, limit, language } => {
            steward_core::i18n::scope(
                language,
                runs::campaign(&context, id, topic, subject, &body_file, limit),
            )
            .await
        }
        Command::Audit { since, json } => people::audit(&context, since.as_deref(), json).await,
        Command::Submissions { form, format, ticket } => {
            teams::submissions(&context, &form, format, ticket).await
        }
        Command::Attendees { event, format, ticket } => {
            teams::attendees(&context, &event, format, ticket).await
        }
        Command::Applicants { position, links, expires_in, format, ticket } => {
            teams::applicants(&context, position.as_deref(), links, expires_in, format, ticket).await
        }
        Command::Staff { action } => match action {
            StaffAction::Invite { email, groups } => staff::invite(&context, &email, &groups).await,
            StaffAction::Remove { email, groups } => staff::remove(&context, &email, &groups).await,
        },
        Command::Deliveries { action } => match action {
            DeliveriesAction::Dead { json } => deliveries::dead(&context, json).await,
            DeliveriesAction::Replay { id, all } => deliveries::replay(&context, id.as_deref(), all).await,
            DeliveriesAction::Secret { destination } => deliveries::secret(&context, &destination).await,
        },
    };
    match result {
        Ok(done) => {
            if !done.output.is_empty() {
                println!("{}", done.output);
            }
            done.status
        }
        Err(message) => {
            eprintln!("steward-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A language Steward ships, by its tag (`en`, `de`).
fn parse_language(tag: &str) -> Result<steward_core::i18n::Lang, String> {
    steward_core::i18n::Lang::from_code(tag).ok_or_else(|| {
        let known: Vec<&str> = steward_core::i18n::Lang::ALL.iter().map(|lang| lang.code()).collect();
        format!("{tag:?} is not a language Steward ships; one of: {}", known.join(", "))
    })
}
