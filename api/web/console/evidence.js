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

/** Fetches application `id`'s evidence and shows it in `box`. */
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
  const blob = new Blob([await response.arrayBuffer()], { type });
  shown = URL.createObjectURL(blob);
  const label = t("console.evidence.label", { id });
  if (type.startsWith("image/")) {
    fill(box, h("img", { src: shown, alt: label, class: "evidence-image", id: "evidence-view" }));
  } else if (type === "application/pdf") {
    fill(
      box,
      h("iframe", { src: shown, title: label, class: "evidence-pdf", id: "evidence-view" }),
      h("p", {}, h("a", { href: shown, download: `evidence-${id}.pdf`, text: t("console.evidence.download") })),
    );
  } else {
    fill(box, h("p", { class: "problem", text: t("console.evidence.unsupported", { type }) }));
  }
}
