//! Demo data, not for production: the reference permit of the SPEC §2 size budget (3-character
//! name, 12-character address, 3 residence periods, holder-bound, status reference) and a complete
//! deterministic setup around it (root, district and holder keys; trust and status lists). Used by
//! the CLI demo, the SDK's demo export, the SDK tests, the benches, the fuzz targets and this
//! crate's tests.
//!
//! Compiled only with the cargo feature `sample` (off by default), so no production path can
//! reach it: the keys derive from public fixed seeds.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use policy::calendar::{add_days, add_months, day_in_shanghai};
use policy::{District, Period, PermitNumber};

use crate::cbor::whole_seconds;
use crate::keys::{Signature, VerifyingKey};
use crate::masked_id::MaskedIdNumber;
use crate::permit::{self, PermitClaims, StatusRef, expiry_instant};
use crate::presentation;
use crate::qr_text::{self, QrKind};
use crate::signer::KeyFileSigner;
use crate::status_list::StatusList;
use crate::trust_list::{TrustList, TrustedKey};
use crate::{Error, Result, Signer};

/// The status-list URI of the demo (short on purpose: it travels in every QR code).
pub const STATUS_LIST_URI: &str = "https://jhga.cn/sl";
/// The status-list index of the reference permit.
pub const STATUS_INDEX: u32 = 4711;
/// The reference holder's name (3 characters).
pub const NAME: &str = "张小明";
/// The reference address (12 characters, street/community level).
pub const ADDRESS: &str = "稠城街道宾王社区二十八号";

/// `t + delta`, refused beyond chrono's range instead of panicking.
fn shift(t: DateTime<Utc>, delta: TimeDelta) -> Result<DateTime<Utc>> {
    t.checked_add_signed(delta)
        .ok_or(Error::Invalid("sample instant"))
}

/// The reference permit issued by `issuer` at `now` (whole seconds): [`NAME`], [`ADDRESS`], three
/// periods (婺城区, 金东区, then an open one at `issuer`), first issued 10 days before `now`, valid
/// until 00:00 Asia/Shanghai of the first anniversary, index [`STATUS_INDEX`] of
/// [`STATUS_LIST_URI`]. Fails only for a `now` outside the years 1000–9999.
pub fn reference_claims(
    issuer: District,
    holder_key: Option<VerifyingKey>,
    now: DateTime<Utc>,
) -> Result<PermitClaims> {
    let now = whole_seconds(now);
    let today = day_in_shanghai(now);
    let first_issued = add_days(today, -10);
    let (p1, p2, p3) = (
        add_days(today, -900),
        add_days(today, -500),
        add_days(today, -200),
    );
    let periods = [
        (District::Wucheng, p1, Some(p2)),
        (District::Jindong, p2, Some(p3)),
        (issuer, p3, None),
    ]
    .into_iter()
    .map(|(d, s, e)| Period::new(d.as_code(), s, e))
    .collect::<Result<Vec<_>, _>>()
    .map_err(|_| Error::Invalid("sample periods"))?;
    let year = u16::try_from(first_issued.year()).map_err(|_| Error::Invalid("sample year"))?;
    Ok(PermitClaims {
        issuer,
        number: PermitNumber::new(issuer, year, 123).map_err(|_| Error::Invalid("sample year"))?,
        issued_at: now,
        expires_at: expiry_instant(add_months(first_issued, 12)),
        holder_key,
        name: NAME.into(),
        id_number: "34240119950315271X".parse::<MaskedIdNumber>()?,
        residence: issuer,
        address: ADDRESS.into(),
        periods,
        lapses: Vec::new(),
        first_issued,
        last_endorsed: None,
        status: StatusRef {
            index: STATUS_INDEX,
            uri: STATUS_LIST_URI.into(),
        },
    })
}

/// A complete demo world at one instant: keys from fixed seeds, a trust list naming the issuing
/// key, a status list holding the reference permit as valid, and the reference permit itself.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The root key (Jinhua bureau), signs the lists.
    pub root: KeyFileSigner,
    /// The issuing key of 义乌市 (the reference issuer).
    pub issuer: KeyFileSigner,
    /// The holder's device key.
    pub holder: KeyFileSigner,
    /// Trust list: sequence 1, issued a day before `now`, valid 30 days; the issuing key active
    /// since a year before `now`.
    pub trust_list: TrustList,
    /// Status list at [`STATUS_LIST_URI`]: issued an hour before `now`, valid a day, ttl 1 h,
    /// entries up to [`STATUS_INDEX`] all valid.
    pub status_list: StatusList,
    /// The reference permit, holder-bound, issued at `now - 1 h`.
    pub claims: PermitClaims,
}

