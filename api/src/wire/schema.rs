//! The constraints of the domain values as JSON Schema, for the OpenAPI document (issue 14 item
//! 3: the contract is the schema). Each request field that the server parses into a domain value
//! names one of these with `#[schema(schema_with = …)]` / `#[param(schema_with = …)]`; the
//! patterns and lengths are the domain types' own constants ([`PhoneNumber::PATTERN`],
//! [`Reason::CHARS`] …), never typed twice. Where a rule cannot be a pattern (an ID number's
//! check character, a public key being a curve point) the description says so.
//!
//! The document gives each value's canonical form; the server also trims surrounding white
//! space. `tests` checks each pattern against the parser on valid and invalid samples.

use utoipa::openapi::Object;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

use crate::domain::{Address, IdNumber, LookupPurpose, PersonName, PhoneNumber, Reason};

/// The digits of a one-time code ([`super::auth::one_time_code`]).
pub const ONE_TIME_CODE_DIGITS: usize = 6;
/// [`ONE_TIME_CODE_DIGITS`] digits, as a pattern (a test holds the two together).
pub const ONE_TIME_CODE_PATTERN: &str = "^[0-9]{6}$";

/// `n` bytes as hex ([`super::permits`]' keys, challenges and signatures).
macro_rules! hex_pattern {
    ($chars:literal) => {
        concat!("^[0-9a-fA-F]{", $chars, "}$")
    };
}

/// 32 bytes as hex (a public key, a challenge).
pub const HEX_32_PATTERN: &str = hex_pattern!(64);
/// 64 bytes as hex (an Ed25519 signature).
pub const HEX_64_PATTERN: &str = hex_pattern!(128);

/// A permit number or its first characters in a search ([`super::permits::SearchQuery`]).
pub const NUMBER_PREFIX_PATTERN: &str = "^[0-9-]*$";
/// The longest permit-number prefix a search takes.
pub const NUMBER_PREFIX_MAX: usize = 18;

/// Audit filters ([`super::audit::Page::filter`]): letters, digits and these characters, at
/// most [`AUDIT_FILTER_MAX`].
pub const AUDIT_ACTION_PATTERN: &str = "^[A-Za-z0-9._]*$";
/// See [`AUDIT_ACTION_PATTERN`].
pub const AUDIT_ACTOR_PATTERN: &str = "^[A-Za-z0-9:_-]*$";
/// See [`AUDIT_ACTION_PATTERN`].
pub const AUDIT_FILTER_MAX: usize = 64;

/// A string schema with its description and one example.
pub(super) fn string(description: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
}

fn done(builder: ObjectBuilder) -> Object {
    builder.build()
}

/// A mainland mobile number ([`PhoneNumber`]).
pub fn phone() -> Object {
    done(
        string(
            "A mainland mobile number: `1`, `3`–`9`, nine digits; an optional `+86`, `0086` or \
             `86` prefix, spaces and dashes are dropped.",
            "13812345678",
        )
        .pattern(Some(PhoneNumber::PATTERN)),
    )
}

/// A six-digit one-time code.
pub fn one_time_code() -> Object {
    done(string("The six-digit one-time code.", "123456").pattern(Some(ONE_TIME_CODE_PATTERN)))
}

/// An 18-character resident ID number ([`IdNumber`]).
pub fn id_number() -> Object {
    done(
        string(
            "The 18-character resident ID number (GB 11643): 17 digits and a check character \
             (a digit or `X`), which must be right (ISO 7064 MOD 11-2).",
            "11010519491231002X",
        )
        .pattern(Some(IdNumber::PATTERN))
        .min_length(Some(18))
        .max_length(Some(18)),
    )
}

/// The length bounds of a domain text.
fn chars(builder: ObjectBuilder, range: &std::ops::RangeInclusive<usize>) -> ObjectBuilder {
    builder
        .min_length(Some(*range.start()))
        .max_length(Some(*range.end()))
}

/// A person's name ([`PersonName`]).
pub fn person_name() -> Object {
    done(chars(
        string(
            "A name: 2–32 letters, spaces or `·` (the pattern names Latin and CJK letters; \
             letters of any script are accepted).",
            "张小明",
        )
        .pattern(Some(PersonName::PATTERN)),
        &PersonName::CHARS,
    ))
}

/// An address ([`Address`]).
pub fn address() -> Object {
    done(chars(
        string(
            "An address to street or community level: 2–64 characters, no control characters.",
            "城北街道丽泽社区",
        )
        .pattern(Some(Address::PATTERN)),
        &Address::CHARS,
    ))
}

