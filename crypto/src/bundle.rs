//! The verifier bundle: one signed file holding a trust list and status lists, for a verifier
//! that syncs rarely (a kiosk, a phone provisioned offline). A tagged COSE_Sign1 by a root key
//! (RFC 9052, EdDSA as everything in SPEC §2), protected `{1: −8, 4: root kid, 16 typ:
//! "application/epermit-verifier-bundle+cose"}`, payload {1 issued-at (epoch seconds), 2 the
//! signed trust list (bstr), 3 [the signed status lists (bstr)…]}.
//!
//! The inner lists are the bytes the server signed on their own (`application/cose`,
//! `application/statuslist+cwt`): the outer signature says who assembled the bundle and when, and
//! [`crate::trust_store::TrustStore::load_bundle`] still checks each inner list with its normal
//! rules (signature, expiry, sequence, per-URI issue time).

use chrono::{DateTime, Utc};
use ciborium::Value;

use crate::cbor::{self, Map, int};
use crate::cose::{self, Sign1};
use crate::keys::VerifyingKey;
use crate::status_list::MAX_TOKEN_LEN;
use crate::trust_list::{MAX_TRUST_LIST_LEN, verify_by_root};
use crate::{Error, Result, Signer};

/// The `typ` (protected header 16) of a verifier bundle.
pub const VERIFIER_BUNDLE_TYPE: &str = "application/epermit-verifier-bundle+cose";
/// The largest signed bundle accepted, in bytes.
pub const MAX_BUNDLE_LEN: usize = 16 * 1024 * 1024;
/// The most status lists a bundle holds.
pub const MAX_BUNDLE_STATUS_LISTS: usize = 1024;

/// A trust list and status lists, each already signed, assembled and signed as one by a root key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierBundle {
    /// When the bundle was assembled (whole seconds).
    pub issued_at: DateTime<Utc>,
    /// The signed trust list (`application/cose` bytes).
    pub trust_list: Vec<u8>,
    /// The signed status lists (`application/statuslist+cwt` bytes), e.g. every shard.
    pub status_lists: Vec<Vec<u8>>,
}

impl VerifierBundle {
    /// Signs the bundle with a root key: tagged COSE_Sign1 bytes, `kid` = the root's key id. Refuses
    /// a bundle that [`VerifierBundle::verify`] would refuse for its size.
    pub fn sign(&self, root: &dyn Signer) -> Result<Vec<u8>> {
        self.check()?;
        let payload = Value::Map(vec![
            (int(1), cbor::time(self.issued_at)),
            (int(2), Value::Bytes(self.trust_list.clone())),
            (
                int(3),
                Value::Array(
                    self.status_lists
                        .iter()
                        .map(|l| Value::Bytes(l.clone()))
                        .collect(),
                ),
            ),
        ]);
        let protected = cose::protected(Some(root.key_id()), Some(VERIFIER_BUNDLE_TYPE));
        let signed = cose::to_tagged(cose::sign(protected, cbor::to_vec(&payload)?, root)?)?;
        if signed.len() > MAX_BUNDLE_LEN {
            return Err(Error::Invalid("verifier bundle (too large)"));
        }
        Ok(signed)
    }

    /// Reads a signed bundle, accepting it only if one of the pinned `root_keys` signed it and its
    /// `typ` is [`VERIFIER_BUNDLE_TYPE`]; at most [`MAX_BUNDLE_LEN`] bytes and
    /// [`MAX_BUNDLE_STATUS_LISTS`] status lists. The inner lists are not checked here (see
    /// [`crate::trust_store::TrustStore::load_bundle`]). Never panics.
    pub fn verify(bytes: &[u8], root_keys: &[VerifyingKey]) -> Result<VerifierBundle> {
        if bytes.len() > MAX_BUNDLE_LEN {
            return Err(Error::Malformed("verifier bundle (too large)"));
        }
        let sign1 = Sign1::from_tagged(bytes, "verifier bundle COSE_Sign1")?;
        if sign1.typ() != Some(VERIFIER_BUNDLE_TYPE) {
            return Err(Error::Malformed("verifier bundle typ"));
        }
        verify_by_root(&sign1, root_keys)?;
        let mut m = Map::new(
            cbor::from_slice(&sign1.payload, "verifier bundle")?,
            "verifier bundle",
        )?;
        let issued_at = cbor::as_time(&m.require(1, "bundle issued-at")?, "bundle issued-at")?;
        let trust_list = cbor::as_bytes(m.require(2, "bundle trust list")?, "bundle trust list")?;
        let raw = cbor::as_array(m.require(3, "bundle status lists")?, "bundle status lists")?;
        m.finish()?;
        let status_lists = raw
            .into_iter()
            .map(|v| cbor::as_bytes(v, "bundle status list"))
            .collect::<Result<Vec<_>>>()?;
        let bundle = VerifierBundle {
            issued_at,
            trust_list,
            status_lists,
        };
        bundle.check()?;
        Ok(bundle)
    }

