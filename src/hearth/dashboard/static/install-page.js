// First run: `hearth serve` prints `/_/#/pbinstall/{TOKEN}` while no superuser exists. The token
// can only create the first superuser (POST /api/hearth/installer); the page then signs in as it.
import { getTokenPayload } from "./pocketbase.es.mjs";
import { apiError, field, h, showFieldErrors } from "./dom.js";

const TITLE = "Create your first superuser";
const UPSERT = "hearth superuser upsert EMAIL PASS";

function notice(kind, text) {
  return h("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

function card(...body) {
  return h("main", { class: "center" }, h("section", { class: "card" }, h("h1", {}, TITLE), ...body));
}

function unusable() {
  return card(
    notice("error", "This installer link is invalid, expired or already used."),
    h("p", { class: "muted" }, "Restart hearth serve for a new link while no superuser exists, or create one with: ", h("code", {}, UPSERT)),
    h("p", {}, h("a", { href: "#/login" }, "Go to the login page")),
  );
}

export function installPage(pb, token, signedIn) {
  const payload = getTokenPayload(token);
  const expired = typeof payload.exp !== "number" || payload.exp * 1000 <= Date.now();
  if (payload.type !== "pbinstall" || expired) return unusable();

  const byName = {
    email: field("Email", { name: "email", type: "email", autocomplete: "username", required: true }),
    password: field("Password", { name: "password", type: "password", autocomplete: "new-password", required: true }),
    passwordConfirm: field("Password confirm", { name: "passwordConfirm", type: "password", autocomplete: "new-password", required: true }),
  };
  const status = h("div", { class: "status" });
  const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Create superuser and login");
  const form = h("form", { novalidate: true }, ...Object.values(byName).map((f) => f.wrap), status, btn);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = Object.fromEntries(Object.entries(byName).map(([n, f]) => [n, f.input.value]));
    btn.disabled = true;
    status.replaceChildren();
    try {
      await pb.send("/api/hearth/installer", { method: "POST", body: { token, ...v } });
    } catch (err) {
      const e = apiError(err);
      showFieldErrors(byName, e.fields);
      status.append(notice("error", e.message));
      btn.disabled = false;
      return;
    }
    try {
      await pb.collection("_superusers").authWithPassword(v.email, v.password);
      signedIn();
    } catch (err) {
      status.append(notice("error", `The superuser was created, but signing in failed: ${apiError(err).message}`));
    }
  });
  return card(h("p", { class: "muted" }, "No superuser exists yet. This one-time link creates the first."), form);
}
