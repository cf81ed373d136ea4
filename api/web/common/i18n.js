// The screens' translations: one catalogue per language (`/web/i18n/zh-CN.json`, `/web/i18n/en.json`,
// flat "key": "text"), Chinese by default, English on request (remembered in localStorage).
// Markup names its strings with data-i18n (text), data-i18n-placeholder, data-i18n-aria-label,
// data-i18n-title and data-i18n-alt; scripts call t(key, params), `{name}` placeholders filled.

const LANGUAGES = ["zh-CN", "en"];
const STORAGE_KEY = "epermit.lang";
let current = "zh-CN";
let catalogue = {};

/** The language in use: "zh-CN" or "en". */
export function lang() {
  return current;
}

/** The text of `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = Object.prototype.hasOwnProperty.call(catalogue, key) ? catalogue[key] : key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Fills every data-i18n* attribute under `root`. */
export function applyI18n(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const attributes = [
    ["i18nPlaceholder", "placeholder"],
    ["i18nAriaLabel", "aria-label"],
    ["i18nTitle", "title"],
    ["i18nAlt", "alt"],
  ];
  for (const [data, attribute] of attributes) {
    const selector = "[data-" + data.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()) + "]";
    for (const el of root.querySelectorAll(selector)) el.setAttribute(attribute, t(el.dataset[data]));
  }
}

async function load(language) {
  const response = await fetch(`/web/i18n/${language}.json`);
  if (!response.ok) throw new Error(`translations ${language}: HTTP ${response.status}`);
  catalogue = await response.json();
  current = language;
  document.documentElement.lang = language;
  if (document.title && document.documentElement.dataset.i18nPageTitle) {
    document.title = t(document.documentElement.dataset.i18nPageTitle);
  }
  applyI18n();
  document.dispatchEvent(new CustomEvent("epermit:language", { detail: language }));
}

/** Switches to `language` (and remembers it). */
export async function setLanguage(language) {
  if (!LANGUAGES.includes(language)) return;
  localStorage.setItem(STORAGE_KEY, language);
  await load(language);
}

/**
 * Loads the remembered language (default zh-CN), translates the page, and wires every
 * <button data-lang-switch> to toggle between Chinese and English.
 */
export async function initI18n() {
  const saved = localStorage.getItem(STORAGE_KEY);
  await load(LANGUAGES.includes(saved) ? saved : "zh-CN");
  for (const button of document.querySelectorAll("button[data-lang-switch]")) {
    button.addEventListener("click", () => setLanguage(current === "zh-CN" ? "en" : "zh-CN"));
  }
}
