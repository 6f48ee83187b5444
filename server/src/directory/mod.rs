//! The organisation's directory: organisations, staff and their roles, customers and tiers.
//! Every record belongs to one organisation; queries always filter by it.

pub mod bootstrap;
mod customer;
pub mod customers;
mod organisation;
pub mod people;
mod staff;

pub use customer::{Customer, NewCustomer, Tier, TierScheme};
pub use organisation::Organisation;
pub use staff::{NewStaff, Role, Staff};

/// A value read from the database that the schema's check constraints should have refused.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} `{value}` in the database")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}
