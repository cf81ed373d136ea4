//! The permit credential (SPEC §2): CWT claims (RFC 8392) in a COSE_Sign1 signed by the issuing
//! district's key, `kid` in the protected header.
//!
//! Claims: 2 `sub` permit number (as the integer `PermitNumber::to_u64`), 6 `iat`, 4 `exp`, 8 `cnf`
//! (RFC 8747, `{1: COSE_Key}` with an OKP Ed25519 key, RFC 9053 §7.2), 65535 `status`
//! (draft-ietf-oauth-status-list, `{"status_list": {"idx", "uri"}}`) and the private claim -70000
//! (see [`PRIVATE_CLAIM`]). There is no `iss`: the `kid` names the district (see the crate README
//! for this and every other compact-layout choice).

use chrono::{DateTime, NaiveDate, Utc};
use ciborium::Value;
use policy::calendar::{epoch_day, from_epoch_day, start_of_day_in_shanghai};
use policy::{District, DistrictCode, Lapse, Period, PermitNumber};
use serde::Serialize;

use crate::cbor::{self, Map, int, uint};
use crate::cose::{self, Sign1};
use crate::keys::{KeyId, VerifyingKey, public_key_from_bytes, serialize_opt_key};
use crate::masked_id::MaskedIdNumber;
use crate::{Error, Result, Signer};

/// CWT `sub` (RFC 8392 §3.1.2).
pub const CLAIM_SUB: i64 = 2;
/// CWT `exp`.
pub const CLAIM_EXP: i64 = 4;
/// CWT `iat`.
pub const CLAIM_IAT: i64 = 6;
/// CWT `cnf` (RFC 8747 §3.1).
pub const CLAIM_CNF: i64 = 8;
/// CWT `status` (draft-ietf-oauth-status-list, Referenced Token in CWT format).
pub const CLAIM_STATUS: i64 = 65535;
/// The private claim holding the permit's particulars: a map {1 name, 2 masked ID (10 visible
/// characters), 3 residence district (index), 4 address, 5 periods, 6 lapses, 8 first issued day,
/// 9 last endorsed day}; 6 and 9 are absent when empty.
pub const PRIVATE_CLAIM: i64 = -70000;

/// The longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// The longest address accepted, in characters.
pub const MAX_ADDRESS_CHARS: usize = 64;
/// The longest status-list URI accepted, in characters.
pub const MAX_URI_CHARS: usize = 256;
/// The most residence periods (and, separately, lapses) a credential carries.
pub const MAX_RANGES: usize = 64;
/// The largest day number accepted: that of [`policy::LAST_CARRIED_DAY`], 9999-12-31.
const MAX_DAY: u64 = 2_932_896;

/// Where the permit's status lives: index `index` of the status list at `uri`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StatusRef {
    /// Index in the list.
    pub index: u32,
    /// The list's URI (its `sub`).
    pub uri: String,
}

/// Everything a permit credential states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermitClaims {
    /// The district that approved the permit: its issuer for life (SPEC §1.4, revised). Stated
    /// by `sub`: a permit number begins with the code of the district that issued it
    /// (`330702-2026-000123`), so no claim of its own is needed — it must equal
    /// `number.district()`. Who *signed* this version is another matter: the residence district
    /// at signing time (§1.3: the applied-to district; §1.4: the district of registration at
    /// endorsement), named by the `kid`. After a move the two differ.
    pub issuer: District,
    /// The permit number (`sub`).
    pub number: PermitNumber,
    /// When this credential was signed (`iat`, whole seconds).
    pub issued_at: DateTime<Utc>,
    /// End of validity (`exp`): 00:00 Asia/Shanghai of the next anniversary, see [`expiry_instant`].
    pub expires_at: DateTime<Utc>,
    /// The holder's device key (`cnf`), absent until the holder binds one.
    #[serde(serialize_with = "serialize_opt_key")]
    pub holder_key: Option<VerifyingKey>,
    /// The holder's name.
    pub name: String,
    /// The holder's ID number, masked.
    pub id_number: MaskedIdNumber,
    /// The district of residence.
    pub residence: District,
    /// The address, to street/community level.
    pub address: String,
    /// Confirmed residence registrations (SPEC §1.1).
    pub periods: Vec<Period>,
    /// Lapses of endorsement (SPEC §1.4).
    pub lapses: Vec<Lapse>,
    /// Day the permit was first issued.
    pub first_issued: NaiveDate,
    /// Day of the last endorsement, if any.
    pub last_endorsed: Option<NaiveDate>,
    /// Where the permit's status is published.
    pub status: StatusRef,
}