    fn check(&self) -> Result<()> {
        if self.trust_list.is_empty() || self.trust_list.len() > MAX_TRUST_LIST_LEN {
            return Err(Error::Invalid("verifier bundle trust list"));
        }
        if self.status_lists.len() > MAX_BUNDLE_STATUS_LISTS
            || self
                .status_lists
                .iter()
                .any(|l| l.is_empty() || l.len() > MAX_TOKEN_LEN)
        {
            return Err(Error::Invalid("verifier bundle status lists"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyFileSigner;
    use proptest::prelude::*;

    fn bundle() -> VerifierBundle {
        VerifierBundle {
            issued_at: DateTime::from_timestamp(1_780_000_000, 0).unwrap(),
            trust_list: vec![1, 2, 3],
            status_lists: vec![vec![4], vec![5, 6]],
        }
    }

    #[test]
    fn a_bundle_round_trips_under_its_root_and_only_under_it() {
        let root = KeyFileSigner::from_seed([1; 32]);
        let signed = bundle().sign(&root).unwrap();
        assert_eq!(
            VerifierBundle::verify(&signed, &[root.public_key()]),
            Ok(bundle())
        );
        let stranger = KeyFileSigner::from_seed([9; 32]).public_key();
        assert_eq!(
            VerifierBundle::verify(&signed, &[stranger]),
            Err(Error::UnknownSigner)
        );
    }

    #[test]
    fn a_bundle_names_its_type_in_the_protected_header() {
        let root = KeyFileSigner::from_seed([1; 32]);
        let signed = bundle().sign(&root).unwrap();
        let sign1 = Sign1::from_tagged(&signed, "bundle").unwrap();
        assert_eq!(sign1.typ(), Some(VERIFIER_BUNDLE_TYPE));
        assert_eq!(sign1.kid().unwrap(), Some(root.key_id()));
        // Another signed object of SPEC §2 (no bundle typ) is not a bundle.
        let list = crate::StatusList::new(
            "https://jhga.cn/sl/1",
            bundle().issued_at,
            bundle().issued_at + chrono::TimeDelta::hours(1),
            60,
        );
        let token = list.sign(&root).unwrap();
        assert_eq!(
            VerifierBundle::verify(&token, &[root.public_key()]),
            Err(Error::Malformed("verifier bundle typ"))
        );
    }

    #[test]
    fn a_bundle_without_a_trust_list_or_with_an_empty_entry_is_refused() {
        let root = KeyFileSigner::from_seed([1; 32]);
        let no_trust = VerifierBundle {
            trust_list: vec![],
            ..bundle()
        };
        assert!(no_trust.sign(&root).is_err());
        let empty_entry = VerifierBundle {
            status_lists: vec![vec![]],
            ..bundle()
        };
        assert!(empty_entry.sign(&root).is_err());
    }

    proptest! {
        #[test]
        fn no_bytes_make_the_bundle_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let root = KeyFileSigner::from_seed([1; 32]);
            let _ = VerifierBundle::verify(&bytes, &[root.public_key()]);
            // Also behind a valid signature: any payload signed with the bundle typ.
            let protected = cose::protected(Some(root.key_id()), Some(VERIFIER_BUNDLE_TYPE));
            let signed = cose::to_tagged(cose::sign(protected, bytes, &root).unwrap()).unwrap();
            let _ = VerifierBundle::verify(&signed, &[root.public_key()]);
        }
    }
}
