// The profile (`GET/PUT /v1/me`): name and ID number, shown masked as the service returns them.

import { authed } from "/web/api.js";
import { t } from "/web/i18n.js";
import { announce, busy, byId, el } from "./dom.js";

/** Shows the profile and offers the form while it is incomplete. */
export function renderProfile(me) {
  const rows = [
    ["app.profile.phone", me.phone],
    ["app.profile.name", me.name],
    ["app.profile.id_number", me.id_number],
  ];
  byId("profile-view").replaceChildren(
    ...rows.flatMap(([key, value]) => [
      el("dt", {}, t(key)),
      el("dd", { dataset: { field: key.split(".").pop() } }, value || t("app.none")),
    ]),
  );
  byId("profile-form").hidden = me.profile_complete;
  byId("profile-complete").hidden = !me.profile_complete;
}

/** Loads the profile. */
export async function loadProfile(sess) {
  const me = await authed(sess, "/v1/me");
  renderProfile(me);
  return me;
}

/** Wires the profile form. */
export function setUpProfile(sess, onChanged) {
  const form = byId("profile-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(byId("profile-save"), byId("profile-error"), async () => {
      const me = await authed(sess, "/v1/me", {
        method: "PUT",
        body: {
          name: byId("profile-name").value.trim(),
          id_number: byId("profile-id").value.trim(),
        },
      });
      renderProfile(me);
      announce(t("app.profile.saved"));
      await onChanged?.();
    });
  });
}
