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
/// attached payload and a 64-byte signature. Holds what verification needs: the protected
/// header's bytes as sent (the Sig_structure signs them), its `kid` and textual `typ`, the payload
/// and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sign1 {
    protected: Vec<u8>,
    kid: Vec<u8>,
    typ: Option<String>,
    pub(crate) payload: Vec<u8>,
    signature: [u8; 64],
}

impl Sign1 {
    /// Parses tagged (tag 18) bytes: what `CoseSign1::from_tagged_slice` accepts and
    /// [`Sign1::check`] passes.
    pub(crate) fn from_tagged(bytes: &[u8], what: &'static str) -> Result<Sign1> {
        Self::read(bytes, true).map_or_else(|| Self::by_coset(bytes, true, what), Ok)
    }

    /// Parses untagged bytes (what `CoseSign1::from_slice` accepts).
    pub(crate) fn from_untagged(bytes: &[u8], what: &'static str) -> Result<Sign1> {
        Self::read(bytes, false).map_or_else(|| Self::by_coset(bytes, false, what), Ok)
    }

    /// The fast path ([`cbor::Reader`]): `[bstr protected, {}, bstr payload, bstr signature]`,
    /// optionally under tag 18, the protected header a map of `alg` −8, at most a non-empty
    /// `kid` and a textual `typ`, each once; `None` for anything else.
    fn read(bytes: &[u8], tagged: bool) -> Option<Sign1> {
        let mut r = cbor::Reader::new(bytes);
        if tagged && r.tag()? != CoseSign1::TAG {
            return None;
        }
        if r.array()? != 4 {
            return None;
        }
        let protected = r.bytes()?;
        let (kid, typ) = Self::read_protected(protected)?;
        if r.map()? != 0 {
            return None;
        }
        let payload = r.bytes()?;
        let signature = <[u8; 64]>::try_from(r.bytes()?).ok()?;
        r.end()?;
        Some(Sign1 {
            protected: protected.to_vec(),
            kid: kid.to_vec(),
            typ: typ.map(str::to_owned),
            payload: payload.to_vec(),
            signature,
        })
    }

    fn read_protected(bytes: &[u8]) -> Option<(&[u8], Option<&str>)> {
        let mut r = cbor::Reader::new(bytes);
        let (mut alg, mut kid, mut typ) = (None, None, None);
        for _ in 0..r.map()? {
            match r.int()? {
                1 => cbor::once(&mut alg, r.int().filter(|&a| a == EDDSA)?)?,
                4 => cbor::once(&mut kid, r.bytes().filter(|k| !k.is_empty())?)?,
                TYP => cbor::once(&mut typ, r.key()?)?,
                _ => return None,
            }
        }
        r.end()?;
        alg?;
        Some((kid.unwrap_or_default(), typ))
    }

    /// The general path: coset's parse of a `ciborium::Value` ([`cbor::from_slice`]), then
    /// [`Sign1::check`].
    fn by_coset(bytes: &[u8], tagged: bool, what: &'static str) -> Result<Sign1> {
        let value = match cbor::from_slice(bytes, what)? {
            Value::Tag(CoseSign1::TAG, inner) if tagged => *inner,
            _ if tagged => return Err(Error::Malformed(what)),
            value => value,
        };
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
        {
            return Err(Error::Malformed(what));
        }
        // Only `typ` may appear beyond alg and kid.
        if h.rest.iter().any(|(label, _)| *label != Label::Int(TYP)) {
            return Err(Error::Malformed(what));
        }
        let signature =
            <[u8; 64]>::try_from(inner.signature.as_slice()).map_err(|_| Error::Malformed(what))?;
        let typ = h
            .rest
            .iter()
            .find(|(l, _)| *l == Label::Int(TYP))
            .and_then(|(_, v)| v.as_text())
            .map(str::to_owned);
        Ok(Sign1 {
            // Present whenever the header is not empty, and an empty one has no alg.
            protected: inner
                .protected
                .original_data
                .ok_or(Error::Malformed(what))?,
            kid: inner.protected.header.key_id,
            typ,
            payload: inner.payload.ok_or(Error::Malformed(what))?,
            signature,
        })
    }

    /// The `kid`, which must be 8 bytes if present.
    pub(crate) fn kid(&self) -> Result<Option<KeyId>> {
        if self.kid.is_empty() {
            Ok(None)
        } else {
            KeyId::from_slice(&self.kid).map(Some)
        }
    }