impl PermitClaims {
    /// The SPEC §3 report for the holder at `target` on `as_of`, from what the credential states:
    /// its periods, its lapses (plus `extra_lapse`, e.g. the open one of an overdue endorsement)
    /// and its issuer, the permit being in `status`. The one computation behind the report the
    /// SDK, the CLI and the API's verification show for a credential.
    pub fn report(
        &self,
        target: District,
        as_of: NaiveDate,
        status: policy::PermitStatus,
        extra_lapse: Option<Lapse>,
    ) -> policy::Report {
        let mut lapses = self.lapses.clone();
        lapses.extend(extra_lapse);
        policy::report(&policy::ReportInput {
            target,
            as_of,
            periods: self.periods.clone(),
            lapses,
            permit: Some(policy::PermitFacts {
                issuer: self.issuer,
                status,
            }),
        })
    }
}

/// 00:00 Asia/Shanghai on `anniversary`, as a UTC instant: the `exp` of a credential whose next
/// anniversary that is (SPEC §2), by [`start_of_day_in_shanghai`].
pub fn expiry_instant(anniversary: NaiveDate) -> DateTime<Utc> {
    start_of_day_in_shanghai(anniversary)
}

/// Signs the claims with the issuing district's key: the tagged COSE_Sign1 bytes of an `EP1:`.
///
/// Refuses claims out of range (empty or over-long texts, `exp` not after `iat`, more than
/// [`MAX_RANGES`] periods or lapses, an issuer other than the permit number's district). Sub-second
/// parts of the instants are dropped.
pub fn issue(claims: &PermitClaims, signer: &dyn Signer) -> Result<Vec<u8>> {
    let payload = cbor::to_vec(&encode_claims(claims)?)?;
    let protected = cose::protected(Some(signer.key_id()), None);
    cose::to_tagged(cose::sign(protected, payload, signer)?)
}

/// Reads the claims of a credential without checking its signature (for display; verification
/// goes through [`crate::verify::verify`]).
pub fn parse(cose_bytes: &[u8]) -> Result<PermitClaims> {
    Credential::from_cose(cose_bytes).map(Credential::into_claims)
}

/// A parsed permit credential whose signature is not yet checked.
#[derive(Debug)]
pub struct Credential {
    sign1: Sign1,
    kid: KeyId,
    claims: PermitClaims,
}

impl Credential {
    /// Parses tagged COSE bytes (what `EP1:` carries).
    pub fn from_cose(bytes: &[u8]) -> Result<Credential> {
        Self::from_sign1(Sign1::from_tagged(bytes, "permit COSE_Sign1")?)
    }

    /// Parses untagged COSE bytes (what a presentation carries, see [`crate::presentation`]).
    pub(crate) fn from_untagged(bytes: &[u8]) -> Result<Credential> {
        Self::from_sign1(Sign1::from_untagged(bytes, "permit COSE_Sign1")?)
    }

    fn from_sign1(sign1: Sign1) -> Result<Credential> {
        let kid = sign1.kid()?.ok_or(Error::Invalid("kid"))?;
        if sign1.typ().is_some() {
            return Err(Error::Malformed("permit header"));
        }
        let claims = match read_claims(&sign1.payload) {
            Some(claims) => claims,
            None => decode_claims(cbor::from_slice(&sign1.payload, "permit claims")?)?,
        };
        Ok(Credential { sign1, kid, claims })
    }

    /// The issuing key's identifier.
    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// The claims.
    pub fn claims(&self) -> &PermitClaims {
        &self.claims
    }

    /// The claims, consuming the credential.
    pub fn into_claims(self) -> PermitClaims {
        self.claims
    }

    /// Checks the issuer's signature (`verify_strict`).
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<()> {
        self.sign1.verify(key)
    }
}

fn check(ok: bool, what: &'static str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(what))
    }
}

fn text_ok(t: &str, max: usize) -> bool {
    !t.is_empty() && t.chars().count() <= max
}

