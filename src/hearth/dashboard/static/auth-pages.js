// The pages the default auth mails link to, and the OAuth2 popup's last stop. They need no
// sign-in: the token in the URL is the credential, and its payload names the collection.
import { getTokenPayload } from "./pocketbase.es.mjs";
import { apiError, apiForm, card, h, mount, notice } from "./dom.js";

/** The collection a token was issued for, or "" when the token is not one of Hearth's. */
function collectionOf(token) {
  const payload = getTokenPayload(token);
  return typeof payload.collectionId === "string" ? payload.collectionId : "";
}

function invalidToken(title) {
  return card(title, notice("error", "Invalid or expired link: the token cannot be read."));
}

/** A form that calls `submit(values)`; `done` is shown in its place once it succeeds. */
function tokenForm({ title, intro, fields, button, submit, done }) {
  const form = apiForm(fields, button, async (values) => {
    await submit(values);
    form.replaceWith(notice("success", done));
  });
  return card(title, ...(intro ? [h("p", { class: "muted" }, intro)] : []), form);
}

/** A string claim of the token's payload, or "". */
function claim(token, name) {
  const value = getTokenPayload(token)[name];
  return typeof value === "string" ? value : "";
}

export function confirmPasswordReset(pb, token) {
  const title = "Reset your password";
  const collection = collectionOf(token);
  if (!collection) return invalidToken(title);
  const email = claim(token, "email");
  return tokenForm({
    title,
    intro: email ? `Type a new password for ${email}.` : "",
    fields: [
      ["password", "New password", { type: "password", autocomplete: "new-password", required: true }],
      ["passwordConfirm", "New password confirm", { type: "password", autocomplete: "new-password", required: true }],
    ],
    button: "Set new password",
    submit: (v) => pb.collection(collection).confirmPasswordReset(token, v.password, v.passwordConfirm),
    done: "Your password was changed. You can now sign in with the new password.",
  });
}

export function confirmEmailChange(pb, token) {
  const title = "Confirm your new e-mail address";
  const collection = collectionOf(token);
  if (!collection) return invalidToken(title);
  const newEmail = claim(token, "newEmail");
  return tokenForm({
    title,
    intro: newEmail ? `Type your password to change your e-mail address to ${newEmail}.` : "",
    fields: [["password", "Password", { type: "password", autocomplete: "current-password", required: true }]],
    button: "Confirm new e-mail",
    submit: (v) => pb.collection(collection).confirmEmailChange(token, v.password),
    done: "Your e-mail address was changed. You can now sign in with the new address.",
  });
}

export function confirmVerification(pb, token) {
  const title = "E-mail verification";
  const collection = collectionOf(token);
  if (!collection) return invalidToken(title);
  const status = h("div", {}, notice("info", "Verifying…"));
  pb.collection(collection)
    .confirmVerification(token)
    .then(() => mount(status, notice("success", "Your e-mail address is verified.")))
    .catch(() => mount(status, notice("error", "Invalid or expired verification link."), resend(pb, collection, claim(token, "email"))));
  return card(title, status);
}

/** A button that mails a new verification link (PocketBase's page offers the same). */
function resend(pb, collection, email) {
  if (!email) return null;
  const btn = h("button", { type: "button", class: "btn btn-primary" }, "Send a new link");
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await pb.collection(collection).requestVerification(email);
      btn.replaceWith(notice("success", `A new link was sent to ${email} (if it is not verified yet).`));
    } catch (err) {
      btn.replaceWith(notice("error", apiError(err).message));
    }
  });
  return btn;
}

export function oauth2Redirect(success) {
  return success
    ? card("Auth completed", notice("success", "You can close this window and go back to the app."))
    : card("Auth failed", notice("error", "You can close this window and go back to the app to try again."));
}
