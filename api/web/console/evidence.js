// An application's evidence shown inline: fetched with the bearer token into a Blob, then an
// image as `<img src=blob:…>` or a PDF in an `<iframe src=blob:…>` (the screens' CSP allows
// `img-src blob:` and `frame-src blob:`). The previous file's object URL is released.
import { t } from "/web/i18n.js";
import { call } from "./account.js";
import { h, fill } from "./dom.js";
import { describe } from "./problems.js";

let shown = null;

/** Releases the object URL of the evidence shown last. */
export function releaseEvidence() {
  if (shown) URL.revokeObjectURL(shown);
  shown = null;
}

/** The SHA-256 of `bytes`, hex. */
async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Fetches application `id`'s evidence and shows it in `box`; the file's SHA-256 goes in
 * `box.dataset.sha256` and under the file (the officer can compare it with a copy on paper).
 */
export async function showEvidence(box, id) {
  releaseEvidence();
  fill(box, h("p", { class: "muted", text: t("console.evidence.loading") }));
  let response;
  try {
    response = await call(`/v1/applications/${id}/evidence`, { raw: true });
  } catch (error) {
    fill(box, h("p", { class: "problem", text: describe(error) }));
    return;
  }
  const type = (response.headers.get("content-type") ?? "").split(";")[0].trim();
  const bytes = await response.arrayBuffer();
  const sha256 = await sha256Hex(bytes);
  box.dataset.sha256 = sha256;
  const checked = h("p", { class: "hint", id: "evidence-check" }, t("console.evidence.sha256"), " ", h("code", { text: sha256 }));
  const blob = new Blob([bytes], { type });
  shown = URL.createObjectURL(blob);
  const label = t("console.evidence.label", { id });
  if (type.startsWith("image/")) {
    fill(box, h("img", { src: shown, alt: label, class: "evidence-image", id: "evidence-view" }), checked);
  } else if (type === "application/pdf") {
    fill(
      box,
      h("iframe", { src: shown, title: label, class: "evidence-pdf", id: "evidence-view" }),
      h("p", {}, h("a", { href: shown, download: `evidence-${id}.pdf`, text: t("console.evidence.download") })),
      checked,
    );
  } else {
    fill(box, h("p", { class: "problem", text: t("console.evidence.unsupported", { type }) }));
  }
}
