// The district picker of the resident app; the districts and their names are `/web/districts.js`.

import { DISTRICTS, districtName } from "/web/districts.js";
import { el } from "./dom.js";

export { districtName };

/** Fills a `<select>` with the districts, keeping its choice. */
export function fillDistricts(select) {
  const chosen = select.value;
  select.replaceChildren(
    ...DISTRICTS.map((code) => el("option", { value: code }, districtName(code))),
  );
  if (chosen) select.value = chosen;
}
