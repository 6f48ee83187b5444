//! Who is calling: opaque bearer tokens, one per device, stored only as SHA-256 hashes.

mod caller;
mod rate;
mod token;

pub use caller::Caller;
pub use rate::{RateLimiter, RateSettings};
pub use token::{DeviceToken, IssuedToken, TokenHash, random_text};
