//! Who is calling: opaque bearer tokens, one per device, stored only as SHA-256 hashes; and
//! office staff's browser sessions (a password, then a cookie), which resolve to the same caller.

mod caller;
pub mod invitation;
pub mod password;
mod rate;
pub mod session;
mod token;

pub use caller::Caller;
pub use rate::{RateLimiter, RateSettings};
pub use token::{DeviceToken, IssuedToken, TokenHash, random_text};
