// Jinhua's nine districts (GB/T 2260 codes, SPEC §1): the codes the service accepts, named in
// the reader's language by the catalogue (`common.district.<code>`).

import { t } from "/web/i18n.js";
import { el } from "./dom.js";

export const DISTRICTS = [
  "330702", "330703", "330723", "330726", "330727", "330781", "330782", "330783", "330784",
];

/** The district's name (the code itself for one the catalogue lacks). */
export function districtName(code) {
  return DISTRICTS.includes(String(code)) ? t(`common.district.${code}`) : String(code);
}

/** Fills a `<select>` with the districts, keeping its choice. */
export function fillDistricts(select) {
  const chosen = select.value;
  select.replaceChildren(
    ...DISTRICTS.map((code) => el("option", { value: code }, districtName(code))),
  );
  if (chosen) select.value = chosen;
}
