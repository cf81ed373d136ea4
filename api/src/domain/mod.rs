//! Domain values parsed at the edge of the service (STYLE rule 1): request bodies are converted
//! into these once (see [`crate::wire`]), and personal data in them never prints unmasked.

mod id_number;
mod idempotency_key;
mod lookup_purpose;
mod phone;
mod text;

pub use id_number::{IdNumber, IdNumberError};
pub use idempotency_key::{IdempotencyKey, IdempotencyKeyError};
pub use lookup_purpose::{LookupPurpose, LookupPurposeError, PurposeKind};
pub use phone::{PhoneNumber, PhoneNumberError};
pub use text::{Address, PersonName, Reason, TextError};