/// A day as its day number; a day the rule of [`policy::check_carried_date`] refuses (before
/// 1970-01-01, after 9999-12-31) is `Invalid(what)`.
fn day(d: NaiveDate, what: &'static str) -> Result<Value> {
    policy::check_carried_date(d).map_err(|_| Error::Invalid(what))?;
    let n = u64::try_from(epoch_day(d)).map_err(|_| Error::Invalid(what))?;
    check(n <= MAX_DAY, what)?;
    Ok(uint(n))
}

fn as_day(v: &Value, what: &'static str) -> Result<NaiveDate> {
    day_from(cbor::as_u64(v, 0..=MAX_DAY, what)?).ok_or(Error::Invalid(what))
}

/// The day of day number `n` (at most [`MAX_DAY`]).
fn day_from(n: u64) -> Option<NaiveDate> {
    i64::try_from(n).ok().and_then(from_epoch_day)
}

fn opt_day(v: Value, what: &'static str) -> Result<Option<NaiveDate>> {
    match v {
        Value::Null => Ok(None),
        v => as_day(&v, what).map(Some),
    }
}

/// A district in a period: its index (0–8) for Jinhua, the full six-digit code elsewhere.
fn district_value(d: DistrictCode) -> Value {
    match d.jinhua() {
        Some(j) => uint(u64::from(j.index())),
        None => uint(u64::from(d.value())),
    }
}

fn as_district_code(v: &Value) -> Result<DistrictCode> {
    district_code(cbor::as_u64(v, 0..=999_999, "period district")?)
        .ok_or(Error::Invalid("period district"))
}

/// The district of a period's number `n` (at most 999 999): an index, or a code outside Jinhua.
fn district_code(n: u64) -> Option<DistrictCode> {
    if let Some(d) = District::from_index(n) {
        return Some(d.as_code());
    }
    let code = u32::try_from(n)
        .ok()
        .and_then(|n| DistrictCode::new(n).ok())?;
    // A Jinhua district always travels as its index: one encoding per value.
    (!code.is_jinhua()).then_some(code)
}

fn as_jinhua_index(v: &Value, what: &'static str) -> Result<District> {
    District::from_index(cbor::as_u64(v, 0..=8, what)?).ok_or(Error::Invalid(what))
}

pub(crate) fn encode_cnf(key: &VerifyingKey) -> Value {
    let cose_key = Value::Map(vec![
        (int(1), int(1)),                                 // kty: OKP
        (int(-1), int(6)),                                // crv: Ed25519
        (int(-2), Value::Bytes(key.as_bytes().to_vec())), // x
    ]);
    Value::Map(vec![(int(1), cose_key)])
}

fn decode_cnf(v: Value) -> Result<VerifyingKey> {
    let mut cnf = Map::new(v, "cnf")?;
    let mut key = Map::new(cnf.require(1, "cnf COSE_Key")?, "cnf COSE_Key")?;
    cnf.finish()?;
    cbor::as_u64(&key.require(1, "cnf kty")?, 1..=1, "cnf kty (must be OKP)")?;
    cbor::as_u64(
        &key.require(-1, "cnf crv")?,
        6..=6,
        "cnf crv (must be Ed25519)",
    )?;
    let x = cbor::as_bytes(key.require(-2, "cnf x")?, "cnf x")?;
    key.finish()?;
    public_key_from_bytes(&x).map_err(|_| Error::Invalid("cnf x"))
}

