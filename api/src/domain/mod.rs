//! Domain values parsed at the edge of the service (STYLE rule 1): request bodies are converted
//! into these once, and personal data in them never prints unmasked.

mod id_number;
mod phone;

pub use id_number::{IdNumber, IdNumberError};
pub use phone::{PhoneNumber, PhoneNumberError};
