// Jinhua's nine districts (GB/T 2260 codes, SPEC §1): the codes the service accepts, named in
// the page's language by the catalogue (`common.district.<code>`).

import { t } from "/web/i18n.js";

export const DISTRICTS = [
  "330702", "330703", "330723", "330726", "330727", "330781", "330782", "330783", "330784",
];

/** The district's name in the page's language (the code itself for one outside Jinhua). */
export function districtName(code) {
  const text = String(code ?? "");
  return DISTRICTS.includes(text) ? t(`common.district.${text}`) : text;
}
