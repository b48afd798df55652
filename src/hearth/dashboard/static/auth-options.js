// The auth collection's Options tab in the collection editor: password sign-in, OTP, MFA, OAuth2
// on/off, the new-login alert and the token durations. Inputs write into the collection model the
// editor saves (PATCH /api/collections/{id}); the API checks the values and its errors are shown
// under the inputs (`err(path)`, paths as the API names them: "otp.duration").
import { h } from "./dom.js";

let uid = 0;

const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

function put(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) o = o[k] = o[k] && typeof o[k] === "object" ? o[k] : {};
  o[keys[keys.length - 1]] = value;
}

function row(label, input, error, hint) {
  const id = `ao${++uid}`;
  input.id = id;
  const err = h("p", { class: "field-error", id: `${id}-error`, hidden: !error }, error || "");
  input.setAttribute("aria-describedby", err.id);
  if (error) input.setAttribute("aria-invalid", "true");
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("p", { class: "hint" }, hint) : null, err);
}

function toggle(model, path, label, err) {
  const input = h("input", { type: "checkbox", checked: !!get(model, path) });
  input.addEventListener("change", () => put(model, path, input.checked));
  const error = err(path);
  return h("div", { class: "field" }, h("label", { class: "check" }, input, " ", label), error ? h("p", { class: "field-error" }, error) : null);
}

function number(model, path, label, err, hint) {
  const input = h("input", { type: "number", min: "0", step: "1", value: String(get(model, path) ?? "") });
  input.addEventListener("input", () => put(model, path, input.value === "" ? 0 : Number(input.value)));
  return row(label, input, err(path), hint);
}

function text(model, path, label, err, hint) {
  const input = h("input", { type: "text", value: get(model, path) || "", spellcheck: "false", autocomplete: "off" });
  input.addEventListener("input", () => put(model, path, input.value));
  return row(label, input, err(path), hint);
}

function list(model, path, label, err, hint) {
  const input = h("input", { type: "text", value: (get(model, path) || []).join(", "), spellcheck: "false", autocomplete: "off" });
  input.addEventListener("input", () => put(model, path, input.value.split(",").map((s) => s.trim()).filter(Boolean)));
  return row(label, input, err(path), hint);
}

function section(title, ...body) {
  return h("fieldset", { class: "options-section" }, h("legend", {}, title), h("div", { class: "options-grid" }, body.flat()));
}

const TOKENS = [
  ["authToken", "Auth token"],
  ["passwordResetToken", "Password reset token"],
  ["emailChangeToken", "Email change token"],
  ["verificationToken", "Verification token"],
  ["fileToken", "Protected file token"],
];

/** The Options tab's content for `model` (an auth collection being edited). */
export function authOptionsPanel(model, err) {
  const providers = (get(model, "oauth2.providers") || []).map((p) => p.name).filter(Boolean);
  return [
    h("p", { class: "muted" }, "How records of this collection sign in, and how long their tokens last. Saved with the collection."),
    section("Password sign-in",
      toggle(model, "passwordAuth.enabled", "Enable sign-in with a password", err),
      list(model, "passwordAuth.identityFields", "Identity fields (comma separated)", err, "Each needs a UNIQUE index, e.g. email, username."),
    ),
    section("One-time password (OTP)",
      toggle(model, "otp.enabled", "Enable sign-in with a one-time password sent by mail", err),
      number(model, "otp.duration", "Valid for (seconds)", err),
      number(model, "otp.length", "Length (digits)", err),
    ),
    section("Multi-factor authentication (MFA)",
      toggle(model, "mfa.enabled", "Require a second sign-in method", err),
      number(model, "mfa.duration", "Time for the second method (seconds)", err),
      text(model, "mfa.rule", "Only for records matching (filter, empty: all)", err),
    ),
    section("OAuth2",
      toggle(model, "oauth2.enabled", "Enable sign-in with OAuth2 providers", err),
      h("p", { class: "hint" }, providers.length ? `Providers: ${providers.join(", ")}. ` : "No provider is configured. ",
        "Providers and their client secrets are set through the API (oauth2.providers); not in this page yet."),
    ),
    section("New-login alert",
      toggle(model, "authAlert.enabled", "Mail the record when it signs in from a new location", err),
    ),
    section("Token durations (seconds)", TOKENS.map(([key, label]) => number(model, `${key}.duration`, label, err))),
    h("p", { class: "hint" }, "Mail templates (verification, password reset, email change, OTP, login alert) are set through the API; not in this page yet."),
  ];
}