    /// The `typ` header as text, if present (a `typ` of another type counts as absent).
    pub(crate) fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }

    /// The Sig_structure signed (RFC 9052 §4.4: context `"Signature1"`, the protected header's
    /// bytes as sent, empty external AAD, the payload): what `CoseSign1::tbs_data(b"")` gives.
    pub(crate) fn to_be_signed(&self) -> Vec<u8> {
        let len = self.protected.len() + self.payload.len() + 32;
        let mut e = minicbor::Encoder::new(Vec::with_capacity(len));
        // Writing to a Vec cannot fail.
        let _ = e
            .array(4)
            .and_then(|e| e.str("Signature1"))
            .and_then(|e| e.bytes(&self.protected))
            .and_then(|e| e.bytes(b""))
            .and_then(|e| e.bytes(&self.payload));
        e.into_writer()
    }

    /// Checks the signature with `verify_strict` under `key`.
    pub(crate) fn verify(&self, key: &VerifyingKey) -> Result<()> {
        key.verify_strict(
            &self.to_be_signed(),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| Error::BadSignature)
    }
}

/// Whatever the fast path reads of `bytes`, tagged or not, the general path reads to the same
/// value ([`crate::sample::fast_decoders_agree`]).
#[cfg(any(test, feature = "sample"))]
pub(crate) fn fast_path_agrees(bytes: &[u8]) -> bool {
    [true, false].into_iter().all(|tagged| {
        Sign1::read(bytes, tagged)
            .is_none_or(|fast| Sign1::by_coset(bytes, tagged, "check").ok() == Some(fast))
    })
}

