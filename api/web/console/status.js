// The console's announcements: a polite `role="status"` line for what just happened and an
// assertive `role="alert"` line for a refusal, both read out by screen readers.
import { $ } from "./dom.js";
import { describe } from "./problems.js";

/** Announces `sentence` (and clears the alert line). */
export function announce(sentence) {
  $("#alert").textContent = "";
  $("#status").textContent = sentence;
}

/** Shows `text` in the alert line. */
export function alertText(text) {
  $("#status").textContent = "";
  $("#alert").textContent = text;
}

/** Shows an API refusal in words. */
export function alertProblem(error) {
  alertText(describe(error));
}

/** Clears both lines. */
export function quiet() {
  $("#status").textContent = "";
  $("#alert").textContent = "";
}
