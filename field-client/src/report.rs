//! How `field` prints results: JSON with `--json`, otherwise short text for a technician.

use chrono::{DateTime, Local};
use field_client::import::Imported;
use field_client::login::Login;
use field_client::money::format_amount;
use field_client::status::SyncBacklog;
use field_client::sync::SyncReport;
use field_client::tablet::Recorded;
use field_client::tablet::view::{JobLine, JobView};
use serde::Serialize;

/// A command's result, printable as text or JSON.
pub trait Report: Serialize {
    /// The text shown without `--json`.
    fn text(&self) -> String;
}

/// Prints one result.
pub fn emit(json: bool, report: &impl Report) -> anyhow::Result<()> {
    if json {
        say(&serde_json::to_string_pretty(report)?)?;
    } else {
        say(&report.text())?;
    }
    Ok(())
}

/// Prints a list of results: a JSON array, or one text block each.
pub fn emit_all<R: Report>(json: bool, reports: &[R]) -> anyhow::Result<()> {
    if json {
        say(&serde_json::to_string_pretty(reports)?)?;
    } else {
        for report in reports {
            say(&report.text())?;
        }
    }
    Ok(())
}

/// One line (or block) on standard output. Unlike `println!`, a reader that went away
/// (`field jobs | head`) is an error the caller returns, not a panic; `main` then exits quietly.
pub fn say(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Whether `error` is standard output's reader having gone away.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Local date and time of a device or server timestamp.
fn when(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// The snake_case word a value serializes to ("in_progress"), as `--json` shows it.
fn word(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        _ => String::new(),
    }
}

fn short(id: &impl ToString) -> String {
    id.to_string().chars().take(8).collect()
}

/// `field login`: what was stored, and whether the server already accepted the token.
#[derive(Debug, Serialize)]
pub struct LoginOutcome {
    #[serde(flatten)]
    pub login: Login,
    /// The server was reached and accepted the token.
    pub checked: bool,
}

impl Report for LoginOutcome {
    fn text(&self) -> String {
        if self.checked {
            format!(
                "Logged in to {}; the server accepted this device. Run `field sync` for your jobs.",
                self.login.server_url
            )
        } else {
            format!(
                "Logged in to {} (the server could not be reached; the token is checked at the \
                 first `field sync`)",
                self.login.server_url
            )
        }
    }
}

impl Report for SyncReport {
    fn text(&self) -> String {
        SyncReport::text(self)
    }
}

impl Report for Vec<JobLine> {
    fn text(&self) -> String {
        if self.is_empty() {
            return "No jobs assigned to you".to_owned();
        }
        let lines: Vec<String> = self
            .iter()
            .map(|line| {
                let job = &line.listed;
                let status = line
                    .local_status
                    .map_or_else(|| "not downloaded".to_owned(), |s| word(&s));
                let pending = match line.pending_changes {
                    0 => String::new(),
                    n => format!(", {n} change(s) not synced"),
                };
                format!(
                    "{}  {} – {}  {} ({}), {}  [{}, {status}{pending}]",
                    job.number.clone().unwrap_or_else(|| short(&job.job_id)),
                    when(job.window_start.0),
                    when(job.window_end.0).split(' ').nth(1).unwrap_or_default(),
                    job.customer_name,
                    job.kind,
                    job.address,
                    job.state,
                )
            })
            .collect();
        lines.join("\n")
    }
}

impl Report for JobView {
    fn text(&self) -> String {
        let job = &self.job;
        let visit = &job.visit;
        let mut out = vec![
            match &job.number {
                Some(number) => format!("Job {number} ({}), {}", job.kind, self.job_id),
                None => format!("Job {} ({})", self.job_id, job.kind),
            },
            format!("Customer: {}, {}", job.customer.name, job.customer.address),
            format!(
                "Window: {} – {}",
                when(job.appointment.window_start.0),
                when(job.appointment.window_end.0)
            ),
            format!("Status: {}", word(&self.evaluation.status)),
        ];
        let stamp = |s: &Option<field_client::sync_protocol::job::VisitStamp>| {
            s.as_ref().map_or("-".to_owned(), |s| when(s.at.0))
        };
        out.push(format!(
            "Arrived: {}   Departed: {}",
            stamp(&visit.arrival),
            stamp(&visit.departure)
        ));
        for grant in &visit.permissions {
            out.push(format!(
                "Permission: {} (allowed by {})",
                grant.item, grant.granted_by
            ));
        }
        if !visit.work_notes.is_empty() {
            out.push(format!(
                "Work notes: {}",
                visit.work_notes.replace('\n', " / ")
            ));
        }
        for item in &visit.work_items {
            out.push(format!(
                "Work item: {} × {}",
                item.quantity, item.description
            ));
        }
        if let Some(p) = &visit.payment_due {
            out.push(format!(
                "Payment due: {} by bank transfer, reference {}",
                format_amount(p.amount_minor, &p.currency),
                p.transfer_reference
            ));
        }
        if let Some(s) = &visit.signature {
            out.push(format!(
                "Signed by {} at {}",
                s.signer_name,
                when(s.signed_at.0)
            ));
        }
        for card in &visit.feedback_cards {
            out.push(format!(
                "Feedback card: {} photo(s){}",
                card.photo_sha256s.len(),
                card.rating
                    .map(|r| format!(", {r} stars"))
                    .unwrap_or_default()
            ));
        }
        if let Some(c) = &visit.cleanup {
            out.push(format!(
                "Cleanup: debris {}, consent {}, departure witnessed: {}",
                c.debris,
                c.consented_by.as_deref().unwrap_or("-"),
                if c.departure_witnessed { "yes" } else { "no" }
            ));
        }
        for upload in &self.uploads {
            let refusal = upload
                .refusal
                .as_deref()
                .map(|reason| format!(": {reason}; take it again"))
                .unwrap_or_default();
            out.push(format!(
                "Upload: {} {} ({}{refusal})",
                upload.kind.as_str(),
                short(&upload.sha256),
                word(&upload.state)
            ));
        }
        if self.evaluation.complete {
            out.push("Complete".to_owned());
        } else if self.complete_once_uploaded() {
            out.push("Complete once the uploads reach the office".to_owned());
        } else {
            for missing in &self.missing_once_uploaded {
                out.push(format!("Missing: {}", missing.description()));
            }
        }
        out.join("\n")
    }
}

impl Report for Recorded {
    fn text(&self) -> String {
        let mut out = format!(
            "Recorded {} on job {} at {}",
            self.action.replace('_', " "),
            short(&self.job_id),
            when(self.at)
        );
        if let Some(detail) = &self.detail {
            out.push_str(&format!(": {detail}"));
        }
        for a in &self.attachments {
            out.push_str(&format!(
                "\nQueued for upload: {} {} ({} bytes)",
                a.kind, a.sha256, a.size
            ));
        }
        if let Some(summary) = &self.summary_sha256 {
            out.push_str(&format!("\nThe customer signed the job summary {summary}"));
        }
        out
    }
}

impl Report for SyncBacklog {
    fn text(&self) -> String {
        let mut out = vec![match &self.server_url {
            Some(url) => format!("Server: {url}"),
            None => "Not logged in".to_owned(),
        }];
        out.push(match self.last_sync_at {
            Some(at) => format!("Last sync: {}", when(at)),
            None => "Last sync: never".to_owned(),
        });
        for doc in &self.pending_changes {
            out.push(format!(
                "Not synced: {} change(s) to {} {}",
                doc.changes,
                doc.kind.as_str().replace('_', " "),
                doc.document_id
            ));
        }
        for upload in &self.pending_uploads {
            out.push(format!(
                "Not uploaded: {} of job {} {} ({} of {} bytes sent)",
                upload.kind.as_str(),
                short(&upload.job_id),
                upload.sha256,
                upload.upload_offset,
                upload.size
            ));
        }
        for upload in &self.refused_uploads {
            out.push(format!(
                "Refused by the office: {} of job {} {} ({}); take it again",
                upload.kind.as_str(),
                short(&upload.job_id),
                upload.sha256,
                upload.refusal.as_deref().unwrap_or("no reason given")
            ));
        }
        if self.is_empty() {
            out.push("Everything on this tablet has reached the server".to_owned());
        }
        out.join("\n")
    }
}

impl Report for Imported {
    fn text(&self) -> String {
        format!(
            "Imported {} {} ({})",
            self.kind.as_str().replace('_', " "),
            self.document_id,
            self.label
        )
    }
}
