// Building the page without HTML strings: every value lands as a text node or an attribute, so
// user data (collection names, e-mails, error messages) can never become markup.

/** An element: attrs become attributes (on* keys become listeners); strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;

/** A labelled input: the label's `for` names the input's id. */
export function field(label, attrs) {
  const id = `f${++ids}`;
  const input = h("input", { id, ...attrs });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.setAttribute("aria-describedby", error.id);
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, error);
  return { wrap, input, error };
}

/** The API's message and per-field messages from an SDK error. */
export function apiError(err) {
  const response = (err && err.response) || {};
  const fields = {};
  for (const [name, value] of Object.entries(response.data || {})) {
    if (value && typeof value.message === "string") fields[name] = value.message;
  }
  const message = response.message || (err && err.message) || "Something went wrong.";
  return { message, fields, status: (err && err.status) || 0 };
}

/** Mark fields with the API's per-field messages (or clear them when `fields` is empty). */
export function showFieldErrors(byName, fields) {
  for (const [name, f] of Object.entries(byName)) {
    const msg = fields[name];
    f.error.hidden = !msg;
    f.error.textContent = msg || "";
    if (msg) f.input.setAttribute("aria-invalid", "true");
    else f.input.removeAttribute("aria-invalid");
  }
}

/** A status line: kind "error" is announced at once (role alert), others politely. */
export function notice(kind, text) {
  return h("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** A centred card with a title: the signed-out pages' frame. */
export function card(title, ...body) {
  return h("main", { class: "center" }, h("section", { class: "card" }, h("h1", {}, title), ...body));
}

/**
 * A form of labelled `fields` ([name, label, input attributes]) whose submit calls
 * `submit(values, status)`. An API error it throws is shown on its fields and under them, and the
 * button is usable again; on success what happens next is `submit`'s (the button stays disabled).
 */
export function apiForm(fields, button, submit) {
  const byName = {};
  for (const [name, label, attrs] of fields) byName[name] = field(label, { name, ...attrs });
  const status = h("div", { class: "status" });
  const btn = h("button", { type: "submit", class: "btn btn-primary" }, button);
  const form = h("form", { novalidate: true }, ...Object.values(byName).map((f) => f.wrap), status, btn);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(byName).map(([n, f]) => [n, f.input.value]));
    btn.disabled = true;
    status.replaceChildren();
    try {
      await submit(values, status);
    } catch (err) {
      const e = apiError(err);
      showFieldErrors(byName, e.fields);
      status.append(notice("error", e.message));
      btn.disabled = false;
    }
  });
  return form;
}

/** A view that is not built yet says so (never a blank page). */
export function notBuilt(title, text) {
  return h("section", { class: "not-built" }, h("h1", {}, title), h("p", {}, text));
}

/**
 * A modal <dialog> (the browser keeps focus inside and Escape closes it): a title (text or
 * nodes), body nodes and footer buttons. `kind` "drawer" slides it to the right edge. It leaves
 * the page when closed, and closes when the route changes.
 */
export function openDialog(title, body, actions, kind = "dialog") {
  const heading = h("h2", { id: `d${++ids}` }, title);
  const dlg = h(
    "dialog",
    { class: `modal modal-${kind}`, "aria-labelledby": heading.id },
    h("div", { class: "modal-head" }, heading),
    h("div", { class: "modal-body" }, body),
    h("div", { class: "modal-foot" }, actions),
  );
  const onRoute = () => dlg.open && dlg.close();
  window.addEventListener("hashchange", onRoute);
  dlg.addEventListener("close", () => {
    window.removeEventListener("hashchange", onRoute);
    dlg.remove();
  });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}
