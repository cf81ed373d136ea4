//! Access tokens: EdDSA JWTs (jsonwebtoken) naming the subject and its role (SPEC §4).

use chrono::{DateTime, Utc};
use crypto::signer::{KeyFileSigner, Signer};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use policy::District;
use serde::{Deserialize, Serialize};

/// The issuer and audience written into every token.
const ISSUER: &str = "epermit";

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

/// The service's token key pair.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
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
        validation.leeway = 5;
        Ok(JwtKeys {
            encoding: EncodingKey::from_ed_der(&der),
            // jsonwebtoken takes the raw 32-byte public key here, despite the name.
            decoding: DecodingKey::from_ed_der(key.public_key().as_bytes()),
            validation,
        })
    }

    /// A token for `principal`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        principal: Principal,
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
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::EdDSA),
            &claims,
            &self.encoding,
        )?)
    }

    /// The principal of a valid token.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
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
        Ok(principal)
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
}
