//! Signing as a parameter (STYLE rule 5): the [`Signer`] trait every signed object in SPEC §2 is
//! made with, and [`KeyFileSigner`], the Ed25519 key held in a PKCS#8 PEM file (RFC 5958, RFC 8410).

use std::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer as _, SigningKey};
use rand_core::OsRng;
use zeroize::Zeroizing;

use crate::keys::{KeyId, Signature, VerifyingKey};
use crate::{Error, Result};

/// Something that signs with one Ed25519 key: a key file on the server, an HSM, a phone keystore.
///
/// `sign` is fallible because a keystore may refuse (locked device, user cancelled).
pub trait Signer: Send + Sync {
    /// The public half of the signing key.
    fn public_key(&self) -> VerifyingKey;

    /// Signs `message` with Ed25519 (RFC 8032, pure EdDSA).
    fn sign(&self, message: &[u8]) -> Result<Signature>;

    /// The key's identifier (first 8 bytes of SHA-256 of the public key).
    fn key_id(&self) -> KeyId {
        KeyId::of(&self.public_key())
    }
}

/// An Ed25519 signing key held in memory, read from and written to a PKCS#8 PEM key file.
///
/// The secret is zeroised on drop; `Debug` shows only the key id.
#[derive(Clone)]
pub struct KeyFileSigner {
    key: SigningKey,
}

impl KeyFileSigner {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> KeyFileSigner {
        KeyFileSigner {
            key: SigningKey::generate(&mut OsRng),
        }
    }

    /// The key with this 32-byte secret seed (RFC 8032 §5.1.5). For tests and known answers.
    pub fn from_seed(seed: [u8; 32]) -> KeyFileSigner {
        let seed = Zeroizing::new(seed);
        KeyFileSigner {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// Reads the contents of a PKCS#8 PEM key file (`-----BEGIN PRIVATE KEY-----`, as written by
    /// `openssl genpkey -algorithm ed25519`). A public key inside the file must match the secret.
    pub fn from_key_file(pem: &str) -> Result<KeyFileSigner> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(|key| KeyFileSigner { key })
            .map_err(|_| Error::Key("not an Ed25519 PKCS#8 PEM private key"))
    }

    /// The key file contents: PKCS#8 v2 (RFC 5958 OneAsymmetricKey, with the public key) in PEM,
    /// LF line endings.
    pub fn to_key_file(&self) -> Result<Zeroizing<String>> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| Error::Key("PKCS#8 encoding failed"))
    }

    /// The PKCS#8 DER document (what `jsonwebtoken::EncodingKey::from_ed_der` takes).
    pub fn pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        self.key
            .to_pkcs8_der()
            .map(|doc| Zeroizing::new(doc.as_bytes().to_vec()))
            .map_err(|_| Error::Key("PKCS#8 encoding failed"))
    }
}

impl Signer for KeyFileSigner {
    fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        Ok(self.key.sign(message))
    }
}

impl fmt::Debug for KeyFileSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFileSigner")
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex<const N: usize>(s: &str) -> [u8; N] {
        let mut out = [0u8; N];
        hex::decode_to_slice(s, &mut out).unwrap();
        out
    }

    #[test]
    fn rfc8032_test_1_signs_the_empty_message_through_the_signer_trait() {
        let signer = KeyFileSigner::from_seed(unhex(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        ));
        let signer: &dyn Signer = &signer;
        assert_eq!(
            signer.public_key().to_bytes(),
            unhex::<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        let sig = signer.sign(b"").unwrap();
        assert_eq!(
            sig.to_bytes(),
            unhex::<64>(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            )
        );
        assert!(signer.public_key().verify_strict(b"", &sig).is_ok());
    }

    #[test]
    fn a_key_file_round_trips_and_is_standard_pkcs8_pem() {
        let signer = KeyFileSigner::generate();
        let pem = signer.to_key_file().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let back = KeyFileSigner::from_key_file(&pem).unwrap();
        assert_eq!(back.public_key(), signer.public_key());
        let der = signer.pkcs8_der().unwrap();
        assert_eq!(
            SigningKey::from_pkcs8_der(&der).unwrap().verifying_key(),
            signer.public_key()
        );
    }

    #[test]
    fn an_openssl_key_file_is_read() {
        // `openssl genpkey -algorithm ed25519` output (PKCS#8 v1, RFC 8410 §10.3 example key).
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let signer = KeyFileSigner::from_key_file(pem).unwrap();
        assert_eq!(
            hex::encode(signer.public_key().as_bytes()),
            "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
        );
    }

    #[test]
    fn garbage_key_files_are_refused() {
        for bad in [
            "",
            "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
            "hello",
        ] {
            assert!(KeyFileSigner::from_key_file(bad).is_err());
        }
    }

    #[test]
    fn debug_does_not_print_the_secret() {
        let signer = KeyFileSigner::from_seed([7; 32]);
        let shown = format!("{signer:?}");
        assert!(shown.contains(&signer.key_id().to_string()));
        assert!(!shown.contains(&hex::encode([7u8; 32])));
        assert!(!shown.contains("secret"));
    }
}
