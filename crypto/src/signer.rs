//! Signing as a parameter (STYLE rule 5): the [`Signer`] trait every signed object in SPEC §2 is
//! made with, and [`KeyFileSigner`], the Ed25519 key held in a PKCS#8 PEM file (RFC 5958, RFC 8410).

use std::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{Signer as _, SigningKey};
use rand_core::OsRng;
use zeroize::{Zeroize, Zeroizing};

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

    /// Reads the contents of a PKCS#8 PEM key file (`-----BEGIN PRIVATE KEY-----`): the v1 form
    /// [`KeyFileSigner::to_key_file`] and `openssl genpkey -algorithm ed25519` write, or the v2
    /// form (with the public key) earlier versions of this service wrote. A public key inside the
    /// file must match the secret.
    pub fn from_key_file(pem: &str) -> Result<KeyFileSigner> {
        SigningKey::from_pkcs8_pem(pem.trim())
            .map(|key| KeyFileSigner { key })
            .map_err(|_| Error::Key("not an Ed25519 PKCS#8 PEM private key"))
    }

    /// The key file contents: PKCS#8 v1 (RFC 5208 PrivateKeyInfo, RFC 8410 §7: the 32-byte seed,
    /// no public key; 48 bytes of DER) in PEM, LF line endings — the form `openssl pkey` and
    /// Python `cryptography` read (they refuse the v2 form that carries the public key).
    pub fn to_key_file(&self) -> Result<Zeroizing<String>> {
        let mut v1 = KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        let pem = v1
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|_| Error::Key("PKCS#8 encoding failed"));
        // `ed25519` is built without its `zeroize` feature: wipe the copy of the seed here.
        v1.secret_key.zeroize();
        pem
    }

    /// The PKCS#8 v2 DER document, with the public key (what `jsonwebtoken::EncodingKey::from_ed_der`
    /// takes). Not the key file's form: see [`KeyFileSigner::to_key_file`].
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
    fn a_written_key_file_is_pkcs8_v1_of_48_bytes_without_the_public_key() {
        let signer = KeyFileSigner::from_seed([9; 32]);
        let pem = signer.to_key_file().unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        // base64 of 48 bytes is 64 characters; v2 with the public key is 83 bytes.
        assert_eq!(body.len(), 64, "{}", &*pem);
        assert!(body.starts_with("MC4CAQAwBQYDK2VwBCIEI"), "{}", &*pem);
    }

    #[test]
    fn an_old_v2_key_file_with_the_public_key_still_loads() {
        let signer = KeyFileSigner::from_seed([5; 32]);
        let v2 = signer.key.to_pkcs8_pem(LineEnding::LF).unwrap();
        assert_ne!(&*v2, &*signer.to_key_file().unwrap());
        let back = KeyFileSigner::from_key_file(&v2).unwrap();
        assert_eq!(back.public_key(), signer.public_key());
    }

    #[test]
    fn openssl_reads_a_written_key_file_and_derives_the_same_public_key() {
        use std::process::Command;
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("SKIPPED: no `openssl` binary on this machine");
            return;
        }
        let signer = KeyFileSigner::generate();
        let dir = std::env::temp_dir().join(format!(
            "epermit-openssl-{}-{}",
            std::process::id(),
            signer.key_id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("k.key");
        std::fs::write(&file, signer.to_key_file().unwrap().as_bytes()).unwrap();
        let check = Command::new("openssl")
            .args(["pkey", "-noout", "-in"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "openssl pkey refused the key file: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let public = Command::new("openssl")
            .args(["pkey", "-pubout", "-outform", "DER", "-in"])
            .arg(&file)
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(public.status.success());
        // SubjectPublicKeyInfo of Ed25519: 12 bytes of header, then the raw 32-byte key.
        assert_eq!(public.stdout.len(), 44);
        assert_eq!(&public.stdout[12..], signer.public_key().as_bytes());
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
