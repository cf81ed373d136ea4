//! Access tokens: EdDSA JWTs (jsonwebtoken) naming the subject and its role (SPEC §4).

use chrono::{DateTime, Utc};
use crypto::signer::{KeyFileSigner, Signer};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use policy::District;
use serde::{Deserialize, Serialize};

/// The issuer and audience written into every token.
const ISSUER: &str = "epermit";
/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECS: i64 = 5;
/// How many verified tokens are remembered (about 300 bytes each).
const VERIFIED_CAPACITY: usize = 10_000;

/// The kind of organisation a verifier works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// A school.
    School,
    /// A hospital.
    Hospital,
    /// The police (may look up full records, audited).
    Police,
}

impl std::str::FromStr for OrgKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "school" => Ok(OrgKind::School),
            "hospital" => Ok(OrgKind::Hospital),
            "police" => Ok(OrgKind::Police),
            _ => Err(()),
        }
    }
}

/// What a token's bearer may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A resident: their own data only.
    Resident,
    /// An officer of one district's bureau: acts only in that district.
    Officer(District),
    /// A verifier of an organisation.
    Verifier(OrgKind),
    /// An operator.
    Admin,
}

/// Who the token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A resident account id.
    Resident(i64),
    /// A staff account id.
    Staff(i64),
}

/// An authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The account.
    pub subject: Subject,
    /// Its role.
    pub role: Role,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    district: Option<District>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<OrgKind>,
    iat: i64,
    exp: i64,
    /// The account's revocation epoch when the token was issued (absent = 0, as before epochs).
    #[serde(default, skip_serializing_if = "is_zero")]
    ep: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Why a token was refused (the caller sees one 401 for all of them).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signature, expiry, issuer or algorithm wrong.
    #[error("invalid token: {0}")]
    Invalid(#[from] jsonwebtoken::errors::Error),
    /// Claims that do not make a principal.
    #[error("token claims do not name a known subject and role")]
    Claims,
}

/// The service's token key pair, and the tokens it has verified.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Token → (principal, `exp`, epoch). A client sends the same access token with every
    /// request for its 15 minutes, so a repeat skips the signature check (the largest part of an
    /// authenticated request's CPU). Only tokens that verified get in, so forgeries cannot fill
    /// it, and an entry is honoured only until its token's `exp`. It remembers signatures, not
    /// permission: the caller still compares the epoch with the account's current one
    /// ([`crate::auth::revocation`]), so a revocation is not outlived by a cached entry.
    verified: quick_cache::sync::Cache<String, (Principal, i64, i64)>,
}

impl JwtKeys {
    /// Keys from the service's JWT signing key.
    pub fn new(key: &KeyFileSigner) -> Result<Self, TokenError> {
        super::jwt_provider::install();
        let der = key.pkcs8_der().map_err(|_| {
            TokenError::Invalid(jsonwebtoken::errors::ErrorKind::InvalidEddsaKey.into())
        })?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        Ok(JwtKeys {
            encoding: EncodingKey::from_ed_der(&der),
            // jsonwebtoken takes the raw 32-byte public key here, despite the name.
            decoding: DecodingKey::from_ed_der(key.public_key().as_bytes()),
            validation,
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
        })
    }

    /// A token for `principal` of an account never revoked (epoch 0), valid from `now` for `ttl`.
    pub fn issue(
        &self,
        principal: Principal,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, TokenError> {
        self.issue_at(principal, 0, now, ttl)
    }

    /// A token for `principal` under the account's revocation `epoch`, valid from `now` for `ttl`.
    pub fn issue_at(
        &self,
        principal: Principal,
        epoch: i64,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<String, TokenError> {
        let (sub, role, district, org) = match (principal.subject, principal.role) {
            (Subject::Resident(id), _) => (format!("resident:{id}"), "resident", None, None),
            (Subject::Staff(id), Role::Officer(d)) => {
                (format!("staff:{id}"), "officer", Some(d), None)
            }
            (Subject::Staff(id), Role::Verifier(o)) => {
                (format!("staff:{id}"), "verifier", None, Some(o))
            }
            (Subject::Staff(id), Role::Admin) => (format!("staff:{id}"), "admin", None, None),
            (Subject::Staff(_), Role::Resident) => return Err(TokenError::Claims),
        };
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub,
            role: role.to_owned(),
            district,
            org,
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            ep: epoch,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &claims,
            &self.encoding,
        )?)
    }

