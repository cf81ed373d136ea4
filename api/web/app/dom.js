// Small DOM helpers of the resident app: building elements from nodes, never from HTML text, the status line
// that screen readers announce, and problem messages next to the form they belong to.

import { t } from "/web/i18n.js";
import { problemText } from "./problems.js";

export { el } from "/web/dom.js";

/** The element with this id (throws when the page lacks it, so a broken page fails loudly). */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/** Says `message` in the page's status line (role="status": announced politely). */
export function announce(message) {
  byId("status").textContent = message;
}

/** Shows `err` (an ApiProblem or any Error) in words in `box` (role="alert"), or clears it. */
export function showError(box, err) {
  if (!err) {
    box.textContent = "";
    box.hidden = true;
    return;
  }
  box.textContent = problemText(err);
  box.hidden = false;
}

/** Runs `work` with `button` disabled meanwhile; errors go to `box` in words. */
export async function busy(button, box, work) {
  button.disabled = true;
  showError(box, null);
  try {
    return await work();
  } catch (err) {
    showError(box, err);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** A date `YYYY-MM-DD` as the reader's language writes it. */
export function day(text) {
  if (!text) return t("app.none");
  const [y, m, d] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString(document.documentElement.lang, {
    timeZone: "UTC",
    year: "numeric",
    month: "long",
    day: "numeric",
  });
}

/** Today in Asia/Shanghai, `YYYY-MM-DD` (the service's calendar). */
export function todayInShanghai() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
}
