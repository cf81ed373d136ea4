//! The purpose a police verifier states for looking up a holder's personal data (SPEC §4
//! "Audit"; issue 12 item 6): a case number or a checkpoint id, recorded in the audit entry of
//! the look-up so an inspector can ask what each look-up was for.
//!
//! Form: `case:<reference>` or `checkpoint:<reference>`, the reference 3–32 characters of ASCII
//! letters, digits and `-`, beginning and ending with a letter or digit (`case:ZJ-2026-001234`,
//! `checkpoint:JH-CP-0042`). Letters are kept upper-case, so one case reads the same in every
//! entry.

use std::fmt;
use std::ops::RangeInclusive;

use serde::Serialize;

/// What a look-up is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PurposeKind {
    /// An investigation, by its case number (案件编号).
    Case,
    /// A check at a checkpoint, by the checkpoint's id (检查站).
    Checkpoint,
}

impl PurposeKind {
    /// The prefix of the form: `case`, `checkpoint`.
    pub fn as_str(self) -> &'static str {
        match self {
            PurposeKind::Case => "case",
            PurposeKind::Checkpoint => "checkpoint",
        }
    }
}

/// A stated purpose, parsed (see the module header for the form).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupPurpose {
    kind: PurposeKind,
    reference: String,
}

/// Why a purpose was refused (it never quotes the text).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "a purpose is case:<case number> or checkpoint:<checkpoint id>, the reference 3-32 letters, \
     digits and '-' (e.g. case:ZJ-2026-001234)"
)]
pub struct LookupPurposeError;

impl LookupPurpose {
    /// The length of a reference, in characters.
    pub const REFERENCE_CHARS: RangeInclusive<usize> = 3..=32;

    /// The form as a JSON Schema pattern, for the OpenAPI document (its `{1,30}` is
    /// [`Self::REFERENCE_CHARS`] less the first and last character; a test holds them together).
    pub const PATTERN: &'static str =
        "^(case|checkpoint):[A-Za-z0-9][A-Za-z0-9-]{1,30}[A-Za-z0-9]$";

    /// Parses `case:<reference>` or `checkpoint:<reference>` (surrounding spaces trimmed).
    pub fn parse(text: &str) -> Result<Self, LookupPurposeError> {
        let (kind, reference) = text.trim().split_once(':').ok_or(LookupPurposeError)?;
        let kind = match kind {
            "case" => PurposeKind::Case,
            "checkpoint" => PurposeKind::Checkpoint,
            _ => return Err(LookupPurposeError),
        };
        let bytes = reference.as_bytes();
        let well_formed = Self::REFERENCE_CHARS.contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
        if !well_formed {
            return Err(LookupPurposeError);
        }
        Ok(LookupPurpose {
            kind,
            reference: reference.to_ascii_uppercase(),
        })
    }

    /// A case or a checkpoint.
    pub fn kind(&self) -> PurposeKind {
        self.kind
    }

    /// The case number or checkpoint id (upper-case).
    pub fn reference(&self) -> &str {
        &self.reference
    }
}

impl fmt::Display for LookupPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.reference)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_purpose_is_a_case_number_or_a_checkpoint_id() {
        let case = LookupPurpose::parse("case:zj-2026-001234").unwrap();
        assert_eq!(case.kind(), PurposeKind::Case);
        assert_eq!(case.to_string(), "case:ZJ-2026-001234");
        let checkpoint = LookupPurpose::parse(" checkpoint:JH-CP-0042 ").unwrap();
        assert_eq!(checkpoint.kind(), PurposeKind::Checkpoint);
        assert_eq!(checkpoint.reference(), "JH-CP-0042");
        for bad in [
            "",
            "ZJ-2026-001234",
            "case:",
            "case:AB",
            "case:-AB1",
            "case:AB1-",
            "case:AB 12",
            "case:案件123",
            "curiosity:ZJ-2026-001234",
            "Case:ZJ-2026-001234",
            &format!("case:{}", "A".repeat(33)),
        ] {
            assert_eq!(
                LookupPurpose::parse(bad),
                Err(LookupPurposeError),
                "{bad:?}"
            );
        }
        assert!(LookupPurpose::parse(&format!("case:{}", "A".repeat(32))).is_ok());
    }
}
