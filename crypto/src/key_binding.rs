//! Proof that a holder controls the device key they bind to their permit (SPEC §2 `cnf`,
//! issue 11 item 3): the new key signs a one-time server challenge together with the permit
//! number, so a key cannot be bound by someone who merely knows its public half, and a signature
//! made for one permit or one challenge proves nothing for another.
//!
//! The signed message is `"epermit holder-key binding v1" 0x00 <permit number> 0x00 <challenge>`.

use crate::keys::VerifyingKey;
use crate::{Error, Result, Signer};

/// Bytes of a challenge.
pub const CHALLENGE_LEN: usize = 32;

const CONTEXT: &[u8] = b"epermit holder-key binding v1";

/// The message the device key signs to bind itself to permit `number` under `challenge`.
pub fn binding_message(number: &str, challenge: &[u8; CHALLENGE_LEN]) -> Vec<u8> {
    let mut message = Vec::with_capacity(CONTEXT.len() + number.len() + 2 + CHALLENGE_LEN);
    message.extend_from_slice(CONTEXT);
    message.push(0);
    message.extend_from_slice(number.as_bytes());
    message.push(0);
    message.extend_from_slice(challenge);
    message
}

/// The device's proof: its signature over [`binding_message`].
pub fn prove(
    device: &dyn Signer,
    number: &str,
    challenge: &[u8; CHALLENGE_LEN],
) -> Result<[u8; 64]> {
    Ok(device.sign(&binding_message(number, challenge))?.to_bytes())
}

/// Checks a proof strictly (`verify_strict`: no malleable or small-order signatures).
pub fn verify_proof(
    key: &VerifyingKey,
    number: &str,
    challenge: &[u8; CHALLENGE_LEN],
    signature: &[u8; 64],
) -> Result<()> {
    let signature = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(&binding_message(number, challenge), &signature)
        .map_err(|_| Error::Invalid("holder-key proof"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::KeyFileSigner;

    #[test]
    fn a_proof_binds_one_key_to_one_permit_under_one_challenge() {
        let device = KeyFileSigner::generate();
        let key = device.public_key();
        let challenge = [7u8; CHALLENGE_LEN];
        let proof = prove(&device, "330702-2026-000001", &challenge).unwrap();
        assert!(verify_proof(&key, "330702-2026-000001", &challenge, &proof).is_ok());
        assert!(verify_proof(&key, "330702-2026-000002", &challenge, &proof).is_err());
        assert!(verify_proof(&key, "330702-2026-000001", &[8; CHALLENGE_LEN], &proof).is_err());
        let other = KeyFileSigner::generate().public_key();
        assert!(verify_proof(&other, "330702-2026-000001", &challenge, &proof).is_err());
    }
}