/// A reason ([`Reason`]).
pub fn reason() -> Object {
    done(chars(
        string(
            "Why: 2–500 characters, shown to the resident.",
            "证明材料不清晰",
        )
        .pattern(Some(Reason::PATTERN)),
        &Reason::CHARS,
    ))
}

/// A Jinhua district's code ([`policy::District`]; its schema is policy's own).
pub fn district() -> Object {
    policy::openapi::district()
}

/// A `YYYY-MM-DD` day ([`policy::calendar::parse_date`]).
pub fn date() -> Object {
    done(
        string("A day, YYYY-MM-DD.", "2026-11-20")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
    )
}

/// A device's Ed25519 public key.
pub fn public_key() -> Object {
    done(
        string(
            "The device's Ed25519 public key, 64 hex characters (a valid curve point).",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        )
        .pattern(Some(HEX_32_PATTERN)),
    )
}

/// A holder-key challenge.
pub fn challenge() -> Object {
    done(
        string(
            "The challenge from `POST /v1/permits/me/holder-key/challenge`, 64 hex characters.",
            "6b1e3c2d4f5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
        )
        .pattern(Some(HEX_32_PATTERN)),
    )
}

/// A holder-key proof's signature.
pub fn signature() -> Object {
    done(
        string(
            "The device key's Ed25519 signature (128 hex characters) over `\"epermit holder-key \
             binding v1\" 0x00 <permit number> 0x00 <challenge bytes>`.",
            &"ab".repeat(64),
        )
        .pattern(Some(HEX_64_PATTERN)),
    )
}

/// A QR text for `POST /v1/verify`.
pub fn qr_text() -> Object {
    done(
        string("The text the QR code holds (`EP1:` or `EPP1:`).", "EPP1:…")
            .max_length(Some(crypto::qr_text::MAX_TEXT_LEN)),
    )
}

/// A police look-up's purpose ([`LookupPurpose`]).
pub fn lookup_purpose() -> Object {
    done(
        string(
            "`case:<case number>` or `checkpoint:<checkpoint id>`; the reference is 3–32 ASCII \
             letters, digits and `-`, beginning and ending with a letter or digit. Recorded in \
             the look-up's audit entry.",
            "case:ZJ-2026-001234",
        )
        .pattern(Some(LookupPurpose::PATTERN)),
    )
}

/// A permit number, or its first characters, in a search.
pub fn number_prefix() -> Object {
    done(
        string(
            "The permit number, or its first characters (digits and `-`).",
            "330702-2026-0001",
        )
        .pattern(Some(NUMBER_PREFIX_PATTERN))
        .max_length(Some(NUMBER_PREFIX_MAX)),
    )
}

/// An audit action prefix.
pub fn audit_action() -> Object {
    done(
        string(
            "Actions starting with this: `permit.` or `permit.suspend`.",
            "permit.",
        )
        .pattern(Some(AUDIT_ACTION_PATTERN))
        .max_length(Some(AUDIT_FILTER_MAX)),
    )
}

/// An audit actor.
pub fn audit_actor() -> Object {
    done(
        string(
            "This actor exactly: `staff:3`, `resident:12`, `operator:cli`.",
            "staff:3",
        )
        .pattern(Some(AUDIT_ACTOR_PATTERN))
        .max_length(Some(AUDIT_FILTER_MAX)),
    )
}

/// An RFC 3339 instant.
pub fn instant() -> Object {
    done(
        string("An instant (RFC 3339).", "2026-12-01T00:00:00Z")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
    )
}

/// A new staff password ([`crate::auth::password::check_new`]).
pub fn new_password() -> Object {
    done(
        string(
            "The new password, at least 12 characters.",
            "a new passphrase 2026",
        )
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .min_length(Some(crate::auth::password::MIN_LENGTH)),
    )
}

/// One of `values` (the first is the example).
pub(super) fn one_of<V: AsRef<str>>(description: &str, values: &[V]) -> Object {
    let example = values.first().map_or("", AsRef::as_ref);
    done(string(description, example).enum_values(Some(values.iter().map(AsRef::as_ref))))
}

/// A registration status filter.
pub fn residence_status() -> Object {
    one_of("`declared` or `confirmed`.", &["declared", "confirmed"])
}

/// An application status filter.
pub fn application_status() -> Object {
    one_of(
        "`submitted`, `approved` or `rejected`.",
        &["submitted", "approved", "rejected"],
    )
}

/// A permit status filter.
pub fn permit_status() -> Object {
    one_of(
        "`active`, `suspended` or `revoked`.",
        &["active", "suspended", "revoked"],
    )
}

#[cfg(test)]
mod tests;
