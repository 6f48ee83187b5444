//! The canonical job summary: the exact bytes a customer's signature is bound to (rule 5).
//!
//! The tablet shows the summary, the customer signs, and the signature stores the SHA-256 of
//! these bytes. If anything in the summary changes afterwards, the hash no longer matches and
//! the signature is stale. The format is meant to be re-implemented by a JS client, so it is
//! plain and unambiguous:
//!
//! ```text
//! fieldsync-job-summary 1\n
//! <field> <value>\n          (one line per field, in the order below)
//! value := "-"               absent
//!        | <len>:<bytes>     <len> = decimal count of the UTF-8 bytes that follow, unchanged
//! ```
//!
//! Numbers and times are written as decimal strings (times in milliseconds since the epoch)
//! before length-prefixing. Fields, in order:
//! `kind`, `customer.name`, `customer.phone`, `customer.address`, `appointment.window_start`,
//! `appointment.window_end`, `work_notes`, `work_items.count` then per item `i`
//! `work_items.<i>.description`, `work_items.<i>.quantity`; `payment_due` (`-` when none, else
//! `1:1` followed by `payment_due.amount_minor`, `payment_due.currency`, `payment_due.method`,
//! `payment_due.transfer_reference`); `permissions.count` then per grant `i`
//! `permissions.<i>.item`, `permissions.<i>.granted_by`, `permissions.<i>.at`.
//!
//! Deliberately left out: the customer's tier and id (internal), the confirmation, assignment and
//! status (dispatch bookkeeping), arrival and departure, and the evidence recorded after signing
//! (signature, feedback cards, cleanup, timeline), which would make every signature stale.

use super::model::JobDocument;
use super::values::Sha256Hex;

/// First line of every summary; bump the number if the field list ever changes.
const HEADER: &[u8] = b"fieldsync-job-summary 1\n";

impl JobDocument {
    /// The canonical summary bytes described in [`self`](crate::job::summary).
    pub fn canonical_summary(&self) -> Vec<u8> {
        // About 80 bytes per work item or permission, most of the summary.
        let elements = self.visit.work_items.len() + self.visit.permissions.len();
        let mut out = Summary(Vec::with_capacity(512 + 80 * elements));
        out.0.extend_from_slice(HEADER);
        out.field("kind", Some(self.kind.as_str()));
        out.field("customer.name", Some(&self.customer.name));
        out.field("customer.phone", self.customer.phone.as_deref());
        out.field("customer.address", Some(&self.customer.address));
        out.number("appointment.window_start", self.appointment.window_start.0);
        out.number("appointment.window_end", self.appointment.window_end.0);

        let visit = &self.visit;
        out.field("work_notes", Some(&visit.work_notes));
        out.count("work_items.count", visit.work_items.len());
        for (i, item) in visit.work_items.iter().enumerate() {
            out.element_field("work_items", i, "description", Some(&item.description));
            out.element_number("work_items", i, "quantity", item.quantity);
        }
        match &visit.payment_due {
            None => out.field("payment_due", None),
            Some(payment) => {
                out.field("payment_due", Some("1"));
                out.number("payment_due.amount_minor", payment.amount_minor);
                out.field("payment_due.currency", Some(&payment.currency));
                out.field("payment_due.method", Some(payment.method.as_str()));
                out.field(
                    "payment_due.transfer_reference",
                    Some(&payment.transfer_reference),
                );
            }
        }
        out.count("permissions.count", visit.permissions.len());
        for (i, grant) in visit.permissions.iter().enumerate() {
            out.element_field("permissions", i, "item", Some(&grant.item));
            out.element_field("permissions", i, "granted_by", Some(&grant.granted_by));
            out.element_number("permissions", i, "at", grant.at.0);
        }
        out.0
    }

    /// SHA-256 of [`Self::canonical_summary`]: what a signature's `summary_sha256` must equal.
    pub fn summary_sha256(&self) -> Sha256Hex {
        Sha256Hex::digest(&self.canonical_summary())
    }
}

/// The summary being written.
struct Summary(Vec<u8>);

impl Summary {
    fn field(&mut self, name: &str, value: Option<&str>) {
        self.0.extend_from_slice(name.as_bytes());
        self.value(value);
    }

    /// A field of element `index` of `list`: `<list>.<index>.<name>`. Written piece by piece:
    /// a visit's work items make most of the summary, and the server writes it for every edit
    /// it projects.
    fn element_field(&mut self, list: &str, index: usize, name: &str, value: Option<&str>) {
        self.0.extend_from_slice(list.as_bytes());
        self.0.push(b'.');
        self.decimal(index as u64);
        self.0.push(b'.');
        self.0.extend_from_slice(name.as_bytes());
        self.value(value);
    }

    fn element_number(&mut self, list: &str, index: usize, name: &str, value: impl Into<i128>) {
        let value = value.into();
        match u64::try_from(value) {
            Ok(n) => {
                let mut digits = [0_u8; 20];
                let text = decimal(n, &mut digits);
                self.element_field(list, index, name, Some(text));
            }
            Err(_) => self.element_field(list, index, name, Some(&value.to_string())),
        }
    }

    /// ` <len>:<text>` or ` -`, and the line's end.
    fn value(&mut self, value: Option<&str>) {
        self.0.push(b' ');
        match value {
            None => self.0.push(b'-'),
            Some(text) => {
                self.decimal(text.len() as u64);
                self.0.push(b':');
                self.0.extend_from_slice(text.as_bytes());
            }
        }
        self.0.push(b'\n');
    }

    fn decimal(&mut self, n: u64) {
        let mut digits = [0_u8; 20];
        self.0.extend_from_slice(decimal(n, &mut digits).as_bytes());
    }

    fn number(&mut self, name: &str, value: i64) {
        self.field(name, Some(&value.to_string()));
    }

    fn count(&mut self, name: &str, value: usize) {
        self.field(name, Some(&value.to_string()));
    }
}

/// `n` in decimal digits, written into `digits` without an allocation.
fn decimal(mut n: u64, digits: &mut [u8; 20]) -> &str {
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&digits[start..]).unwrap_or("0")
}
