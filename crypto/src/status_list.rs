//! The status list (SPEC §2): a Status List Token in CWT form as defined by the IETF draft *Token
//! Status List* (draft-ietf-oauth-status-list, §5.2 "Status List Token in CWT Format"), signed by
//! the root key. Protected header: `alg` EdDSA, `kid`, `typ` (16) = `application/statuslist+cwt`.
//! Claims: 2 `sub` = the list's URI, 6 `iat`, 4 `exp`, 65534 `ttl`, 65533 `status_list` =
//! {"bits": 2, "lst": zlib of the byte array, ? "aggregation_uri": the document listing every
//! list}. Entry `i` holds bits `2i`, `2i+1` counted from the least significant bit of byte 0 (the
//! draft's order): 0 valid, 1 invalid (revoked), 2 suspended, 3 application-specific — here
//! *superseded*: a newer signed version of the same permit exists (SPEC §1.4, §2).
//!
//! The service publishes fixed-size shards, each a list with its own URI; a verifier holds one
//! per URI it has fetched.

use chrono::{DateTime, Utc};
use ciborium::Value;
use serde::Serialize;

use crate::cbor::{self, Map, int, uint};
use crate::cose::{self, Sign1};
use crate::keys::VerifyingKey;
use crate::trust_list::verify_by_root;
use crate::{Error, Result, Signer, zlib};

/// The `typ` of a Status List Token in CWT form.
pub const STATUS_LIST_CWT_TYPE: &str = "application/statuslist+cwt";
/// CWT claim key `status_list`.
pub const CLAIM_STATUS_LIST: i64 = 65533;
/// CWT claim key `ttl`.
pub const CLAIM_TTL: i64 = 65534;
/// Bits per entry.
pub const BITS: u64 = 2;
/// The largest decompressed list accepted, in bytes (4 Mi entries).
pub const MAX_LIST_BYTES: usize = 1024 * 1024;
/// The largest signed token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 2 * 1024 * 1024;

/// The status of one permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 0: in force.
    Valid,
    /// 1: revoked, final.
    Invalid,
    /// 2: suspended, reversible.
    Suspended,
    /// 3: application-specific in the draft; here *superseded*: a newer signed version of the
    /// same permit exists, so this copy is no longer in force (verdict `superseded`).
    Superseded,
}

impl Status {
    fn bits(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Superseded => 3,
        }
    }

    fn from_bits(b: u8) -> Status {
        match b & 3 {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            _ => Status::Superseded,
        }
    }
}

/// A status list: the statuses of the permits pointing at `uri`, with the token's validity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusList {
    /// The list's URI (`sub`), the `uri` of the permits' status claims.
    pub uri: String,
    /// When it was published (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When it stops being usable (`exp`).
    pub expires_at: DateTime<Utc>,
    /// How long a verifier may cache it, in seconds (`ttl`).
    pub ttl_seconds: u64,
    /// Where the document listing every status list of the issuer is (`aggregation_uri`).
    pub aggregation_uri: Option<String>,
    #[serde(skip)]
    bytes: Vec<u8>,
}

impl StatusList {
    /// An empty list (every index valid).
    pub fn new(
        uri: impl Into<String>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        ttl_seconds: u64,
    ) -> StatusList {
        StatusList {
            uri: uri.into(),
            issued_at: cbor::whole_seconds(issued_at),
            expires_at: cbor::whole_seconds(expires_at),
            ttl_seconds,
            aggregation_uri: None,
            bytes: Vec::new(),
        }
    }

    /// A list whose entries are `packed` (4 a byte, least significant first: the draft's `lst`
    /// before compression), as a shard stores them. Refuses more than [`MAX_LIST_BYTES`].
    pub fn from_packed(
        uri: impl Into<String>,
        issued_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        ttl_seconds: u64,
        packed: Vec<u8>,
    ) -> Result<StatusList> {
        if packed.len() > MAX_LIST_BYTES {
            return Err(Error::Invalid("status list (larger than the largest list)"));
        }
        let mut list = StatusList::new(uri, issued_at, expires_at, ttl_seconds);
        list.bytes = packed;
        Ok(list)
    }

    /// The same list naming `aggregation_uri`, the document that lists every status list.
    pub fn with_aggregation_uri(mut self, aggregation_uri: impl Into<String>) -> StatusList {
        self.aggregation_uri = Some(aggregation_uri.into());
        self
    }

