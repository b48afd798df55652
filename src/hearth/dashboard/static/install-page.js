// First run: `hearth serve` prints `/_/#/pbinstall/{TOKEN}` while no superuser exists. The token
// can only create the first superuser (POST /api/hearth/installer); the page then signs in as it.
import { getTokenPayload } from "./pocketbase.es.mjs";
import { apiError, apiForm, card, h, notice } from "./dom.js";

const TITLE = "Create your first superuser";
const UPSERT = "hearth superuser upsert EMAIL PASS";

function unusable() {
  return card(
    TITLE,
    notice("error", "This installer link is invalid, expired or already used."),
    h("p", { class: "muted" }, "Restart hearth serve for a new link while no superuser exists, or create one with: ", h("code", {}, UPSERT)),
    h("p", {}, h("a", { href: "#/login" }, "Go to the login page")),
  );
}

export function installPage(pb, token, signedIn) {
  const payload = getTokenPayload(token);
  const expired = typeof payload.exp !== "number" || payload.exp * 1000 <= Date.now();
  if (payload.type !== "pbinstall" || expired) return unusable();

  const fields = [
    ["email", "Email", { type: "email", autocomplete: "username", required: true }],
    ["password", "Password", { type: "password", autocomplete: "new-password", required: true }],
    ["passwordConfirm", "Password confirm", { type: "password", autocomplete: "new-password", required: true }],
  ];
  const form = apiForm(fields, "Create superuser and login", async (v, status) => {
    await pb.send("/api/hearth/installer", { method: "POST", body: { token, ...v } });
    try {
      await pb.collection("_superusers").authWithPassword(v.email, v.password);
      signedIn();
    } catch (err) {
      status.append(notice("error", `The superuser was created, but signing in failed: ${apiError(err).message}`));
    }
  });
  return card(TITLE, h("p", { class: "muted" }, "No superuser exists yet. This one-time link creates the first."), form);
}