    /// The principal of a valid token: from the verified tokens while its `exp` holds, else by
    /// checking signature and claims (and remembering it).
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        self.verify_with_epoch(token)
            .map(|(principal, _)| principal)
    }

    /// [`JwtKeys::verify`], with the revocation epoch the token was issued under.
    pub fn verify_with_epoch(&self, token: &str) -> Result<(Principal, i64), TokenError> {
        if let Some(verified) = self.remembered(token, Utc::now().timestamp()) {
            return Ok(verified);
        }
        let (principal, exp, epoch) = self.verify_signed(token)?;
        self.verified
            .insert(token.to_owned(), (principal, exp, epoch));
        Ok((principal, epoch))
    }

    /// A token verified before whose `exp` (with the leeway, as jsonwebtoken applies it) has not
    /// passed at `now`.
    fn remembered(&self, token: &str, now: i64) -> Option<(Principal, i64)> {
        match self.verified.get(token) {
            Some((principal, exp, epoch)) if now <= exp.saturating_add(LEEWAY_SECS) => {
                Some((principal, epoch))
            }
            Some(_) => {
                self.verified.remove(token);
                None
            }
            None => None,
        }
    }

    /// Signature and claims checked: the principal, the token's `exp` and its epoch.
    fn verify_signed(&self, token: &str) -> Result<(Principal, i64, i64), TokenError> {
        let claims =
            jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)?.claims;
        let (kind, id) = claims.sub.split_once(':').ok_or(TokenError::Claims)?;
        let id: i64 = id.parse().map_err(|_| TokenError::Claims)?;
        let principal = match (kind, claims.role.as_str(), claims.district, claims.org) {
            ("resident", "resident", None, None) => Principal {
                subject: Subject::Resident(id),
                role: Role::Resident,
            },
            ("staff", "officer", Some(d), None) => Principal {
                subject: Subject::Staff(id),
                role: Role::Officer(d),
            },
            ("staff", "verifier", None, Some(o)) => Principal {
                subject: Subject::Staff(id),
                role: Role::Verifier(o),
            },
            ("staff", "admin", None, None) => Principal {
                subject: Subject::Staff(id),
                role: Role::Admin,
            },
            _ => return Err(TokenError::Claims),
        };
        Ok((principal, claims.exp, claims.ep))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(seed: u8) -> JwtKeys {
        JwtKeys::new(&KeyFileSigner::from_seed([seed; 32])).unwrap()
    }

    #[test]
    fn a_token_round_trips_its_principal() {
        let k = keys(1);
        let now = Utc::now();
        for p in [
            Principal {
                subject: Subject::Resident(7),
                role: Role::Resident,
            },
            Principal {
                subject: Subject::Staff(3),
                role: Role::Officer(District::Yiwu),
            },
            Principal {
                subject: Subject::Staff(4),
                role: Role::Verifier(OrgKind::Police),
            },
            Principal {
                subject: Subject::Staff(5),
                role: Role::Admin,
            },
        ] {
            let t = k.issue(p, now, chrono::Duration::minutes(15)).unwrap();
            assert_eq!(k.verify(&t).unwrap(), p);
        }
    }

    #[test]
    fn expired_or_foreign_tokens_are_refused() {
        let p = Principal {
            subject: Subject::Resident(7),
            role: Role::Resident,
        };
        let old = keys(1)
            .issue(
                p,
                Utc::now() - chrono::Duration::hours(1),
                chrono::Duration::minutes(15),
            )
            .unwrap();
        assert!(keys(1).verify(&old).is_err());
        let other = keys(2)
            .issue(p, Utc::now(), chrono::Duration::minutes(15))
            .unwrap();
        assert!(keys(1).verify(&other).is_err());
        assert!(keys(1).verify("not.a.token").is_err());
    }

    #[test]
    fn a_remembered_token_still_expires_with_its_exp() {
        let k = keys(1);
        let p = Principal {
            subject: Subject::Staff(9),
            role: Role::Verifier(OrgKind::School),
        };
        let now = Utc::now();
        let t = k.issue(p, now, chrono::Duration::minutes(15)).unwrap();
        assert_eq!(k.remembered(&t, now.timestamp()), None, "not verified yet");
        assert_eq!(k.verify(&t).unwrap(), p);
        let exp = (now + chrono::Duration::minutes(15)).timestamp();
        assert_eq!(k.remembered(&t, exp + LEEWAY_SECS), Some((p, 0)));
        assert_eq!(k.remembered(&t, exp + LEEWAY_SECS + 1), None);
        assert_eq!(k.remembered(&t, now.timestamp()), None, "and is forgotten");
        // A token from another key is not remembered because a valid one was.
        let forged = keys(2)
            .issue(p, now, chrono::Duration::minutes(15))
            .unwrap();
        assert!(k.verify(&forged).is_err());
        assert_eq!(k.remembered(&forged, now.timestamp()), None);
    }

    #[test]
    fn a_token_carries_the_epoch_it_was_issued_under() {
        let k = keys(1);
        let p = Principal {
            subject: Subject::Staff(9),
            role: Role::Admin,
        };
        let t = k
            .issue_at(p, 7, Utc::now(), chrono::Duration::minutes(15))
            .unwrap();
        assert_eq!(k.verify_with_epoch(&t).unwrap(), (p, 7));
        assert_eq!(
            k.verify_with_epoch(&t).unwrap(),
            (p, 7),
            "also when remembered"
        );
    }
}