fn encode_claims(c: &PermitClaims) -> Result<Value> {
    check(
        c.issuer == c.number.district(),
        "issuer (must be the district of the permit number)",
    )?;
    check(c.expires_at > c.issued_at, "exp (must be after iat)")?;
    check(text_ok(&c.name, MAX_NAME_CHARS), "name")?;
    check(text_ok(&c.address, MAX_ADDRESS_CHARS), "address")?;
    check(text_ok(&c.status.uri, MAX_URI_CHARS), "status uri")?;
    check(c.periods.len() <= MAX_RANGES, "periods (too many)")?;
    check(c.lapses.len() <= MAX_RANGES, "lapses (too many)")?;
    for t in [c.issued_at, c.expires_at] {
        let secs = u64::try_from(t.timestamp()).map_err(|_| Error::Invalid("iat/exp"))?;
        check(secs <= cbor::MAX_EPOCH_SECONDS, "iat/exp")?;
    }

    let mut periods = Vec::with_capacity(c.periods.len());
    for p in &c.periods {
        let end = match p.end() {
            Some(e) => day(e, "period end")?,
            None => Value::Null,
        };
        periods.push(Value::Array(vec![
            district_value(p.district()),
            day(p.start(), "period start")?,
            end,
        ]));
    }

    let mut private = vec![
        (int(1), Value::Text(c.name.clone())),
        (int(2), Value::Text(c.id_number.compact())),
        (int(3), uint(u64::from(c.residence.index()))),
        (int(4), Value::Text(c.address.clone())),
        (int(5), Value::Array(periods)),
    ];
    if !c.lapses.is_empty() {
        let mut lapses = Vec::with_capacity(c.lapses.len());
        for l in &c.lapses {
            let until = match l.until() {
                Some(u) => day(u, "lapse until")?,
                None => Value::Null,
            };
            lapses.push(Value::Array(vec![day(l.from(), "lapse from")?, until]));
        }
        private.push((int(6), Value::Array(lapses)));
    }
    private.push((int(8), day(c.first_issued, "first issued")?));
    if let Some(d) = c.last_endorsed {
        private.push((int(9), day(d, "last endorsed")?));
    }

    let status = Value::Map(vec![(
        Value::Text("status_list".into()),
        Value::Map(vec![
            (Value::Text("idx".into()), uint(u64::from(c.status.index))),
            (Value::Text("uri".into()), Value::Text(c.status.uri.clone())),
        ]),
    )]);

    let mut claims = vec![
        (int(CLAIM_SUB), uint(c.number.to_u64())),
        (int(CLAIM_IAT), cbor::time(c.issued_at)),
        (int(CLAIM_EXP), cbor::time(c.expires_at)),
    ];
    if let Some(k) = &c.holder_key {
        claims.push((int(CLAIM_CNF), encode_cnf(k)));
    }
    claims.push((int(PRIVATE_CLAIM), Value::Map(private)));
    claims.push((int(CLAIM_STATUS), status));
    Ok(Value::Map(claims))
}

fn decode_claims(v: Value) -> Result<PermitClaims> {
    let mut m = Map::new(v, "permit claims")?;
    let number = PermitNumber::from_u64(cbor::as_u64(
        &m.require(CLAIM_SUB, "sub")?,
        0..=u64::MAX,
        "sub",
    )?)
    .map_err(|_| Error::Invalid("sub"))?;
    let issued_at = cbor::as_time(&m.require(CLAIM_IAT, "iat")?, "iat")?;
    let expires_at = cbor::as_time(&m.require(CLAIM_EXP, "exp")?, "exp")?;
    check(expires_at > issued_at, "exp (must be after iat)")?;
    let holder_key = m.take_int(CLAIM_CNF).map(decode_cnf).transpose()?;

    let mut p = Map::new(
        m.require(PRIVATE_CLAIM, "private claim -70000")?,
        "private claim",
    )?;
    let name = cbor::as_text(p.require(1, "name")?, MAX_NAME_CHARS, "name")?;
    let id_text = cbor::as_text(p.require(2, "masked ID")?, 10, "masked ID")?;
    let id_number = MaskedIdNumber::from_compact(&id_text)?;
    let residence = as_jinhua_index(&p.require(3, "residence district")?, "residence district")?;
    let address = cbor::as_text(p.require(4, "address")?, MAX_ADDRESS_CHARS, "address")?;

    let raw_periods = cbor::as_array(p.require(5, "periods")?, "periods")?;
    check(raw_periods.len() <= MAX_RANGES, "periods (too many)")?;
    let mut periods = Vec::with_capacity(raw_periods.len());
    for raw in raw_periods {
        let [d, start, end] = <[Value; 3]>::try_from(cbor::as_array(raw, "period")?)
            .map_err(|_| Error::Invalid("period"))?;
        let district = as_district_code(&d)?;
        let start = as_day(&start, "period start")?;
        let end = opt_day(end, "period end")?;
        periods.push(Period::new(district, start, end).map_err(|_| Error::Invalid("period"))?);
    }

    let mut lapses = Vec::new();
    if let Some(raw_lapses) = p.take_int(6) {
        let raw_lapses = cbor::as_array(raw_lapses, "lapses")?;
        // Empty lapses are written by omission; an empty array is a second encoding.
        check(
            !raw_lapses.is_empty() && raw_lapses.len() <= MAX_RANGES,
            "lapses",
        )?;
        for raw in raw_lapses {
            let [from, until] = <[Value; 2]>::try_from(cbor::as_array(raw, "lapse")?)
                .map_err(|_| Error::Invalid("lapse"))?;
            let from = as_day(&from, "lapse from")?;
            let until = opt_day(until, "lapse until")?;
            lapses.push(Lapse::new(from, until).map_err(|_| Error::Invalid("lapse"))?);
        }
    }
    let first_issued = as_day(&p.require(8, "first issued")?, "first issued")?;
    let last_endorsed = p
        .take_int(9)
        .map(|v| as_day(&v, "last endorsed"))
        .transpose()?;
    p.finish()?;

    let mut status = Map::new(m.require(CLAIM_STATUS, "status")?, "status claim")?;
    let mut list = Map::new(
        status.require_text("status_list", "status_list")?,
        "status_list",
    )?;
    status.finish()?;
    let index = cbor::as_u64(
        &list.require_text("idx", "status idx")?,
        0..=u64::from(u32::MAX),
        "status idx",
    )?;
    let uri = cbor::as_text(
        list.require_text("uri", "status uri")?,
        MAX_URI_CHARS,
        "status uri",
    )?;
    list.finish()?;
    m.finish()?;

    Ok(PermitClaims {
        issuer: number.district(),
        number,
        issued_at,
        expires_at,
        holder_key,
        name,
        id_number,
        residence,
        address,
        periods,
        lapses,
        first_issued,
        last_endorsed,
        status: StatusRef {
            index: u32::try_from(index).map_err(|_| Error::Invalid("status idx"))?,
            uri,
        },
    })
}

