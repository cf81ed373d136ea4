//! JSON Schemas of the values whose serialisation is written by hand here (feature `openapi`):
//! the service's OpenAPI document names these where it sends or takes them.

use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Object, RefOr, Schema};

use crate::District;

/// A Jinhua district, as [`District`] serialises it: its six-digit code, one of [`District::ALL`].
pub fn district() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A Jinhua district, by its six-digit GB/T 2260 code."))
        .examples(["330702"])
        .enum_values(Some(District::ALL.map(|d| d.code().to_string())))
        .build()
}

impl utoipa::PartialSchema for District {
    fn schema() -> RefOr<Schema> {
        RefOr::T(Schema::Object(district()))
    }
}

impl utoipa::ToSchema for District {}
