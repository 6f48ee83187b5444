//! Errors of the job document: reading a document that does not match schema v1, and
//! refusing a domain operation a technician or dispatcher attempted.

use automerge::AutomergeError;

/// Why a job document could not be read as schema version 1.
///
/// Every variant that concerns a field names its path (`/visit/signature/signer_name`), so a
/// support engineer can find the offending value with any Automerge inspector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// The bytes are not an Automerge document at all (truncated, corrupted, another format).
    #[error("the job document bytes are not a valid Automerge document ({0}); re-sync the job")]
    NotAutomerge(String),
    /// A required field is absent.
    #[error(
        "the document has no `{path}`; only documents created by a Fieldsync server can be read"
    )]
    Missing { path: String },
    /// A field holds a value of the wrong type (a list where a map belongs, a number for a name...).
    #[error("`{path}` should be {expected} but is {found}")]
    WrongType {
        path: String,
        expected: &'static str,
        found: String,
    },
    /// A field has the right type but a value schema v1 does not allow.
    #[error("`{path}` is invalid: {reason}")]
    Invalid { path: String, reason: String },
    /// The document was written by a newer schema; update the app or server.
    #[error(
        "the job document uses schema version {found}, this software reads version 1; update it"
    )]
    UnsupportedSchema { found: u64 },
    /// Automerge refused a read (an object id that does not belong to this document).
    #[error("the job document could not be read at `{path}`: {message}")]
    Automerge { path: String, message: String },
}

impl JobError {
    pub(crate) fn automerge(path: &str, error: &AutomergeError) -> Self {
        Self::Automerge {
            path: path.to_owned(),
            message: error.to_string(),
        }
    }
}

/// Why a domain operation on the job was refused before anything was written.
///
/// The messages are shown to technicians and dispatchers as they are: each says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// Rule 7: extra payment goes by bank transfer to the company.
    #[error(
        "Extra payment must go by bank transfer to the company; technicians never take cash. \
         Record the amount with method bank transfer and give the customer the transfer reference"
    )]
    CashRefused,
    /// A payment method other than bank transfer and cash.
    #[error("Payment method `{0}` is not accepted; extra payment goes by bank transfer only")]
    UnsupportedPaymentMethod(String),
    /// A required text was left empty; `field` says which, in the words of the form.
    #[error("Enter the {field}; it cannot be empty")]
    Empty { field: &'static str },
    /// The signature has no strokes: the customer has not actually signed.
    #[error("The signature is empty; ask the customer to sign on the screen")]
    SignatureWithoutStrokes,
    /// The strokes are a dot or a short mark, not a signature (a tap on the pad, a slip).
    #[error(
        "The signature is only a dot or a short mark; clear the pad and ask the customer to sign across it"
    )]
    SignatureTooSmall,
    /// Rule 6: debris was handled without asking the customer.
    #[error(
        "Ask the customer how to handle the debris and enter who agreed before confirming cleanup"
    )]
    CleanupWithoutConsent,
    /// A feedback card needs at least one photo of the paper card (rule 8).
    #[error("Take at least one photo of the paper feedback card before saving it")]
    FeedbackCardWithoutPhoto,
    /// The typed-in rating is not on the card's scale.
    #[error("The rating must be between 1 and 5 stars; you entered {0}")]
    RatingOutOfRange(i64),
    /// An amount of zero or less.
    #[error("The amount due must be greater than zero; you entered {0}")]
    AmountNotPositive(i64),
    /// A currency that is not a three-letter ISO 4217 code.
    #[error("The currency must be a three-letter code such as EUR or CNY; you entered `{0}`")]
    InvalidCurrency(String),
    /// An attachment reference that is not a SHA-256.
    #[error("The {field} reference `{value}` is not a SHA-256; attach the photo again")]
    InvalidAttachment { field: &'static str, value: String },
    /// A work item quantity of zero.
    #[error("The quantity of a work item must be at least 1")]
    ZeroQuantity,
    /// Departure recorded before arrival exists, or earlier than arrival.
    #[error("Record your arrival before your departure")]
    DepartureBeforeArrival,
    /// Arrival again after the departure was recorded.
    #[error("You have already left this site; the arrival recorded before stays as it is")]
    ArrivalAfterDeparture,
    /// A payment due beyond any visit's bill.
    #[error("The amount {0} (in minor units) is far too large for a visit; check the figure")]
    AmountTooLarge(i64),
    /// An appointment window that ends before it starts.
    #[error("The appointment window must end after it starts")]
    EmptyWindow,
    /// The job was cancelled or archived by the dispatcher; no more visit work is recorded on it.
    #[error("This job was {0} by the dispatcher; contact dispatch before doing any work")]
    JobClosed(&'static str),
    /// The document cannot be read, so the operation cannot know where to write.
    #[error(transparent)]
    Document(#[from] JobError),
    /// Automerge refused the write (should not happen on a readable document).
    #[error("the job document could not be updated: {0}")]
    Automerge(String),
}

impl From<AutomergeError> for OperationError {
    fn from(error: AutomergeError) -> Self {
        Self::Automerge(error.to_string())
    }
}