/// The fast path of [`decode_claims`] ([`cbor::Reader`]): the claims read straight from the
/// payload's bytes when they have the shape [`encode_claims`] writes (definite lengths, integer
/// and text keys, each key once, in any order), with every check [`decode_claims`] makes; `None`
/// for anything else, which [`decode_claims`] then decides.
fn read_claims(bytes: &[u8]) -> Option<PermitClaims> {
    let mut r = cbor::Reader::new(bytes);
    let (mut number, mut issued_at, mut expires_at) = (None, None, None);
    let (mut holder_key, mut private, mut status) = (None, None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            CLAIM_SUB => cbor::once(
                &mut number,
                PermitNumber::from_u64(r.uint(0..=u64::MAX)?).ok()?,
            )?,
            CLAIM_IAT => cbor::once(&mut issued_at, r.time()?)?,
            CLAIM_EXP => cbor::once(&mut expires_at, r.time()?)?,
            CLAIM_CNF => cbor::once(&mut holder_key, read_cnf(&mut r)?)?,
            PRIVATE_CLAIM => cbor::once(&mut private, read_private(&mut r)?)?,
            CLAIM_STATUS => cbor::once(&mut status, read_status(&mut r)?)?,
            _ => return None,
        }
    }
    r.end()?;
    let (number, issued_at, expires_at) = (number?, issued_at?, expires_at?);
    if expires_at <= issued_at {
        return None;
    }
    let p = private?;
    Some(PermitClaims {
        issuer: number.district(),
        number,
        issued_at,
        expires_at,
        holder_key,
        name: p.name,
        id_number: p.id_number,
        residence: p.residence,
        address: p.address,
        periods: p.periods,
        lapses: p.lapses,
        first_issued: p.first_issued,
        last_endorsed: p.last_endorsed,
        status: status?,
    })
}

/// Whatever [`read_claims`] reads of `payload`, [`decode_claims`] reads to the same claims
/// ([`crate::sample::fast_decoders_agree`]).
#[cfg(any(test, feature = "sample"))]
pub(crate) fn fast_path_agrees(payload: &[u8]) -> bool {
    read_claims(payload).is_none_or(|fast| {
        cbor::from_slice(payload, "check")
            .and_then(decode_claims)
            .ok()
            == Some(fast)
    })
}

