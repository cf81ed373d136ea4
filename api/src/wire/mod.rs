//! What crosses the wire: one `Deserialize + ToSchema` type per request body and one
//! `Serialize + ToSchema` type per response body, used both to (de)serialise and in the OpenAPI
//! document — so the document describes exactly what is sent. Request bodies convert into the
//! domain values of [`crate::domain`] (and `policy`) once, here, with errors that name the field.
//!
//! Bodies arrive through [`Json`], which names the field at fault for every shape error:
//! `missing_field`, `unknown_field`, `invalid_field` (a value of the wrong JSON type), or
//! `invalid_body` when the body is not the expected JSON object at all.

pub mod applications;
pub mod audit;
pub mod auth;
pub mod me;
pub mod ops;
pub mod permits;
pub mod residences;
pub mod schema;
pub mod staff;
pub mod verification;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// A JSON request body of type `T`, read through the service's `JsonConfig` (size limit, media
/// type, syntax) and then deserialised with the path of any error, so the problem names the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            serde_path_to_error::deserialize(value)
                .map(Json)
                .map_err(|e| shape_error(&e).into())
        })
    }
}

/// The problem for a body of the wrong shape. serde's messages may quote the input's values
/// (personal data), so only the field names are taken from them.
fn shape_error(e: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    if let Some((code, field)) = named_field(&e.inner().to_string()) {
        let detail = match code {
            "missing_field" => format!("`{field}` is required"),
            _ => format!("`{field}` is not a field of this request"),
        };
        return ApiError::invalid(code, "body", detail).with("field", field.into());
    }
    let field = e.path().iter().find_map(|segment| match segment {
        serde_path_to_error::Segment::Map { key } if plain(key) => Some(key.clone()),
        _ => None,
    });
    match field {
        Some(field) => ApiError::invalid(
            "invalid_field",
            "body",
            format!("`{field}` has the wrong type for this request"),
        )
        .with("field", field.into()),
        None => ApiError::invalid(
            "invalid_body",
            "body",
            "the body is not the JSON object this request takes",
        ),
    }
}

/// The field a deserialisation error names, when it is a missing or unknown field: the code and
/// the name. Only a plain identifier is taken.
pub(crate) fn named_field(message: &str) -> Option<(&'static str, String)> {
    let (code, rest) = if let Some(rest) = message.strip_prefix("missing field `") {
        ("missing_field", rest)
    } else {
        ("unknown_field", message.strip_prefix("unknown field `")?)
    };
    let name = &rest[..rest.find('`')?];
    plain(name).then(|| (code, name.to_owned()))
}

/// A lower-case letter, then letters, digits or `_`, at most 40: a field name, never a value.
fn plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A `YYYY-MM-DD` date, or a 400 `invalid_date` naming the field.
pub fn date(text: &str, field: &'static str) -> ApiResult<NaiveDate> {
    policy::calendar::parse_date(text.trim()).map_err(|_| {
        ApiError::invalid(
            "invalid_date",
            field,
            format!("`{field}` must be a date YYYY-MM-DD"),
        )
    })
}

/// A Jinhua district code: 400 `invalid_district` when it is not a district code, 422
/// `district_not_in_jinhua` for a real code outside Jinhua.
pub fn district(text: &str, field: &'static str) -> ApiResult<policy::District> {
    text.trim()
        .parse::<policy::District>()
        .map_err(|e| match e {
            policy::Error::DistrictNotInJinhua => ApiError::unprocessable(
                e.code(),
                Some(field),
                "the service covers Jinhua's nine districts only",
            ),
            _ => ApiError::invalid(
                e.code(),
                field,
                "a district is a six-digit GB/T 2260 code, e.g. 330702",
            ),
        })
}

/// A domain text (name, address, reason), or a 400 with its code naming the field.
pub fn text<T>(
    parse: fn(&str) -> Result<T, crate::domain::TextError>,
    text: &str,
    field: &'static str,
) -> ApiResult<T> {
    parse(text).map_err(|e| ApiError::invalid(e.code, field, e.rule))
}

#[cfg(test)]
mod tests {
    use super::named_field;

    #[test]
    fn missing_and_unknown_fields_are_named_and_nothing_else_is_read() {
        assert_eq!(
            named_field("missing field `qr` at line 1 column 2"),
            Some(("missing_field", "qr".to_owned()))
        );
        assert_eq!(
            named_field("unknown field `public_key`, expected one of …"),
            Some(("unknown_field", "public_key".to_owned()))
        );
        // Values may be personal data: never taken from other messages.
        assert_eq!(
            named_field("invalid type: string \"13812345678\", expected u32"),
            None
        );
        assert_eq!(named_field("unknown field `13812345678 张`"), None);
        assert_eq!(named_field("unknown field `13812345678`"), None);
    }
}
