//! The command line: arguments (clap) and what each command does with the tablet.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use field_client::Tablet;
use field_client::import::{ImportSource, import_documents};
use field_client::status::SyncBacklog;
use field_client::sync_protocol::job::DebrisDecision;
use field_client::tablet::evidence::{CardNotes, PhotoKind};
use field_client::tablet::visit::{CleanupInput, PaymentDueInput};

use field_client::login::AccessToken;
use field_client::sync::{self, LoginCheck, SyncError, SyncOptions, SyncReport, WatchOptions};

use crate::report::{LoginOutcome, emit, emit_all, say};

/// Record on-site service visits offline; they reach the office when the tablet syncs.
#[derive(Debug, Parser)]
#[command(name = "field", version)]
pub struct Cli {
    /// The tablet's data directory [default: ~/.fieldsync]
    #[arg(long, global = true, env = "FIELDSYNC_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Store the server and this device's token (checked at the first sync)
    Login {
        #[arg(long, value_name = "URL")]
        server: String,
        #[arg(
            long,
            env = "FIELDSYNC_TOKEN",
            hide_env_values = true,
            value_name = "TOKEN"
        )]
        token: String,
    },
    /// List your jobs with their window, customer, address and status
    Jobs,
    /// Show one job with its visit evidence and what is still missing
    Show { job: String },
    /// Record your arrival at the customer's site
    Arrive { job: String },
    /// Record that the customer allowed you to touch one of their belongings
    Permit {
        job: String,
        /// What you may touch or use ("move the sofa")
        #[arg(long)]
        item: String,
        /// Who allowed it
        #[arg(long, value_name = "NAME")]
        granted_by: String,
    },
    /// Add a work note and/or a line of work done or material fitted
    #[command(arg_required_else_help = true)]
    Work {
        job: String,
        /// A line added to the work notes
        #[arg(long, value_name = "TEXT", required_unless_present = "item")]
        note: Option<String>,
        /// Work done or material fitted
        #[arg(long, value_name = "DESCRIPTION")]
        item: Option<String>,
        #[arg(long, value_name = "N", default_value_t = 1, requires = "item")]
        quantity: u64,
    },
    /// Record an extra amount the customer pays by bank transfer (never cash)
    Pay {
        job: String,
        /// The amount, like 120.50
        #[arg(long)]
        amount: String,
        /// Three-letter currency code
        #[arg(long, default_value = "CNY")]
        currency: String,
        /// The transfer reference the customer writes on the payment
        #[arg(long, value_name = "REF")]
        reference: String,
        /// Only bank_transfer is accepted
        #[arg(long, default_value = "bank_transfer")]
        method: String,
    },
    /// Capture the customer's signature from the pad's strokes file
    Sign {
        job: String,
        /// The name of the person signing
        #[arg(long, value_name = "NAME")]
        signer: String,
        /// JSON: a list of strokes, each a list of [x, y] points
        #[arg(long, value_name = "FILE")]
        strokes: PathBuf,
    },
    /// Attach photos of the feedback card, or a photo of the cleaned site
    Photo {
        job: String,
        #[arg(long, value_enum)]
        kind: PhotoArg,
        /// JPEG, PNG or WebP files
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The card's rating, 1 to 5
        #[arg(long)]
        rating: Option<i64>,
        /// The card's comment, typed in
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Confirm the site is clean and the customer agreed how to handle the debris
    Cleanup {
        job: String,
        #[arg(long, value_enum)]
        debris: DebrisArg,
        /// Who agreed to the debris decision (required unless there was no debris)
        #[arg(long, value_name = "NAME")]
        consent_by: Option<String>,
        /// The customer watched you leave
        #[arg(long)]
        witnessed: bool,
        /// A photo of the cleaned site
        #[arg(long, value_name = "FILE")]
        photo: Option<PathBuf>,
    },
    /// Record leaving the site
    Depart { job: String },
    /// Show what has not reached the server yet and when the tablet last synced
    Status,
    /// Exchange documents and uploads with the server; safe to run again at any time
    Sync {
        /// Keep syncing until stopped (Ctrl-C or SIGTERM): at once when something is recorded,
        /// at the latest every --every seconds, and with growing pauses while offline
        #[arg(long)]
        watch: bool,
        /// With --watch: the longest time between two syncs, in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 60, requires = "watch",
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        every: u64,
    },
    /// Open the touch screen: serves it on this tablet (loopback only by default) and syncs in
    /// the background while it is open. Prints the URL to open (with this launch's key) first
    #[command(name = "ui")]
    Ui {
        /// Where to listen; anything but loopback lets other devices reach the screen
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
        bind: std::net::SocketAddr,
        /// The longest time between two background syncs, in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 30,
              value_parser = clap::value_parser!(u64).range(1..=86_400))]
        every: u64,
    },
    /// Support: load job and index documents from Automerge files ([ID=]FILE, the file name
    /// being the id when ID= is left out), as if received from the server
    #[command(name = "import-docs")]
    ImportDocs {
        #[arg(required = true, value_name = "[ID=]FILE")]
        documents: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum PhotoArg {
    FeedbackCard,
    Cleanup,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
enum DebrisArg {
    TakenAway,
    LeftAtCustomerRequest,
    None,
}

/// Runs one command and prints its result.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let home = match cli.home {
        Some(home) => home,
        None => default_home()?,
    };
    let json = cli.json;
    let mut tablet = Tablet::open(&home)?;
    match cli.command {
        Command::Login { server, token } => emit(json, &login(&mut tablet, &server, &token)?),
        Command::Jobs => emit(json, &tablet.jobs()?),
        Command::Show { job } => emit(json, &tablet.show(&job)?),
        Command::Arrive { job } => emit(json, &tablet.arrive(&job)?),
        Command::Permit {
            job,
            item,
            granted_by,
        } => emit(json, &tablet.permit(&job, &item, &granted_by)?),
        Command::Work {
            job,
            note,
            item,
            quantity,
        } => {
            let mut recorded = Vec::new();
            if let Some(note) = note {
                recorded.push(tablet.add_work_note(&job, &note)?);
            }
            if let Some(item) = item {
                recorded.push(tablet.add_work_item(&job, &item, quantity)?);
            }
            emit_all(json, &recorded)
        }
        Command::Pay {
            job,
            amount,
            currency,
            reference,
            method,
        } => {
            let input = PaymentDueInput {
                amount: &amount,
                currency: &currency,
                method: &method,
                transfer_reference: &reference,
            };
            emit(json, &tablet.record_payment_due(&job, &input)?)
        }
        Command::Sign {
            job,
            signer,
            strokes,
        } => emit(json, &tablet.sign(&job, &signer, &strokes)?),
        Command::Photo {
            job,
            kind,
            files,
            rating,
            comment,
        } => {
            let kind = match kind {
                PhotoArg::FeedbackCard => PhotoKind::FeedbackCard,
                PhotoArg::Cleanup => PhotoKind::Cleanup,
            };
            let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
            let notes = CardNotes {
                rating,
                comment: comment.as_deref(),
            };
            emit(json, &tablet.attach_photos(&job, kind, &files, &notes)?)
        }
        Command::Cleanup {
            job,
            debris,
            consent_by,
            witnessed,
            photo,
        } => {
            let input = CleanupInput {
                debris: match debris {
                    DebrisArg::TakenAway => DebrisDecision::TakenAway,
                    DebrisArg::LeftAtCustomerRequest => DebrisDecision::LeftAtCustomerRequest,
                    DebrisArg::None => DebrisDecision::None,
                },
                consented_by: consent_by.as_deref(),
                departure_witnessed: witnessed,
                photo: photo.as_deref(),
            };
            emit(json, &tablet.confirm_cleanup(&job, &input)?)
        }
        Command::Depart { job } => emit(json, &tablet.depart(&job)?),
        Command::Status => emit(json, &SyncBacklog::read(tablet.store())?),
        Command::ImportDocs { documents } => {
            let sources = documents
                .iter()
                .map(|d| ImportSource::parse(d).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<_>>>()?;
            emit_all(json, &import_documents(tablet.store_mut(), &sources)?)
        }
        Command::Sync { watch: false, .. } => {
            let report =
                online()?.block_on(sync::run(tablet.store_mut(), &SyncOptions::default()))?;
            emit(json, &report)?;
            still_pending(&report)
        }
        Command::Ui { bind, every } => {
            drop(tablet);
            let options = field_client::ui::UiOptions {
                home,
                bind,
                every: Duration::from_secs(every),
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("cannot start the screen's runtime")?;
            runtime.block_on(field_client::ui::serve(
                options,
                |url| {
                    let line = if json {
                        serde_json::json!({ "url": url }).to_string()
                    } else {
                        url.to_owned()
                    };
                    // The URL first, alone on its line: what a shell or a test opens.
                    drop(say(&line));
                },
                stop_signal(),
            ))
        }
        Command::Sync { watch: true, every } => {
            let pacing = WatchOptions::every(Duration::from_secs(every));
            let options = SyncOptions::default();
            let watching = sync::watch(
                tablet.store_mut(),
                &options,
                &pacing,
                stop_signal(),
                |outcome| print_watched_run(json, outcome),
            );
            online()?.block_on(watching)?;
            Ok(())
        }
    }
}

/// One run of `field sync --watch`: the report on stdout (one JSON object per line with
/// `--json`), a failure as one line on stderr; the watch goes on either way.
fn print_watched_run(json: bool, outcome: Result<&SyncReport, &SyncError>) {
    match outcome {
        Ok(report) if json => match serde_json::to_string(report) {
            // A reader gone away does not stop the tablet syncing.
            Ok(line) => drop(say(&line)),
            Err(error) => eprintln!("field: cannot print the sync report: {error}"),
        },
        Ok(report) => drop(say(&format!("{}\n", report.text()))),
        Err(error) => eprintln!("field: {error}"),
    }
}

/// A sync that leaves work on the tablet does not end as a success, whatever else it did: a
/// script or a technician must not read "done" while the office lacks something.
fn still_pending(report: &SyncReport) -> anyhow::Result<()> {
    if report.pending_changes == 0 && report.pending_uploads == 0 {
        return Ok(());
    }
    anyhow::bail!(
        "{} changes and {} files have not reached the office yet; they stay on this tablet. \
         Run `field sync` again (or keep `field sync --watch` running)",
        report.pending_changes,
        report.pending_uploads
    )
}

/// The runtime for the commands that go online; everything else stays synchronous.
fn online() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")
}

/// Checks the token with the server when it can be reached, then stores it. A token the
/// server refuses is not stored; an unreachable server leaves the check to the first sync.
fn login(tablet: &mut Tablet, server: &str, token: &str) -> anyhow::Result<LoginOutcome> {
    let url = field_client::login::parse_server_url(server)?;
    let access = AccessToken::parse(token)?;
    let check = online()?.block_on(sync::check_login(&url, &access))?;
    let login = tablet.login(server, token)?;
    if let LoginCheck::Verified {
        index_document: Some(index),
    } = check
    {
        tablet.store_mut().adopt_index_document(index)?;
    }
    Ok(LoginOutcome {
        login,
        checked: matches!(check, LoginCheck::Verified { .. }),
    })
}

fn default_home() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .context("HOME is not set; give the tablet's data directory with --home DIR")?;
    Ok(PathBuf::from(home).join(".fieldsync"))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
