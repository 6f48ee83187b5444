//! Small validated values of the job document: times, SHA-256 references, and the closed sets
//! of words (job kind, tier, channel...) with the exact strings stored in the document.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A point in time as milliseconds since the Unix epoch, UTC.
///
/// Stored as an Automerge `Timestamp` (a JS `Date`); integers are accepted when reading because
/// a JS client may write `Date.now()`. Device times come from the tablet's clock and may be wrong;
/// evaluation flags them rather than trusting them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EpochMillis(pub i64);

impl EpochMillis {
    /// The signed distance `later - self` in milliseconds, saturating instead of overflowing.
    pub fn millis_until(self, later: EpochMillis) -> i64 {
        later.0.saturating_sub(self.0)
    }
}

/// The SHA-256 of an attachment or of the canonical job summary: 64 lowercase hex digits.
///
/// Attachments are content addressed (`sha256/<hex>` in object storage), so this is the link
/// between the document and the stored bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

impl Sha256Hex {
    /// Accepts 64 hex digits in either case and keeps them lowercase.
    pub fn parse(text: &str) -> Option<Self> {
        let valid = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
        valid.then(|| Self(text.to_ascii_lowercase()))
    }

    /// The SHA-256 of `bytes`.
    pub fn digest(bytes: &[u8]) -> Self {
        use sha2::Digest;
        Self(hex::encode(sha2::Sha256::digest(bytes)))
    }

    /// The 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Hex({})", self.0)
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = String;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text).ok_or_else(|| format!("`{text}` is not 64 hex digits"))
    }
}

impl From<Sha256Hex> for String {
    fn from(sha: Sha256Hex) -> Self {
        sha.0
    }
}

/// Declares a closed set of words with the exact strings stored in the document.
macro_rules! document_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the document.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored string; `None` for anything schema v1 does not know.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

document_words! {
    /// What the technician is sent to do.
    JobKind {
        Installation = "installation",
        Repair = "repair",
        Maintenance = "maintenance",
        Inspection = "inspection",
    }
}

document_words! {
    /// The customer's tier at booking time: the three default tiers or one to five stars.
    CustomerTier {
        Key = "key",
        Regular = "regular",
        Prospect = "prospect",
        OneStar = "stars_1",
        TwoStars = "stars_2",
        ThreeStars = "stars_3",
        FourStars = "stars_4",
        FiveStars = "stars_5",
    }
}

document_words! {
    /// How the customer confirmed the appointment (rule 1).
    ConfirmationChannel {
        Phone = "phone",
        Sms = "sms",
        InPerson = "in_person",
    }
}

document_words! {
    /// The dispatcher's decision on the job as a whole.
    DispatchState {
        Open = "open",
        Cancelled = "cancelled",
        Archived = "archived",
    }
}

document_words! {
    /// What happened to the debris, as the customer agreed (rule 6).
    DebrisDecision {
        /// We took the debris away.
        TakenAway = "taken_away",
        /// The customer asked us to leave it.
        LeftAtCustomerRequest = "left_at_customer_request",
        /// The work made no debris.
        None = "none",
    }
}

/// How the customer pays the amount due. Only bank transfer may be recorded (rule 7); the other
/// variants exist so that a document claiming cash can still be read, and flagged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Transfer to the company's account: the only method allowed.
    BankTransfer,
    /// Cash, which technicians never take; its presence is a review flag.
    Cash,
    /// Any other word a client wrote; treated as not allowed.
    Other(String),
}

impl PaymentMethod {
    /// The string stored for bank transfer.
    pub const BANK_TRANSFER: &'static str = "bank_transfer";

    /// Reads the stored word; "cash" in any case counts as cash.
    pub fn parse(text: &str) -> Self {
        match text.trim().to_ascii_lowercase().as_str() {
            Self::BANK_TRANSFER => Self::BankTransfer,
            "cash" => Self::Cash,
            _ => Self::Other(text.to_owned()),
        }
    }

    /// The string stored in the document.
    pub fn as_str(&self) -> &str {
        match self {
            Self::BankTransfer => Self::BANK_TRANSFER,
            Self::Cash => "cash",
            Self::Other(text) => text,
        }
    }
}
