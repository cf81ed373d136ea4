//! The document's constraints against the parsers: for each constrained field, valid and
//! invalid samples go through both the served document's pattern and lengths and the parser
//! the handler uses, and the verdicts agree (where the parser checks more than a pattern can —
//! an ID number's check character, a key being a curve point — only "schema refuses ⇒ parser
//! refuses" is required, and the samples say which is which).

use serde_json::Value;

use crate::domain::{Address, IdNumber, LookupPurpose, PersonName, PhoneNumber, Reason};

/// The served document as JSON.
fn document() -> Value {
    serde_json::to_value(crate::openapi::document()).unwrap()
}

/// The schema of `field` in the component `component`.
fn property<'a>(doc: &'a Value, component: &str, field: &str) -> &'a Value {
    let schema = &doc["components"]["schemas"][component]["properties"][field];
    assert!(schema.is_object(), "{component}.{field} is not documented");
    schema
}

/// The schema of the query parameter `name` of `GET path`.
fn query<'a>(doc: &'a Value, path: &str, name: &str) -> &'a Value {
    doc["paths"][path]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["schema"])
        .unwrap_or_else(|| panic!("{path}?{name} is not documented"))
}

/// Whether `text` satisfies the string schema's pattern, lengths and enum.
fn schema_accepts(schema: &Value, text: &str) -> bool {
    let chars = text.chars().count() as u64;
    let pattern = schema["pattern"]
        .as_str()
        .map(|p| regex::Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}")));
    pattern.is_none_or(|p| p.is_match(text))
        && schema["minLength"].as_u64().is_none_or(|min| chars >= min)
        && schema["maxLength"].as_u64().is_none_or(|max| chars <= max)
        && schema["enum"]
            .as_array()
            .is_none_or(|values| values.iter().any(|v| v == text))
}

/// Checks `samples`: `(text, parser verdict)`; `strict` fields must agree both ways, others
/// only where the schema refuses.
fn agree(
    schema: &Value,
    what: &str,
    parse: impl Fn(&str) -> bool,
    samples: &[&str],
    beyond: &[&str],
) {
    assert!(
        schema["pattern"].is_string() || schema["enum"].is_array() || schema["maxLength"].is_u64(),
        "{what}: no constraint"
    );
    for sample in samples {
        assert_eq!(
            schema_accepts(schema, sample),
            parse(sample),
            "{what}: the document and the parser disagree on {sample:?}"
        );
    }
    for sample in beyond {
        assert!(
            schema_accepts(schema, sample),
            "{what}: {sample:?} should match the document"
        );
        assert!(
            !parse(sample),
            "{what}: {sample:?} is refused beyond the document"
        );
    }
}

#[test]
fn the_document_states_the_phone_number_rule() {
    let doc = document();
    let samples = [
        "13812345678",
        "+86 138-1234-5678",
        "8613812345678",
        "0086 138 1234 5678",
        "+8613812345678",
        "19912345678",
        "",
        "12812345678",
        "1381234567",
        "138123456789",
        "1381234567a",
        "11812345678",
        "23812345678",
        "+85213812345678",
        "+86+8613812345678",
        "0571-12345678",
        "１３８１２３４５６７８",
        "13812345678\n",
        "138.1234.5678",
        "86 13812345678",
        "8613812345",
        "+86",
    ];
    for component in ["OtpBody", "LoginBody"] {
        let schema = property(&doc, component, "phone");
        agree(
            schema,
            component,
            |t| PhoneNumber::parse(t).is_ok(),
            &samples,
            &[],
        );
    }
}

#[test]
fn the_document_states_the_one_time_code_rule() {
    let doc = document();
    let samples = [
        "123456",
        "000000",
        "12345",
        "1234567",
        "12345a",
        "１２３４５６",
        "",
    ];
    for component in ["LoginBody", "HolderKeyBody"] {
        let schema = property(&doc, component, "code");
        agree(
            schema,
            component,
            |t| super::super::auth::one_time_code(t).is_ok(),
            &samples,
            &[],
        );
    }
    assert_eq!(
        super::ONE_TIME_CODE_PATTERN,
        format!("^[0-9]{{{}}}$", super::ONE_TIME_CODE_DIGITS)
    );
}

#[test]
fn the_document_states_the_id_number_shape() {
    let doc = document();
    let schema = property(&doc, "ProfileBody", "id_number");
    let samples = [
        "11010519491231002X",
        "11010519491231002x",
        "",
        "1234",
        "11010519491231002Y",
        "1101051949123100211",
        "１1010519491231002X",
    ];
    agree(
        schema,
        "id_number",
        |t| IdNumber::parse(t).is_ok(),
        &samples,
        &["110105194912310021"],
    );
}

