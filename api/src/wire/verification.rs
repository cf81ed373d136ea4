//! The answer of `POST /v1/verify` as the document states it. The handler serialises
//! [`crypto::verify::Verification`] itself (the shape the SDK and the verifier desk read too);
//! [`Verification`] is its schema, built from the same types: every code listed is a value's own
//! serialisation (`code`) and every bound is the credential reader's constant, so the document
//! cannot list a verdict or allow a length the crate does not.

use serde::Serialize;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::{Object, RefOr};

use crypto::permit::{MAX_ADDRESS_CHARS, MAX_NAME_CHARS, MAX_RANGES, MAX_URI_CHARS};
use crypto::verify::{Assurance, Verdict, Warning};

use super::schema::{one_of, string};

/// The schema of a [`crypto::verify::Verification`] (component `Verification`).
pub struct Verification;

impl utoipa::PartialSchema for Verification {
    fn schema() -> RefOr<Schema> {
        let verdict = codes(
            "The SPEC §2 verdict: `valid`, or the first check that failed.",
            &Verdict::ALL,
        );
        let assurance = nullable(codes(
            "For `valid` only: `holder_bound` (a fresh presentation signed by the holder's \
             device) or `unbound` (a static credential: check the photo ID); otherwise null.",
            &Assurance::ALL,
        ));
        let warnings = ArrayBuilder::new()
            .items(codes(
                "Something to know that does not change the verdict.",
                &Warning::ALL,
            ))
            .description(Some("Warnings, in the order of their codes' list."));
        let permit = nullable(claims(
            "The decoded permit whenever it could be decoded (whatever the verdict), so it can be \
             shown next to the verdict; null when it could not.",
        ));
        of(closed(
            ObjectBuilder::new()
                .description(Some("The verdict on a QR text (SPEC §2)."))
                .property("verdict", of(verdict))
                .property("assurance", of(assurance))
                .property("warnings", warnings)
                .property("permit", of(permit)),
        ))
    }
}

impl utoipa::ToSchema for Verification {}

/// What a permit credential states ([`crypto::permit::PermitClaims`]).
fn claims(description: &str) -> Object {
    let district = || of(super::schema::district());
    let date = super::schema::date;
    let instant = || of(super::schema::instant());
    let period = closed(
        ObjectBuilder::new()
            .description(Some("A confirmed residence registration (SPEC §1.1)."))
            .property(
                "district",
                string("A district code (GB/T 2260), six digits.", "330702")
                    .pattern(Some(policy::DistrictCode::PATTERN)),
            )
            .property("start", of(date()))
            .property("end", of(nullable(date()))),
    );
    let lapse = closed(
        ObjectBuilder::new()
            .description(Some("A lapse of endorsement (SPEC §1.4)."))
            .property("from", of(date()))
            .property("until", of(nullable(date()))),
    );
    let ranges = |item: Object, what: &str| {
        ArrayBuilder::new()
            .items(item)
            .max_items(Some(MAX_RANGES))
            .description(Some(what))
    };
    let status = closed(
        ObjectBuilder::new()
            .description(Some("Where the permit's status is published."))
            .property(
                "index",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(0))
                    .maximum(Some(u32::MAX)),
            )
            .property(
                "uri",
                string(
                    "The status list's URI.",
                    "https://epermit.example/v1/status/0",
                )
                .max_length(Some(MAX_URI_CHARS)),
            ),
    );
    let claims = ObjectBuilder::new()
        .description(Some(description))
        .property("issuer", district())
        .property(
            "number",
            string(
                "The permit number: the issuing district, the year, a six-digit serial.",
                "330702-2026-000123",
            )
            .pattern(Some(policy::PermitNumber::PATTERN)),
        )
        .property("issued_at", instant())
        .property("expires_at", instant())
        .property("holder_key", of(nullable(super::schema::public_key())))
        .property(
            "name",
            string("The holder's name.", "张三").max_length(Some(MAX_NAME_CHARS)),
        )
        .property(
            "id_number",
            string(
                "The holder's ID number, masked: its first 6 and last 4 characters.",
                "330702********123X",
            )
            .pattern(Some(crypto::MaskedIdNumber::PATTERN)),
        )
        .property("residence", district())
        .property(
            "address",
            string(
                "The address, to street/community level.",
                "金华市婺城区城中街道",
            )
            .max_length(Some(MAX_ADDRESS_CHARS)),
        )
        .property(
            "periods",
            ranges(period, "Confirmed residence registrations."),
        )
        .property("lapses", ranges(lapse, "Lapses of endorsement."))
        .property("first_issued", of(date()))
        .property("last_endorsed", of(nullable(date())))
        .property("status", of(status));
    closed(claims)
}

/// The value's serialisation as a string (what the handler sends for it).
fn code(value: impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        other => unreachable!("a code serialises as a string, not {other:?}"),
    }
}

/// One of the codes of `values`.
fn codes<T: Serialize + Copy>(description: &str, values: &[T]) -> Object {
    let codes: Vec<String> = values.iter().map(|&v| code(v)).collect();
    one_of(description, &codes)
}

/// `object`'s type, or null (null joins its values too, if it lists them).
fn nullable(mut object: Object) -> Object {
    if let Some(values) = &mut object.enum_values {
        values.push(serde_json::Value::Null);
    }
    let mut types: Vec<Type> = match &object.schema_type {
        SchemaType::Type(t) => vec![t.clone()],
        SchemaType::Array(ts) => ts.clone(),
        SchemaType::AnyValue => Vec::new(),
    };
    types.push(Type::Null);
    object.schema_type = SchemaType::from_iter(types);
    object
}

/// An object with exactly the properties `builder` names, each of them required (every field is
/// always sent, null where absent), and no others.
fn closed(builder: ObjectBuilder) -> Object {
    let mut object = builder
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .build();
    object.required = object.properties.keys().cloned().collect();
    object
}

fn of(object: Object) -> RefOr<Schema> {
    RefOr::T(Schema::Object(object))
}

#[cfg(test)]
mod tests;