/// `alg` EdDSA (RFC 9053 §2.2).
const EDDSA: i64 = iana::Algorithm::EdDSA as i64;

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use coset::CborSerializable;
    use proptest::prelude::*;

    use super::*;
    use crate::cbor::mutation;
    use crate::sample::Demo;

    /// coset's own parse, then the same checks: what `Sign1` accepted before it decoded
    /// through [`cbor::from_slice`] and, first, [`Sign1::read`].
    fn by_coset(bytes: &[u8], tagged: bool) -> Option<Sign1> {
        let parsed = if tagged {
            CoseSign1::from_tagged_slice(bytes)
        } else {
            CoseSign1::from_slice(bytes)
        };
        Sign1::check(parsed.ok()?, "test").ok()
    }

    fn by_sign1(bytes: &[u8], tagged: bool) -> Option<Sign1> {
        let parsed = if tagged {
            Sign1::from_tagged(bytes, "test")
        } else {
            Sign1::from_untagged(bytes, "test")
        };
        parsed.ok()
    }

    fn credential() -> Vec<u8> {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        Demo::new(now).unwrap().credential().unwrap()
    }

    /// The signed objects of the demo world, tagged: a credential, a presentation, a trust list,
    /// a status list.
    fn signed_objects() -> Vec<Vec<u8>> {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let demo = Demo::new(now).unwrap();
        let text = demo.presentation_text(now, Some(b"challenge")).unwrap();
        let (_, presentation) = crate::qr_text::decode(&text).unwrap();
        vec![
            demo.credential().unwrap(),
            presentation,
            demo.trust_list.sign(&demo.root).unwrap(),
            demo.status_list.sign(&demo.root).unwrap(),
        ]
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
        // Tag 18 in its two-byte form: the same COSE_Sign1 to coset, and to `Sign1`.
        cases.push([&[0xd8, 18], &good[1..]].concat());
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

    #[test]
    fn the_fast_path_reads_every_signed_object_of_the_crate_as_coset_does() {
        for bytes in signed_objects() {
            let fast = Sign1::read(&bytes, true);
            assert!(fast.is_some(), "{bytes:02x?}");
            assert_eq!(fast, by_coset(&bytes, true));
            assert_eq!(
                Sign1::read(&bytes[1..], false),
                by_coset(&bytes[1..], false)
            );
        }
    }

    /// A COSE_Sign1 (tagged) with the protected header `entries`.
    fn with_protected(entries: Vec<(Value, Value)>) -> Vec<u8> {
        let protected = cbor::to_vec(&Value::Map(entries)).unwrap();
        let sign1 = Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(vec![]),
            Value::Bytes(b"payload".to_vec()),
            Value::Bytes(vec![1; 64]),
        ]);
        cbor::to_vec(&Value::Tag(CoseSign1::TAG, Box::new(sign1))).unwrap()
    }

    #[test]
    fn each_protected_header_rule_is_kept_by_both_paths() {
        let alg = (cbor::int(1), cbor::int(-8));
        let kid = |n: usize| (cbor::int(4), Value::Bytes(vec![7; n]));
        let typ = |v: Value| (cbor::int(TYP), v);
        let cases = [
            (vec![alg.clone()], true),
            (vec![alg.clone(), kid(8)], true),
            (
                vec![kid(8), alg.clone(), typ(Value::Text("t".into()))],
                true,
            ),
            (vec![alg.clone(), kid(0)], false),
            (vec![alg.clone(), alg.clone()], false),
            (vec![alg.clone(), kid(8), kid(8)], false),
            (vec![(cbor::int(1), cbor::int(-7))], false),
            (vec![kid(8)], false),
            (
                vec![alg.clone(), (cbor::int(3), Value::Text("a/b".into()))],
                false,
            ),
            (
                vec![
                    alg.clone(),
                    (Value::Text("4".into()), Value::Bytes(vec![7; 8])),
                ],
                false,
            ),
        ];
        for (entries, ok) in cases {
            let bytes = with_protected(entries.clone());
            assert_eq!(Sign1::read(&bytes, true).is_some(), ok, "{entries:?}");
            assert_eq!(
                by_sign1(&bytes, true),
                by_coset(&bytes, true),
                "{entries:?}"
            );
        }
        // A `typ` that is not text: not the fast path's shape, and to coset no `typ` at all.
        let bytes = with_protected(vec![alg, typ(cbor::int(5))]);
        assert_eq!(Sign1::read(&bytes, true), None);
        let sign1 = by_sign1(&bytes, true).unwrap();
        assert_eq!(sign1.typ(), None);
        assert_eq!(Some(sign1), by_coset(&bytes, true));
    }

    #[test]
    fn the_sig_structure_is_coset_s() {
        for bytes in signed_objects() {
            let sign1 = Sign1::from_tagged(&bytes, "test").unwrap();
            let coset = CoseSign1::from_tagged_slice(&bytes).unwrap();
            assert_eq!(sign1.to_be_signed(), coset.tbs_data(b""));
        }
    }

    proptest! {
        #[test]
        fn sign1_accepts_exactly_what_coset_accepts(
            object in 0usize..4,
            changes in proptest::collection::vec(
                (any::<prop::sample::Index>(), mutation::any_change()),
                1..3,
            ),
        ) {
            let mut bytes = signed_objects().swap_remove(object);
            for (at, change) in changes {
                mutation::apply(&mut bytes, at, change);
            }
            for tagged in [true, false] {
                let input = if tagged { &bytes[..] } else { bytes.get(1..).unwrap_or_default() };
                let coset = by_coset(input, tagged);
                prop_assert_eq!(by_sign1(input, tagged), coset.clone());
                // What the fast path accepts, coset accepts, to the same value.
                if let Some(fast) = Sign1::read(input, tagged) {
                    prop_assert_eq!(Some(fast), coset);
                }
            }
        }

        /// Headers of any labels and values in any order: the fast path accepts only what coset
        /// accepts, to the same value.
        #[test]
        fn any_protected_header_reads_as_coset_reads_it(
            entries in proptest::collection::vec((0i64..20, 0usize..5, 0usize..10), 0..5),
            reversed: bool,
        ) {
            let mut map = Vec::new();
            for (label, kind, len) in entries {
                let value = match kind {
                    0 => cbor::int(-8),
                    1 => cbor::int(label),
                    2 => Value::Bytes(vec![7; len]),
                    3 => Value::Text("t".repeat(len % 3)),
                    _ => Value::Null,
                };
                map.push((cbor::int(label), value));
            }
            if reversed {
                map.reverse();
            }
            let protected = cbor::to_vec(&Value::Map(map)).unwrap();
            let sign1 = Value::Tag(CoseSign1::TAG, Box::new(Value::Array(vec![
                Value::Bytes(protected),
                Value::Map(vec![]),
                Value::Bytes(b"payload".to_vec()),
                Value::Bytes(vec![1; 64]),
            ])));
            let bytes = cbor::to_vec(&sign1).unwrap();
            let coset = by_coset(&bytes, true);
            prop_assert_eq!(by_sign1(&bytes, true), coset.clone());
            if let Some(fast) = Sign1::read(&bytes, true) {
                prop_assert_eq!(Some(fast), coset);
            }
        }
    }
}