impl Demo {
    /// The demo world around `now` (refused only for a `now` near the ends of chrono's range).
    pub fn new(now: DateTime<Utc>) -> Result<Demo> {
        let now = whole_seconds(now);
        let root = KeyFileSigner::from_seed([1; 32]);
        let issuer = KeyFileSigner::from_seed([2; 32]);
        let holder = KeyFileSigner::from_seed([3; 32]);
        let trust_list = TrustList {
            sequence: 1,
            issued_at: shift(now, TimeDelta::days(-1))?,
            expires_at: shift(now, TimeDelta::days(30))?,
            keys: vec![TrustedKey::new(
                District::Yiwu,
                issuer.public_key(),
                shift(now, TimeDelta::days(-365))?,
            )],
            successor: None,
        };
        let mut status_list = StatusList::new(
            STATUS_LIST_URI,
            shift(now, TimeDelta::hours(-1))?,
            shift(now, TimeDelta::days(1))?,
            3600,
        );
        status_list.set(STATUS_INDEX, crate::status_list::Status::Valid)?;
        let claims = reference_claims(
            District::Yiwu,
            Some(holder.public_key()),
            shift(now, TimeDelta::hours(-1))?,
        )?;
        Ok(Demo {
            root,
            issuer,
            holder,
            trust_list,
            status_list,
            claims,
        })
    }

    /// The permit's COSE bytes.
    pub fn credential(&self) -> Result<Vec<u8>> {
        permit::issue(&self.claims, &self.issuer)
    }

    /// The `EP1:` text.
    pub fn permit_text(&self) -> Result<String> {
        Ok(qr_text::encode(QrKind::Permit, &self.credential()?))
    }

    /// An `EPP1:` text presented at `at`, answering `challenge`.
    pub fn presentation_text(&self, at: DateTime<Utc>, challenge: Option<&[u8]>) -> Result<String> {
        let cose = presentation::present(&self.credential()?, &self.holder, at, challenge)?;
        Ok(qr_text::encode(QrKind::Presentation, &cose))
    }

    /// The pinned root keys.
    pub fn root_keys(&self) -> Vec<VerifyingKey> {
        vec![self.root.public_key()]
    }

    /// The floor of verifying the presentation `text` of this demo's permit: the two messages a
    /// verification checks a signature over (the issuer's and the holder's Sig_structure, at
    /// their real sizes), signed, with their keys. What the benches measure verification against.
    pub fn signature_floor(&self, text: &str) -> Result<SignatureFloor> {
        use coset::TaggedCborSerializable;
        let cose = |bytes: &[u8]| {
            coset::CoseSign1::from_tagged_slice(bytes).map_err(|_| Error::Malformed("COSE_Sign1"))
        };
        let (_, outer) = qr_text::decode(text)?;
        let holder_message = cose(&outer)?.tbs_data(b"");
        let issuer_message = cose(&self.credential()?)?.tbs_data(b"");
        Ok(SignatureFloor {
            issuer_signature: self.issuer.sign(&issuer_message)?,
            holder_signature: self.holder.sign(&holder_message)?,
            issuer_message,
            holder_message,
            issuer_key: self.issuer.public_key(),
            holder_key: self.holder.public_key(),
        })
    }
}

/// Two signed messages of a presentation's sizes: see [`Demo::signature_floor`].
#[derive(Debug, Clone)]
pub struct SignatureFloor {
    issuer_message: Vec<u8>,
    holder_message: Vec<u8>,
    issuer_signature: Signature,
    holder_signature: Signature,
    issuer_key: VerifyingKey,
    holder_key: VerifyingKey,
}

impl SignatureFloor {
    /// Both `verify_strict` calls, as a verification makes them: true when both signatures hold.
    pub fn verify_strict_both(&self) -> bool {
        let issuer = self.issuer_key.verify_strict(
            std::hint::black_box(&self.issuer_message),
            &self.issuer_signature,
        );
        let holder = self.holder_key.verify_strict(
            std::hint::black_box(&self.holder_message),
            &self.holder_signature,
        );
        issuer.is_ok() && holder.is_ok()
    }
}

/// Whether each fast decoder of the verification path agrees on `bytes` with the general
/// `ciborium::Value` decoder behind it — the COSE_Sign1 (tagged and untagged), the permit claims,
/// the presentation fields: whatever the fast one accepts, the general one accepts to the same
/// value. For the fuzz target `fast_decoders_agree` (the property tests check the same).
pub fn fast_decoders_agree(bytes: &[u8]) -> bool {
    crate::cose::fast_path_agrees(bytes)
        && permit::fast_path_agrees(bytes)
        && presentation::fast_path_agrees(bytes)
}

/// The encodings [`fast_decoders_agree`] is best fuzzed around: the reference credential
/// (tagged), a presentation with a challenge (tagged), and their payloads (the claims, the
/// presentation fields).
pub fn fast_decoder_seeds() -> Result<Vec<Vec<u8>>> {
    let now = DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default();
    let demo = Demo::new(now)?;
    let credential = demo.credential()?;
    let presentation = presentation::present(&credential, &demo.holder, now, Some(b"challenge"))?;
    let payload = |bytes: &[u8]| crate::cose::Sign1::from_tagged(bytes, "seed").map(|s| s.payload);
    Ok(vec![
        payload(&credential)?,
        payload(&presentation)?,
        credential,
        presentation,
    ])
}
