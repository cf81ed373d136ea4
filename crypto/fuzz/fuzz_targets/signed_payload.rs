//! Shared by the list targets: wraps fuzz bytes as the payload of a COSE_Sign1 signed by the demo
//! root, so the payload parsers behind the signature check are reached too.

use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use crypto::{KeyFileSigner, Signer};

pub fn root() -> KeyFileSigner {
    KeyFileSigner::from_seed([1; 32])
}

/// `data` itself when its first byte is even, else `data[1..]` signed by [`root`] as a payload.
pub fn input(data: &[u8], typ: Option<&str>) -> Vec<u8> {
    match data.split_first() {
        Some((first, rest)) if first % 2 == 1 => {
            let root = root();
            let mut header = HeaderBuilder::new()
                .algorithm(iana::Algorithm::EdDSA)
                .key_id(root.key_id().as_bytes().to_vec());
            if let Some(typ) = typ {
                header = header.value(16, coset::cbor::value::Value::Text(typ.into()));
            }
            CoseSign1Builder::new()
                .protected(header.build())
                .payload(rest.to_vec())
                .try_create_signature(b"", |tbs| root.sign(tbs).map(|s| s.to_bytes().to_vec()))
                .map(|b| b.build().to_tagged_vec().unwrap_or_default())
                .unwrap_or_default()
        }
        _ => data.to_vec(),
    }
}