    /// How many entries the list holds (4 per byte).
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 4
    }

    /// Whether the list holds no entry.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The status at `index`, `None` beyond the list.
    pub fn get(&self, index: u32) -> Option<Status> {
        let byte = self.bytes.get(usize::try_from(index / 4).ok()?)?;
        Some(Status::from_bits(byte >> ((index % 4) * 2)))
    }

    /// Sets the status at `index`, growing the list (with valid entries) as needed. Refuses an
    /// index beyond [`MAX_LIST_BYTES`] × 4.
    pub fn set(&mut self, index: u32, status: Status) -> Result<()> {
        let at = usize::try_from(index / 4).map_err(|_| Error::Invalid("status index"))?;
        if at >= MAX_LIST_BYTES {
            return Err(Error::Invalid("status index (beyond the largest list)"));
        }
        if self.bytes.len() <= at {
            self.bytes.resize(at + 1, 0);
        }
        let shift = (index % 4) * 2;
        if let Some(byte) = self.bytes.get_mut(at) {
            *byte = (*byte & !(3 << shift)) | (status.bits() << shift);
        }
        Ok(())
    }

    /// The packed byte array (the draft's `lst` before compression).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Signs the Status List Token with the root key: tagged COSE_Sign1 bytes.
    pub fn sign(&self, root: &dyn Signer) -> Result<Vec<u8>> {
        if self.expires_at <= self.issued_at || self.uri.is_empty() {
            return Err(Error::Invalid("status list"));
        }
        let payload = Value::Map(vec![
            (int(2), Value::Text(self.uri.clone())),
            (int(6), cbor::time(self.issued_at)),
            (int(4), cbor::time(self.expires_at)),
            (int(CLAIM_TTL), uint(self.ttl_seconds)),
            (
                int(CLAIM_STATUS_LIST),
                Value::Map(
                    [
                        (Value::Text("bits".into()), uint(BITS)),
                        (
                            Value::Text("lst".into()),
                            Value::Bytes(zlib::compress(&self.bytes)),
                        ),
                    ]
                    .into_iter()
                    .chain(self.aggregation_uri.as_ref().map(|uri| {
                        (
                            Value::Text("aggregation_uri".into()),
                            Value::Text(uri.clone()),
                        )
                    }))
                    .collect(),
                ),
            ),
        ]);
        let protected = cose::protected(Some(root.key_id()), Some(STATUS_LIST_CWT_TYPE));
        cose::to_tagged(cose::sign(protected, cbor::to_vec(&payload)?, root)?)
    }

    /// Reads a signed Status List Token, accepting it only if one of the pinned `root_keys` signed
    /// it, its `typ` is [`STATUS_LIST_CWT_TYPE`] and `bits` is 2. The list inflates to at most
    /// [`MAX_LIST_BYTES`]. Expiry is the caller's.
    pub fn verify(bytes: &[u8], root_keys: &[VerifyingKey]) -> Result<StatusList> {
        if bytes.len() > MAX_TOKEN_LEN {
            return Err(Error::Malformed("status list (too large)"));
        }
        let sign1 = Sign1::from_tagged(bytes, "status list COSE_Sign1")?;
        if sign1.typ() != Some(STATUS_LIST_CWT_TYPE) {
            return Err(Error::Malformed("status list typ"));
        }
        verify_by_root(&sign1, root_keys)?;
        let mut m = Map::new(
            cbor::from_slice(&sign1.payload, "status list")?,
            "status list",
        )?;
        let uri = cbor::as_text(m.require(2, "sub")?, crate::permit::MAX_URI_CHARS, "sub")?;
        let issued_at = cbor::as_time(&m.require(6, "iat")?, "iat")?;
        let expires_at = cbor::as_time(&m.require(4, "exp")?, "exp")?;
        let ttl_seconds = cbor::as_u64(&m.require(CLAIM_TTL, "ttl")?, 0..=u64::MAX, "ttl")?;
        let mut sl = Map::new(m.require(CLAIM_STATUS_LIST, "status_list")?, "status_list")?;
        m.finish()?;
        cbor::as_u64(
            &sl.require_text("bits", "bits")?,
            BITS..=BITS,
            "bits (must be 2)",
        )?;
        let lst = cbor::as_bytes(sl.require_text("lst", "lst")?, "lst")?;
        let aggregation_uri = sl
            .take_text("aggregation_uri")
            .map(|v| cbor::as_text(v, crate::permit::MAX_URI_CHARS, "aggregation_uri"))
            .transpose()?;
        sl.finish()?;
        if expires_at <= issued_at {
            return Err(Error::Invalid("status list exp"));
        }
        let bytes = zlib::decompress(&lst, MAX_LIST_BYTES)?;
        Ok(StatusList {
            uri,
            issued_at,
            expires_at,
            ttl_seconds,
            aggregation_uri,
            bytes,
        })
    }
}