/// What the private claim −70000 holds.
struct Private {
    name: String,
    id_number: MaskedIdNumber,
    residence: District,
    address: String,
    periods: Vec<Period>,
    lapses: Vec<Lapse>,
    first_issued: NaiveDate,
    last_endorsed: Option<NaiveDate>,
}

fn read_private(r: &mut cbor::Reader<'_>) -> Option<Private> {
    let (mut name, mut id_number, mut residence, mut address) = (None, None, None, None);
    let (mut periods, mut lapses, mut first_issued, mut last_endorsed) = (None, None, None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => cbor::once(&mut name, r.text(MAX_NAME_CHARS)?.to_owned())?,
            2 => cbor::once(
                &mut id_number,
                MaskedIdNumber::from_compact(r.text(10)?).ok()?,
            )?,
            3 => cbor::once(&mut residence, District::from_index(r.uint(0..=8)?)?)?,
            4 => cbor::once(&mut address, r.text(MAX_ADDRESS_CHARS)?.to_owned())?,
            5 => cbor::once(&mut periods, read_periods(r)?)?,
            6 => cbor::once(&mut lapses, read_lapses(r)?)?,
            8 => cbor::once(&mut first_issued, day_from(r.uint(0..=MAX_DAY)?)?)?,
            9 => cbor::once(&mut last_endorsed, day_from(r.uint(0..=MAX_DAY)?)?)?,
            _ => return None,
        }
    }
    Some(Private {
        name: name?,
        id_number: id_number?,
        residence: residence?,
        address: address?,
        periods: periods?,
        lapses: lapses.unwrap_or_default(),
        first_issued: first_issued?,
        last_endorsed,
    })
}

fn read_opt_day(r: &mut cbor::Reader<'_>) -> Option<Option<NaiveDate>> {
    if r.null() {
        Some(None)
    } else {
        day_from(r.uint(0..=MAX_DAY)?).map(Some)
    }
}

fn read_periods(r: &mut cbor::Reader<'_>) -> Option<Vec<Period>> {
    let n = usize::try_from(r.array()?)
        .ok()
        .filter(|&n| n <= MAX_RANGES)?;
    let mut periods = Vec::with_capacity(n);
    for _ in 0..n {
        if r.array()? != 3 {
            return None;
        }
        let district = district_code(r.uint(0..=999_999)?)?;
        let start = day_from(r.uint(0..=MAX_DAY)?)?;
        let end = read_opt_day(r)?;
        periods.push(Period::new(district, start, end).ok()?);
    }
    Some(periods)
}

fn read_lapses(r: &mut cbor::Reader<'_>) -> Option<Vec<Lapse>> {
    // Empty lapses are written by omission; an empty array is a second encoding.
    let n = usize::try_from(r.array()?)
        .ok()
        .filter(|&n| (1..=MAX_RANGES).contains(&n))?;
    let mut lapses = Vec::with_capacity(n);
    for _ in 0..n {
        if r.array()? != 2 {
            return None;
        }
        let from = day_from(r.uint(0..=MAX_DAY)?)?;
        let until = read_opt_day(r)?;
        lapses.push(Lapse::new(from, until).ok()?);
    }
    Some(lapses)
}

fn read_cnf(r: &mut cbor::Reader<'_>) -> Option<VerifyingKey> {
    if r.map()? != 1 || r.int()? != 1 {
        return None;
    }
    let (mut kty, mut crv, mut x) = (None, None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => cbor::once(&mut kty, r.uint(1..=1)?)?,
            -1 => cbor::once(&mut crv, r.uint(6..=6)?)?,
            -2 => cbor::once(&mut x, r.bytes()?)?,
            _ => return None,
        }
    }
    kty?;
    crv?;
    public_key_from_bytes(x?).ok()
}