#[test]
fn the_document_states_the_text_rules() {
    let doc = document();
    let name = property(&doc, "ProfileBody", "name");
    let long_name = "长".repeat(32);
    let too_long = "长".repeat(33);
    agree(
        name,
        "name",
        |t| PersonName::parse(t).is_ok(),
        &[
            "张小明",
            "阿依古丽·买买提",
            "Zhang San",
            "Zoë",
            &long_name,
            &too_long,
            "张",
            "Zhang3",
            "张\n明",
            "",
            "  ",
        ],
        &[],
    );
    let address = property(&doc, "DeclareBody", "address");
    let long = "长".repeat(64);
    let over = "长".repeat(65);
    agree(
        address,
        "address",
        |t| Address::parse(t).is_ok(),
        &[
            "城北街道丽泽社区",
            "No. 5, Lize Road",
            &long,
            &over,
            "a\nb",
            "长",
            "",
            "a\u{7f}b",
            "a\u{85}b",
        ],
        &[],
    );
    let longest = "长".repeat(500);
    let overlong = "长".repeat(501);
    {
        let schema = property(&doc, "ReasonBody", "reason");
        agree(
            schema,
            "reason",
            |t| Reason::parse(t).is_ok(),
            &[
                "证明材料不清晰",
                "ok",
                "line one\nline two",
                &longest,
                &overlong,
                "x",
                "",
                "\u{3000}x",
            ],
            &[],
        );
    }
}

#[test]
fn the_document_states_the_holder_key_rules() {
    let doc = document();
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let parse_key = |t: &str| crypto::keys::parse_public_key_hex(t.trim()).is_ok();
    agree(
        property(&doc, "HolderKeyBody", "public_key"),
        "public_key",
        parse_key,
        &[
            key,
            &key.to_uppercase(),
            &key[..62],
            &format!("{key}00"),
            &key.replace('d', "g"),
            "",
        ],
        &[],
    );
    let hex = |n: usize| {
        move |t: &str| {
            let mut out = vec![0u8; n];
            hex::decode_to_slice(t.trim(), &mut out).is_ok()
        }
    };
    let h64 = "ab".repeat(32);
    agree(
        property(&doc, "HolderKeyBody", "challenge"),
        "challenge",
        hex(32),
        &[&h64, &h64[..63], "zz", ""],
        &[],
    );
    let h128 = "cd".repeat(64);
    agree(
        property(&doc, "HolderKeyBody", "signature"),
        "signature",
        hex(64),
        &[&h128, &h64, "", &format!("{h128}0")],
        &[],
    );
}

#[test]
fn the_document_states_the_query_rules() {
    let doc = document();
    let purpose = query(&doc, "/v1/permits/{number}", "purpose");
    let max = format!("case:{}", "A".repeat(32));
    let over = format!("case:{}", "A".repeat(33));
    agree(
        purpose,
        "purpose",
        |t| LookupPurpose::parse(t).is_ok(),
        &[
            "case:ZJ-2026-001234",
            "checkpoint:JH-CP-0042",
            "case:abc",
            &max,
            &over,
            "",
            "case:",
            "case:AB",
            "case:-AB1",
            "case:AB1-",
            "case:AB 12",
            "curiosity:ZJ-2026-001234",
            "Case:ZJ-1",
        ],
        &[],
    );
    let district = query(&doc, "/v1/permits/me/report", "target");
    agree(
        district,
        "target",
        |t| {
            t.parse::<policy::DistrictCode>()
                .ok()
                .and_then(|c| c.jinhua())
                .is_some()
        },
        &[
            "330702", "330703", "330781", "330782", "330783", "330784", "330723", "330726",
            "330727", "110105", "33070", "abcdef",
        ],
        &[],
    );
    let number = query(&doc, "/v1/permits", "number");
    let prefix_ok = |t: &str| {
        t.len() <= super::NUMBER_PREFIX_MAX && t.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    };
    agree(
        number,
        "number",
        prefix_ok,
        &[
            "330702-2026-000123",
            "330702",
            "330702-2026-0001234",
            "33a",
            "3307 02",
        ],
        &[],
    );
}

#[test]
fn the_document_states_the_declaration_and_verification_rules() {
    let doc = document();
    let district = property(&doc, "DeclareBody", "district");
    for d in policy::District::ALL {
        assert!(schema_accepts(district, &d.code().to_string()));
    }
    assert!(!schema_accepts(district, "110105"));
    assert_eq!(property(&doc, "DeclareBody", "start")["format"], "date");
    let qr = property(&doc, "VerifyBody", "qr");
    let longest = "0".repeat(crypto::qr_text::MAX_TEXT_LEN);
    let body = |t: &str| {
        super::super::permits::VerifyBody { qr: t.to_owned() }
            .qr()
            .is_ok()
    };
    agree(
        qr,
        "qr",
        body,
        &[
            &longest,
            &format!("{longest}0"),
            "EP1:abc",
            &"长".repeat(crypto::qr_text::MAX_TEXT_LEN),
        ],
        &[],
    );
}
