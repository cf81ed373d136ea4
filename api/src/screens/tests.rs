//! Rules every screen keeps (issue 13 item 4), checked on the files the binary embeds.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::Value;

use super::Assets;

/// The catalogues, by language.
const LANGUAGES: [&str; 2] = ["zh-CN", "en"];

fn text_of(path: &str) -> String {
    let file = Assets::get(path).unwrap_or_else(|| panic!("{path} is not embedded"));
    String::from_utf8(file.data.into_owned()).unwrap_or_else(|_| panic!("{path} is not UTF-8"))
}

/// The embedded files whose name ends with one of `extensions`.
fn files(extensions: &[&str]) -> Vec<String> {
    Assets::iter()
        .map(|p| p.into_owned())
        .filter(|p| extensions.iter().any(|e| p.ends_with(e)))
        .collect()
}

fn catalogue(language: &str) -> serde_json::Map<String, Value> {
    let path = format!("common/i18n/{language}.json");
    match serde_json::from_str(&text_of(&path)) {
        Ok(Value::Object(map)) => {
            for (key, value) in &map {
                assert!(
                    value.as_str().is_some_and(|s| !s.is_empty()),
                    "{path}: {key} is not a non-empty string"
                );
            }
            map
        }
        other => panic!("{path} is not a JSON object: {other:?}"),
    }
}

#[test]
fn every_catalogue_has_the_same_keys() {
    let keys = |language| catalogue(language).keys().cloned().collect::<BTreeSet<_>>();
    let chinese = keys("zh-CN");
    let english = keys("en");
    let only_chinese: Vec<_> = chinese.difference(&english).collect();
    let only_english: Vec<_> = english.difference(&chinese).collect();
    assert!(
        only_chinese.is_empty() && only_english.is_empty(),
        "only in zh-CN: {only_chinese:?}; only in en: {only_english:?}"
    );
}

/// Keys named in markup (`data-i18n*="key"`) and in scripts (`t("key"` / `t('key'`).
fn keys_used() -> BTreeSet<(String, String)> {
    let markup = Regex::new(r#"data-i18n(?:-[a-z-]+)?="([^"]+)""#).unwrap();
    let script = Regex::new(r#"\bt\(\s*["']([A-Za-z0-9_.\-]+)["']"#).unwrap();
    let mut used = BTreeSet::new();
    for path in files(&[".html", ".js"]) {
        let text = text_of(&path);
        for re in [&markup, &script] {
            for c in re.captures_iter(&text) {
                used.insert((c[1].to_owned(), path.clone()));
            }
        }
    }
    used
}

#[test]
fn every_key_the_screens_use_is_in_every_catalogue() {
    let used = keys_used();
    for language in LANGUAGES {
        let catalogue = catalogue(language);
        let missing: Vec<_> = used
            .iter()
            .filter(|(key, _)| !catalogue.contains_key(key))
            .collect();
        assert!(missing.is_empty(), "{language} lacks {missing:?}");
    }
}

/// WCAG 2 relative luminance of `#rrggbb`.
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn every_text_colour_has_a_contrast_of_at_least_4_5_to_1() {
    let css = text_of("common/style.css");
    let variable = Regex::new(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})\s*;").unwrap();
    let colours: std::collections::BTreeMap<String, String> = variable
        .captures_iter(&css)
        .map(|c| (c[1].to_owned(), c[2].to_ascii_lowercase()))
        .collect();
    let colour = |name: &str| {
        colours
            .get(name)
            .unwrap_or_else(|| panic!("style.css defines no --{name}"))
            .as_str()
    };
    let mut pairs: Vec<(String, &str)> = Vec::new();
    for text in ["fg", "muted", "accent", "ok", "warn", "bad"] {
        for background in ["bg", "surface"] {
            pairs.push((text.to_owned(), background));
        }
    }
    for panel in ["accent", "ok", "warn", "bad"] {
        pairs.push((format!("on-{panel}"), panel));
    }
    for (text, background) in pairs {
        let ratio = contrast(colour(&text), colour(background));
        assert!(
            ratio >= 4.5,
            "--{text} on --{background}: {ratio:.2}:1 is below 4.5:1"
        );
    }
    // Colours outside the variables would escape this check.
    let literal = Regex::new(r"#[0-9a-fA-F]{3,8}\b|rgba?\(|hsla?\(").unwrap();
    for path in files(&[".css"]) {
        for (n, line) in text_of(&path).lines().enumerate() {
            let declares_variable = line.trim_start().starts_with("--");
            assert!(
                declares_variable || !literal.is_match(line),
                "{path}:{}: a colour outside the checked variables: {line}",
                n + 1
            );
        }
    }
}

#[test]
fn no_screen_has_inline_script_inline_style_or_event_handler_attributes() {
    let script_tag = Regex::new(r"(?is)<script\b([^>]*)>").unwrap();
    let handler = Regex::new(r#"(?i)\son[a-z]+\s*="#).unwrap();
    let style_attribute = Regex::new(r#"(?i)\sstyle\s*="#).unwrap();
    for path in files(&[".html"]) {
        let html = text_of(&path);
        for c in script_tag.captures_iter(&html) {
            assert!(
                c[1].contains("src="),
                "{path}: an inline <script> (the CSP refuses it)"
            );
        }
        assert!(!html.contains("<style"), "{path}: an inline <style>");
        assert!(!handler.is_match(&html), "{path}: an on…= handler");
        assert!(
            !style_attribute.is_match(&html),
            "{path}: a style=\"…\" attribute"
        );
        assert!(!html.contains("javascript:"), "{path}: a javascript: URL");
    }
    for path in files(&[".js"]) {
        let js = text_of(&path);
        for forbidden in [
            "eval(",
            "new Function(",
            "innerHTML",
            "setAttribute(\"style\"",
        ] {
            assert!(!js.contains(forbidden), "{path} uses {forbidden}");
        }
    }
}

#[test]
fn no_screen_loads_anything_from_another_origin() {
    let url =
        Regex::new(r#"(?i)(?:src|href|url|import|from|fetch)\s*[=(]?\s*["'`]?(?:https?:)?//"#)
            .unwrap();
    for path in files(&[".html", ".js", ".css", ".webmanifest"]) {
        let text = text_of(&path);
        assert!(
            !url.is_match(&text),
            "{path} names another origin (no CDN: everything is embedded)"
        );
    }
}