fn read_status(r: &mut cbor::Reader<'_>) -> Option<StatusRef> {
    if r.map()? != 1 || r.key()? != "status_list" {
        return None;
    }
    let (mut index, mut uri) = (None, None);
    for _ in 0..r.map()? {
        match r.key()? {
            "idx" => cbor::once(
                &mut index,
                u32::try_from(r.uint(0..=u64::from(u32::MAX))?).ok()?,
            )?,
            "uri" => cbor::once(&mut uri, r.text(MAX_URI_CHARS)?.to_owned())?,
            _ => return None,
        }
    }
    Some(StatusRef {
        index: index?,
        uri: uri?,
    })
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use proptest::prelude::*;

    use super::*;
    use crate::cbor::mutation;
    use crate::sample::{Demo, reference_claims};

    /// The decoding before the fast path: the `Value` tree, then [`decode_claims`].
    fn by_value(payload: &[u8]) -> Option<PermitClaims> {
        decode_claims(cbor::from_slice(payload, "test").ok()?).ok()
    }

    /// Claims of every shape the encoder writes: holder-bound or not, with lapses and a last
    /// endorsement or without, a period outside Jinhua.
    fn claims_of_every_shape() -> Vec<PermitClaims> {
        let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        let demo = Demo::new(now).unwrap();
        let mut all = vec![
            demo.claims.clone(),
            reference_claims(District::Yiwu, None, now).unwrap(),
        ];
        let mut more = demo.claims.clone();
        let start = more.first_issued;
        more.lapses = vec![
            Lapse::new(start, Some(start + chrono::Days::new(3))).unwrap(),
            Lapse::new(start + chrono::Days::new(9), None).unwrap(),
        ];
        more.last_endorsed = Some(start + chrono::Days::new(5));
        let shanghai = DistrictCode::new(310_101).unwrap();
        more.periods.insert(
            0,
            Period::new(shanghai, start - chrono::Days::new(2000), None).unwrap(),
        );
        more.status.index = u32::MAX;
        all.push(more);
        all
    }

    fn payloads() -> Vec<Vec<u8>> {
        claims_of_every_shape()
            .iter()
            .map(|c| cbor::to_vec(&encode_claims(c).unwrap()).unwrap())
            .collect()
    }

    #[test]
    fn the_fast_path_reads_claims_of_every_shape_as_the_value_path_does() {
        for (claims, payload) in claims_of_every_shape().into_iter().zip(payloads()) {
            assert_eq!(read_claims(&payload), Some(claims.clone()));
            assert_eq!(by_value(&payload), Some(claims));
        }
    }

    #[test]
    fn repeated_unknown_and_retyped_keys_are_refused_by_both_paths() {
        let claims = claims_of_every_shape().swap_remove(2);
        let good = encode_claims(&claims).unwrap();
        let extra = [
            (int(CLAIM_IAT), uint(1)),
            (int(99), uint(1)),
            (Value::Text("2".into()), uint(1)),
            (
                int(CLAIM_CNF),
                encode_cnf(claims.holder_key.as_ref().unwrap()),
            ),
        ];
        for entry in extra {
            let Value::Map(mut entries) = good.clone() else {
                unreachable!()
            };
            entries.push(entry);
            let bytes = cbor::to_vec(&Value::Map(entries)).unwrap();
            assert_eq!(read_claims(&bytes), None);
            assert_eq!(by_value(&bytes), None);
        }
        // Inside the private claim and the status claim too.
        let Value::Map(entries) = good else {
            unreachable!()
        };
        for key in [PRIVATE_CLAIM, CLAIM_STATUS] {
            let mut entries = entries.clone();
            let (_, inner) = entries.iter_mut().find(|(k, _)| *k == int(key)).unwrap();
            let Value::Map(m) = inner else { unreachable!() };
            let first = m[0].clone();
            m.push(first);
            let bytes = cbor::to_vec(&Value::Map(entries)).unwrap();
            assert_eq!(read_claims(&bytes), None);
            assert_eq!(by_value(&bytes), None);
        }
    }

    /// `claims` encoded with the value at `key` replaced (or added) by `value`; in the private
    /// claim when `private`.
    fn with(claims: &PermitClaims, private: bool, key: i64, value: Value) -> Vec<u8> {
        let Value::Map(mut entries) = encode_claims(claims).unwrap() else {
            unreachable!()
        };
        let map = if private {
            let (_, inner) = entries
                .iter_mut()
                .find(|(k, _)| *k == int(PRIVATE_CLAIM))
                .unwrap();
            let Value::Map(m) = inner else { unreachable!() };
            m
        } else {
            &mut entries
        };
        match map.iter_mut().find(|(k, _)| *k == int(key)) {
            Some((_, v)) => *v = value,
            None => map.push((int(key), value)),
        }
        cbor::to_vec(&Value::Map(entries)).unwrap()
    }

    /// Each range and length rule at its edge: the value just inside is read by both paths to
    /// the same claims, the one just outside refused by both.
    #[test]
    fn values_at_the_edge_of_each_rule_are_decided_by_both_paths_alike() {
        let claims = claims_of_every_shape().swap_remove(2);
        let iat = u64::try_from(claims.issued_at.timestamp()).unwrap();
        let period = |i: u64| {
            let day = 20_000 + 10 * i;
            Value::Array(vec![uint(0), uint(day), uint(day + 5)])
        };
        let lapse = Value::Array(vec![uint(20_000), Value::Null]);
        let cases = [
            (false, CLAIM_EXP, uint(iat + 1), true),
            (false, CLAIM_EXP, uint(iat), false),
            (false, CLAIM_IAT, uint(cbor::MAX_EPOCH_SECONDS + 1), false),
            (true, 1, Value::Text("名".repeat(MAX_NAME_CHARS)), true),
            (true, 1, Value::Text("名".repeat(MAX_NAME_CHARS + 1)), false),
            (true, 1, Value::Text(String::new()), false),
            (true, 4, Value::Text("a".repeat(MAX_ADDRESS_CHARS)), true),
            (
                true,
                4,
                Value::Text("a".repeat(MAX_ADDRESS_CHARS + 1)),
                false,
            ),
            (true, 3, uint(8), true),
            (true, 3, uint(9), false),
            (true, 5, Value::Array((0..64).map(period).collect()), true),
            (true, 5, Value::Array((0..65).map(period).collect()), false),
            (
                true,
                5,
                Value::Array(vec![Value::Array(vec![uint(0), uint(20_000)])]),
                false,
            ),
            (true, 6, Value::Array(vec![lapse.clone(); 64]), true),
            (true, 6, Value::Array(vec![lapse; 65]), false),
            (true, 6, Value::Array(vec![]), false),
            (true, 8, uint(MAX_DAY), true),
            (true, 8, uint(MAX_DAY + 1), false),
            (true, 9, Value::Null, false),
            (true, 7, uint(1), false),
        ];
        for (private, key, value, ok) in cases {
            let bytes = with(&claims, private, key, value.clone());
            let fast = read_claims(&bytes);
            assert_eq!(fast.is_some(), ok, "{key} {value:?}");
            assert_eq!(fast, by_value(&bytes), "{key} {value:?}");
        }
    }

    /// `Value` trees of claims with their maps' entries in another order.
    fn reorder(v: Value, seed: u64) -> Value {
        match v {
            Value::Map(mut entries) => {
                let n = entries.len();
                if n > 1 {
                    entries.rotate_left(usize::try_from(seed).unwrap() % n);
                }
                Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, reorder(v, seed / 3 + 1)))
                        .collect(),
                )
            }
            Value::Array(a) => Value::Array(a.into_iter().map(|v| reorder(v, seed)).collect()),
            v => v,
        }
    }

    proptest! {
        /// Bytes flipped, truncated, inserted, small integers and lengths widened to a second
        /// byte (a longer encoding of the same value): what the fast path accepts, the `Value`
        /// path accepts to the same claims, and the two paths together (what `Credential`
        /// does) decide as the `Value` path alone.
        #[test]
        fn what_the_fast_path_accepts_the_value_path_accepts_to_the_same_claims(
            which in 0usize..3,
            at in any::<prop::sample::Index>(),
            change in mutation::any_change(),
        ) {
            let mut bytes = payloads().swap_remove(which);
            mutation::apply(&mut bytes, at, change);
            let value = by_value(&bytes);
            if let Some(fast) = read_claims(&bytes) {
                prop_assert_eq!(Some(fast), value.clone());
            }
            let both = read_claims(&bytes).or_else(|| by_value(&bytes));
            prop_assert_eq!(both, value);
        }

        /// The same claims with the entries of each map in another order: both paths read them.
        #[test]
        fn claims_in_any_key_order_read_the_same(which in 0usize..3, seed in any::<u64>()) {
            let claims = claims_of_every_shape().swap_remove(which);
            let value = reorder(encode_claims(&claims).unwrap(), seed);
            let bytes = cbor::to_vec(&value).unwrap();
            prop_assert_eq!(read_claims(&bytes), Some(claims.clone()));
            prop_assert_eq!(by_value(&bytes), Some(claims));
        }
    }
}
