//! COSE_Sign1 (RFC 9052 §4.2, tag 18) with EdDSA/Ed25519 (alg -8, RFC 9053 §2.2): the one way every
//! object of SPEC §2 is signed and checked. Verification is always `verify_strict`.

use ciborium::Value;
use coset::iana;
use coset::{
    AsCborValue, CoseSign1, CoseSign1Builder, Header, HeaderBuilder, Label,
    RegisteredLabelWithPrivate, TaggedCborSerializable,
};

use crate::cbor;
use crate::keys::{KeyId, Signature, VerifyingKey};
use crate::{Error, Result, Signer};

/// The protected header label of `typ` (RFC 9596).
pub(crate) const TYP: i64 = 16;

/// A protected header with `alg` EdDSA and, if given, `kid` and `typ`.
pub(crate) fn protected(kid: Option<KeyId>, typ: Option<&str>) -> Header {
    let mut h = HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA);
    if let Some(kid) = kid {
        h = h.key_id(kid.as_bytes().to_vec());
    }
    if let Some(typ) = typ {
        h = h.value(TYP, Value::Text(typ.to_owned()));
    }
    h.build()
}

/// Builds and signs a COSE_Sign1 (empty external AAD, empty unprotected header).
pub(crate) fn sign(protected: Header, payload: Vec<u8>, signer: &dyn Signer) -> Result<CoseSign1> {
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .try_create_signature(b"", |tbs| signer.sign(tbs).map(|s| s.to_bytes().to_vec()))
        .map(CoseSign1Builder::build)
}

/// An unsigned COSE_Sign1 (empty unprotected header, empty signature) for a signer that signs
/// apart from this code, later: its [`CoseSign1::tbs_data`] with an empty external AAD is the
/// RFC 9052 §4.4 Sig_structure to sign, and the signature goes into `signature`.
pub(crate) fn unsigned(protected: Header, payload: Vec<u8>) -> CoseSign1 {
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .build()
}

/// Tagged encoding.
pub(crate) fn to_tagged(sign1: CoseSign1) -> Result<Vec<u8>> {
    sign1
        .to_tagged_vec()
        .map_err(|_| Error::Malformed("COSE_Sign1"))
}

/// A checked COSE_Sign1: alg EdDSA in the protected header, nothing unprotected, no `crit`, an
/// attached payload and a 64-byte signature.
#[derive(Debug, Clone)]
pub(crate) struct Sign1 {
    pub(crate) inner: CoseSign1,
    pub(crate) payload: Vec<u8>,
}

impl Sign1 {
    /// Parses tagged (tag 18) bytes: what `CoseSign1::from_tagged_slice` accepts, decoded through
    /// [`cbor::from_slice`] (its smaller scratch buffer) instead of coset's own reader.
    pub(crate) fn from_tagged(bytes: &[u8], what: &'static str) -> Result<Sign1> {
        match cbor::from_slice(bytes, what)? {
            Value::Tag(CoseSign1::TAG, inner) => Self::from_value(*inner, what),
            _ => Err(Error::Malformed(what)),
        }
    }

    /// Parses untagged bytes (what `CoseSign1::from_slice` accepts).
    pub(crate) fn from_untagged(bytes: &[u8], what: &'static str) -> Result<Sign1> {
        Self::from_value(cbor::from_slice(bytes, what)?, what)
    }

    fn from_value(value: Value, what: &'static str) -> Result<Sign1> {
        Self::check(
            CoseSign1::from_cbor_value(value).map_err(|_| Error::Malformed(what))?,
            what,
        )
    }

    fn check(inner: CoseSign1, what: &'static str) -> Result<Sign1> {
        let h = &inner.protected.header;
        let eddsa = RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA);
        if h.alg.as_ref() != Some(&eddsa)
            || !h.crit.is_empty()
            || h.content_type.is_some()
            || !h.iv.is_empty()
            || !h.partial_iv.is_empty()
            || !h.counter_signatures.is_empty()
            || !inner.unprotected.is_empty()
            || inner.signature.len() != 64
        {
            return Err(Error::Malformed(what));
        }
        // Only `typ` may appear beyond alg and kid.
        if h.rest.iter().any(|(label, _)| *label != Label::Int(TYP)) {
            return Err(Error::Malformed(what));
        }
        let payload = inner.payload.clone().ok_or(Error::Malformed(what))?;
        Ok(Sign1 { inner, payload })
    }

    /// The `kid`, which must be 8 bytes if present.
    pub(crate) fn kid(&self) -> Result<Option<KeyId>> {
        let kid = &self.inner.protected.header.key_id;
        if kid.is_empty() {
            Ok(None)
        } else {
            KeyId::from_slice(kid).map(Some)
        }
    }

    /// The `typ` header as text, if present.
    pub(crate) fn typ(&self) -> Option<&str> {
        self.inner
            .protected
            .header
            .rest
            .iter()
            .find(|(l, _)| *l == Label::Int(TYP))
            .and_then(|(_, v)| v.as_text())
    }

    /// Checks the signature with `verify_strict` under `key`.
    pub(crate) fn verify(&self, key: &VerifyingKey) -> Result<()> {
        self.inner.verify_signature(b"", |sig, tbs| {
            let sig = Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
            key.verify_strict(tbs, &sig)
                .map_err(|_| Error::BadSignature)
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use coset::CborSerializable;
    use proptest::prelude::*;

    use super::*;
    use crate::sample::Demo;

    /// coset's own parse, then the same checks: what `Sign1` accepted before it decoded
    /// through [`cbor::from_slice`].
    fn by_coset(bytes: &[u8], tagged: bool) -> Option<CoseSign1> {
        let parsed = if tagged {
            CoseSign1::from_tagged_slice(bytes)
        } else {
            CoseSign1::from_slice(bytes)
        };
        Sign1::check(parsed.ok()?, "test").ok().map(|s| s.inner)
    }

    fn by_sign1(bytes: &[u8], tagged: bool) -> Option<CoseSign1> {
        let parsed = if tagged {
            Sign1::from_tagged(bytes, "test")
        } else {
            Sign1::from_untagged(bytes, "test")
        };
        parsed.ok().map(|s| s.inner)
    }

    fn credential() -> Vec<u8> {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        Demo::new(now).unwrap().credential().unwrap()
    }

    #[test]
    fn other_tags_and_extra_bytes_are_refused_as_coset_refuses_them() {
        let good = credential();
        let mut cases = vec![good.clone(), [&good[..], &[0]].concat()];
        for tag in [0xd1, 0xd3, 0xd8] {
            cases.push([&[tag], &good[1..]].concat());
        }
        cases.push([&[0xd2], &good[..]].concat());
        cases.push(good[1..].to_vec());
        for bytes in &cases {
            for tagged in [true, false] {
                assert_eq!(
                    by_sign1(bytes, tagged),
                    by_coset(bytes, tagged),
                    "{bytes:02x?}"
                );
            }
        }
        assert!(by_sign1(&good, true).is_some());
        assert!(by_sign1(&good[1..], false).is_some());
    }

    proptest! {
        #[test]
        fn sign1_accepts_exactly_what_coset_accepts(
            at in any::<prop::sample::Index>(),
            flip in any::<u8>(),
            cut in 0usize..8,
        ) {
            let mut bytes = credential();
            let i = at.index(bytes.len());
            bytes[i] ^= flip;
            bytes.truncate(bytes.len() - cut);
            for tagged in [true, false] {
                let input = if tagged { &bytes[..] } else { &bytes[1..] };
                prop_assert_eq!(by_sign1(input, tagged), by_coset(input, tagged));
            }
        }
    }
}
