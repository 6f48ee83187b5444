//! Every key of the job document, schema version 1, in one place.
//!
//! Reading, writing and the ownership check all use these constants, so a field cannot be
//! read under one name and protected under another. Keys are snake_case; times are Automerge
//! `Timestamp` scalars (milliseconds since the Unix epoch, UTC, which JS reads as `Date`).

/// The schema version this crate reads and writes.
pub const SCHEMA_VERSION: u64 = 1;

/// Keys of the root map.
pub mod root {
    /// Uint: the schema version (server).
    pub const SCHEMA_VERSION: &str = "schema_version";
    /// Str: the job kind (dispatcher).
    pub const KIND: &str = "kind";
    /// Str: the job's number for people, such as `FS-2026-00042` (server, at booking; older
    /// documents have none).
    pub const NUMBER: &str = "number";
    /// Map: snapshot of the customer when the job was booked (dispatcher).
    pub const CUSTOMER: &str = "customer";
    /// Map: whether the job came from a complaint (dispatcher).
    pub const COMPLAINT_ORIGIN: &str = "complaint_origin";
    /// Map: the booked window and the customer's confirmation (dispatcher).
    pub const APPOINTMENT: &str = "appointment";
    /// Map: the assigned technician and the assignment history (dispatcher).
    pub const ASSIGNMENT: &str = "assignment";
    /// Map: open / cancelled / archived (dispatcher).
    pub const STATUS: &str = "status";
    /// Map: everything the technician records on site (technician).
    pub const VISIT: &str = "visit";
    /// List of maps: the append-only event timeline (everyone appends, nobody edits).
    pub const TIMELINE: &str = "timeline";

    /// Every root key of schema v1, for the ownership check's "unknown field" rule.
    pub const ALL: [&str; 10] = [
        SCHEMA_VERSION,
        KIND,
        NUMBER,
        CUSTOMER,
        COMPLAINT_ORIGIN,
        APPOINTMENT,
        ASSIGNMENT,
        STATUS,
        VISIT,
        TIMELINE,
    ];
}

/// Keys of `/customer`.
pub mod customer {
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const PHONE: &str = "phone";
    pub const ADDRESS: &str = "address";
    pub const TIER: &str = "tier";
}

/// Keys of `/complaint_origin`.
pub mod complaint {
    pub const FROM_COMPLAINT: &str = "from_complaint";
    pub const REFERENCE: &str = "reference";
}

/// Keys of `/appointment` and `/appointment/confirmation`.
pub mod appointment {
    pub const WINDOW_START: &str = "window_start";
    pub const WINDOW_END: &str = "window_end";
    pub const CONFIRMATION: &str = "confirmation";
    pub const CONFIRMED_BY: &str = "confirmed_by";
    pub const CHANNEL: &str = "channel";
    pub const CONFIRMED_AT: &str = "confirmed_at";
    pub const RECORDED_BY: &str = "recorded_by";
}

/// Keys of `/assignment` and its history entries.
pub mod assignment {
    pub const TECHNICIAN_ID: &str = "technician_id";
    pub const HISTORY: &str = "history";
    pub const ASSIGNED_BY: &str = "assigned_by";
    pub const ASSIGNED_AT: &str = "assigned_at";
}

/// Keys of `/status`.
pub mod status {
    pub const STATE: &str = "state";
    pub const REASON: &str = "reason";
    pub const CHANGED_BY: &str = "changed_by";
    pub const CHANGED_AT: &str = "changed_at";
}

/// Keys of `/visit` and of the evidence maps inside it.
pub mod visit {
    pub const ARRIVAL: &str = "arrival";
    pub const DEPARTURE: &str = "departure";
    pub const PERMISSIONS: &str = "permissions";
    pub const WORK_NOTES: &str = "work_notes";
    pub const WORK_ITEMS: &str = "work_items";
    pub const PAYMENT_DUE: &str = "payment_due";
    pub const SIGNATURE: &str = "signature";
    pub const FEEDBACK_CARDS: &str = "feedback_cards";
    pub const CLEANUP: &str = "cleanup";

    /// Time and author of an arrival, departure, permission, card...
    pub const AT: &str = "at";
    pub const BY: &str = "by";
    pub const RECORDED_BY: &str = "recorded_by";

    pub const ITEM: &str = "item";
    pub const GRANTED_BY: &str = "granted_by";

    pub const DESCRIPTION: &str = "description";
    pub const QUANTITY: &str = "quantity";

    pub const AMOUNT_MINOR: &str = "amount_minor";
    pub const CURRENCY: &str = "currency";
    pub const METHOD: &str = "method";
    pub const TRANSFER_REFERENCE: &str = "transfer_reference";

    pub const STROKES: &str = "strokes";
    pub const IMAGE_SHA256: &str = "image_sha256";
    pub const SIGNER_NAME: &str = "signer_name";
    pub const SIGNED_AT: &str = "signed_at";
    pub const SUMMARY_SHA256: &str = "summary_sha256";
    pub const CAPTURED_BY: &str = "captured_by";

    pub const PHOTO_SHA256S: &str = "photo_sha256s";
    pub const RATING: &str = "rating";
    pub const COMMENT: &str = "comment";

    pub const SITE_CLEANED: &str = "site_cleaned";
    pub const DEBRIS: &str = "debris";
    pub const CONSENTED_BY: &str = "consented_by";
    pub const DEPARTURE_WITNESSED: &str = "departure_witnessed";
    pub const PHOTO_SHA256: &str = "photo_sha256";
}

/// Keys of a timeline event.
pub mod event {
    pub const KIND: &str = "kind";
    pub const ACTOR: &str = "actor";
    pub const DEVICE_TIME: &str = "device_time";
    pub const DETAIL: &str = "detail";
}

/// The `kind` strings of timeline events this crate writes. Readers keep unknown kinds as they are.
pub mod event_kind {
    pub const CREATED: &str = "created";
    pub const APPOINTMENT_CONFIRMED: &str = "appointment_confirmed";
    pub const RESCHEDULED: &str = "rescheduled";
    pub const REASSIGNED: &str = "reassigned";
    pub const CANCELLED: &str = "cancelled";
    pub const ARCHIVED: &str = "archived";
    pub const ARRIVED: &str = "arrived";
    pub const PERMISSION_GRANTED: &str = "permission_granted";
    pub const WORK_NOTES_EDITED: &str = "work_notes_edited";
    pub const WORK_ITEM_ADDED: &str = "work_item_added";
    pub const PAYMENT_DUE_RECORDED: &str = "payment_due_recorded";
    pub const SIGNATURE_CAPTURED: &str = "signature_captured";
    pub const FEEDBACK_CARD_ADDED: &str = "feedback_card_added";
    pub const CLEANUP_CONFIRMED: &str = "cleanup_confirmed";
    pub const DEPARTED: &str = "departed";
}

/// Joins path segments the way errors and ownership violations print them: `/visit/arrival/at`.
pub fn path_of(segments: &[&str]) -> String {
    segments.iter().fold(String::new(), |mut path, segment| {
        path.push('/');
        path.push_str(segment);
        path
    })
}
