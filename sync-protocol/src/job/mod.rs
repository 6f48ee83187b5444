//! The job document, schema version 1: one Automerge document per job, written by the server
//! (on a dispatcher's behalf) and by the technician's tablet, merged on the server.
//!
//! - [`schema`]: every key and the document layout, shared by reading, writing and ownership.
//! - [`JobDocument::load`] / [`JobDocument::read`]: typed, tolerant, never-panicking reading.
//! - [`JobDocument::create`], [`DispatcherActions`], [`TechnicianActions`]: typed writing with
//!   validation that refuses what the service rules forbid (cash, unsigned signatures...).
//! - [`ownership`]: which role may change which path, checked on the changes a peer sends.
//! - [`evaluation`]: the derived state the server projects: status, completion, review flags.
//! - [`summary`]: the canonical job summary a customer's signature is bound to.
//!
//! ```
//! use sync_protocol::job::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The server books the job for a dispatcher...
//! let mut doc = JobDocument::create(&NewJob {
//!     kind: JobKind::Repair,
//!     number: Some("FS-2026-00042".into()),
//!     customer: CustomerSnapshot {
//!         id: None,
//!         name: "Wang Fang".into(),
//!         phone: None,
//!         address: "88 Century Avenue".into(),
//!         tier: Some(CustomerTier::Regular),
//!     },
//!     complaint_origin: ComplaintOrigin::default(),
//!     window_start: EpochMillis(1_772_442_000_000),
//!     window_end: EpochMillis(1_772_449_200_000),
//!     technician_id: Some("tech-li".into()),
//!     created_by: "dispatcher-ana".into(),
//!     created_at: EpochMillis(1_772_000_000_000),
//! })?;
//! let before = doc.get_heads();
//!
//! // ...the tablet records the visit offline, and cash is refused on the spot...
//! let mut tablet = doc.fork();
//! let mut visit = TechnicianActions::new(&mut tablet, "tech-li");
//! visit.record_arrival(EpochMillis(1_772_442_300_000))?;
//! let cash = PaymentDueEntry {
//!     amount_minor: 5_000,
//!     currency: "CNY".into(),
//!     method: PaymentMethod::Cash,
//!     transfer_reference: "FS-1".into(),
//! };
//! assert_eq!(
//!     visit.record_payment_due(&cash, EpochMillis(1_772_442_400_000)),
//!     Err(OperationError::CashRefused)
//! );
//!
//! // ...and the server merges, checks ownership, and evaluates.
//! doc.merge(&mut tablet)?;
//! assert!(check_since(doc.document(), &before, Role::Technician)?.is_empty());
//! let evaluation = JobDocument::read(&doc)?.evaluate(&[][..], None);
//! assert_eq!(evaluation.status, JobStatus::InProgress);
//! assert!(evaluation.review_flags.contains(&ReviewFlag::ArrivedWithoutConfirmedAppointment));
//! # Ok(())
//! # }
//! ```

mod create;
mod dispatch;
mod error;
pub mod evaluation;
pub(crate) mod memo;
mod model;
pub mod ownership;
mod policy;
pub(crate) mod read;
pub(crate) mod reader;
mod review;
pub mod schema;
pub mod summary;
mod technician;
mod validation;
mod values;
mod visit;
mod visit_read;
pub(crate) mod write;

pub use create::NewJob;
pub use dispatch::DispatcherActions;
pub use error::{JobError, OperationError};
pub use evaluation::{AttachmentStore, CompletionCondition, JobEvaluation, JobStatus, ReviewFlag};
pub use memo::ReadMemo;
pub use model::{
    Appointment, AppointmentConfirmation, Assignment, AssignmentRecord, ComplaintOrigin,
    CustomerSnapshot, DispatchStatus, JobDocument, TimelineEvent,
};
pub use ownership::{
    ChangeKind, OwnershipError, Role, Violation, check_new_changes, check_ownership, check_patches,
    check_since,
};
pub use technician::TechnicianActions;
pub use validation::{CleanupEntry, FeedbackCardEntry, PaymentDueEntry, SignatureCapture};
pub use values::{
    ConfirmationChannel, CustomerTier, DebrisDecision, DispatchState, EpochMillis, JobKind,
    PaymentMethod, Sha256Hex,
};
pub use visit::{
    CleanupConfirmation, FeedbackCard, PaymentDue, PermissionGrant, Signature, StrokePoint, Visit,
    VisitStamp, WorkItem,
};
