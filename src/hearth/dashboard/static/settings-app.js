// The settings held in /api/settings: application (name, URL, batch, trusted proxy, rate limits,
// superuser IPs), mail (SMTP and a test e-mail), files storage (S3 and a test).
//
// Each page edits a draft copy of the settings it loaded; Save sends the sections the page owns
// (PATCH /api/settings) and is enabled only while the draft differs from what was loaded. The
// API's field errors (`data.meta.appName`, `data.rateLimits.rules.0.label`, …) are shown on the
// input bound to that path. Secrets (SMTP password, S3 secret) are write-only: the API never
// returns them, so their inputs start empty and are sent only when something is typed.
import { apiError, field, h, mount, notice } from "./dom.js";

// ---- small helpers ----------------------------------------------------------------------------

const clone = (v) => JSON.parse(JSON.stringify(v));

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  let node = obj;
  for (const k of keys.slice(0, -1)) {
    if (node[k] == null || typeof node[k] !== "object") node[k] = {};
    node = node[k];
  }
  if (value === undefined) delete node[keys[keys.length - 1]];
  else node[keys[keys.length - 1]] = value;
}

/** The API's nested field errors as {"meta.appName": "Must be a valid url.", …}. */
function flatErrors(data, prefix = "", out = {}) {
  for (const [key, value] of Object.entries(data || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value.message === "string" && typeof value.code === "string") out[path] = value.message;
    else if (value && typeof value === "object") flatErrors(value, path, out);
  }
  return out;
}

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

// ---- the form behind each page ----------------------------------------------------------------

/**
 * A settings page: loads /api/settings, builds its controls with `build(form)`, and saves the
 * `sections` it owns. `title` names the page (and the document's title, with the app name).
 * `after(form)` builds what follows the form once (a test of the saved settings); it may watch
 * `form.onChange` for unsaved changes.
 */
function settingsPage(pb, title, sections, build, after) {
  const root = h("section", { class: "settings-page" }, h("h1", {}, title), h("p", { class: "muted" }, "Loading…"));
  const form = {
    pb,
    original: null,
    draft: null,
    bound: {}, // path → {input, error}
    onChange: [],
    dirty() {
      const pick = (s) => JSON.stringify(sections.map((k) => s[k]));
      return pick(this.draft) !== pick(this.original);
    },
    changed() {
      const dirty = this.dirty();
      save.disabled = !dirty;
      cancel.hidden = !dirty;
      for (const fn of this.onChange) fn(dirty);
    },
    bind(path, parts) {
      this.bound[path] = parts;
    },
  };

  const status = h("div", { class: "status", "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "btn btn-primary", disabled: true }, "Save changes");
  const cancel = h("button", { type: "button", class: "btn", hidden: true }, "Cancel");
  const body = h("div", { class: "settings-fields" });
  const el = h("form", { novalidate: true, "aria-label": title }, body, h("div", { class: "settings-actions" }, cancel, save));

  const setTitle = () => {
    const name = (form.original && form.original.meta && form.original.meta.appName) || "Hearth";
    document.title = `${title} - ${name}`;
  };

  const render = () => {
    form.bound = {};
    mount(body, build(form));
    form.changed();
  };
  form.render = render;

  const showErrors = (errors) => {
    // Each error goes to the input bound to its path, or to a list's input for its items
    // (`superuserIPs.1` → the IPs input); the rest are returned for the notice.
    const byInput = {};
    const rest = [];
    for (const [path, msg] of Object.entries(errors)) {
      const owner = Object.keys(form.bound).find((b) => path === b || path.startsWith(b + "."));
      if (owner) (byInput[owner] = byInput[owner] || []).push(msg);
      else rest.push([path, msg]);
    }
    for (const [path, parts] of Object.entries(form.bound)) {
      const msg = (byInput[path] || []).join(" ");
      parts.error.hidden = !msg;
      parts.error.textContent = msg;
      if (msg) parts.input.setAttribute("aria-invalid", "true");
      else parts.input.removeAttribute("aria-invalid");
    }
    return rest;
  };
  form.showErrors = showErrors;

  cancel.addEventListener("click", () => {
    form.draft = clone(form.original);
    status.replaceChildren();
    render();
  });

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.dirty()) return;
    save.disabled = true;
    status.replaceChildren();
    const patch = {};
    for (const key of sections) patch[key] = form.draft[key];
    try {
      const saved = await pb.settings.update(patch, { requestKey: null });
      form.original = saved;
      form.draft = clone(saved);
      setTitle();
      render();
      status.append(notice("success", "Saved the settings."));
    } catch (err) {
      const e = apiError(err);
      const rest = showErrors(flatErrors((err && err.response && err.response.data) || {}));
      const lines = rest.map(([path, msg]) => `${path}: ${msg}`);
      status.append(notice("error", [e.message, ...lines].join(" ")));
      save.disabled = false;
    }
  });

  pb.settings
    .getAll({ requestKey: null })
    .then((settings) => {
      form.original = settings;
      form.draft = clone(settings);
      setTitle();
      mount(root, h("h1", {}, title), status, el, after ? after(form) : null);
      render();
    })
    .catch((err) => {
      mount(root, h("h1", {}, title), notice("error", `Could not load the settings: ${apiError(err).message}`));
    });
  return root;
}

// ---- controls bound to a path of the draft ----------------------------------------------------

function text(form, path, label, attrs = {}) {
  const f = field(label, { type: "text", ...attrs, name: path, value: getPath(form.draft, path) ?? "" });
  f.input.addEventListener("input", () => {
    setPath(form.draft, path, f.input.value);
    form.changed();
  });
  form.bind(path, f);
  return f.wrap;
}

function number(form, path, label, attrs = {}) {
  const f = field(label, { type: "number", step: 1, ...attrs, name: path, value: getPath(form.draft, path) ?? 0 });
  f.input.addEventListener("input", () => {
    const n = f.input.valueAsNumber;
    setPath(form.draft, path, Number.isNaN(n) ? 0 : n);
    form.changed();
  });
  form.bind(path, f);
  return f.wrap;
}

/** A comma-separated list of strings (headers, IPs). */
function csv(form, path, label, attrs = {}) {
  const f = field(label, { type: "text", ...attrs, name: path, value: (getPath(form.draft, path) || []).join(", ") });
  f.input.addEventListener("input", () => {
    setPath(form.draft, path, list(f.input.value));
    form.changed();
  });
  // A list's items have errors of their own (`superuserIPs.0`): shown on the list's input.
  form.bind(path, f);
  return f.wrap;
}

/** A write-only value: empty, sent only when typed. */
function secret(form, path, label, attrs = {}) {
  const f = field(label, { type: "password", autocomplete: "new-password", ...attrs, name: path, value: getPath(form.draft, path) ?? "" });
  f.input.addEventListener("input", () => {
    setPath(form.draft, path, f.input.value || undefined);
    form.changed();
  });
  form.bind(path, f);
  const hint = h("p", { class: "hint" }, "Not shown once saved; leave empty to keep the saved value.");
  f.wrap.append(hint);
  return f.wrap;
}

let checks = 0;
function checkbox(form, path, label, onToggle) {
  const id = `chk${++checks}`;
  const input = h("input", { type: "checkbox", id, name: path, checked: !!getPath(form.draft, path), "aria-describedby": `${id}-error` });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.addEventListener("change", () => {
    setPath(form.draft, path, input.checked);
    if (onToggle) onToggle(input.checked);
    form.changed();
  });
  form.bind(path, { input, error });
  return h("div", { class: "field check" }, input, h("label", { for: id }, label), error);
}

function select(form, path, label, options, convert = (v) => v) {
  const f = field(label, {});
  const current = getPath(form.draft, path);
  const sel = h(
    "select",
    { id: f.input.id, name: path, "aria-describedby": f.error.id },
    options.map(([value, text]) => h("option", { value: String(value), selected: value === current }, text)),
  );
  f.input.replaceWith(sel);
  sel.addEventListener("change", () => {
    setPath(form.draft, path, convert(sel.value));
    form.changed();
  });
  form.bind(path, { input: sel, error: f.error });
  return f.wrap;
}

function section(title, ...children) {
  return h("fieldset", { class: "settings-section" }, h("legend", {}, title), ...children);
}

const row = (...children) => h("div", { class: "settings-row" }, ...children);

// ---- Application ------------------------------------------------------------------------------

export function applicationPage(pb, ctx) {
  return settingsPage(pb, "Application", ["meta", "batch", "trustedProxy", "rateLimits", "superuserIPs"], (form) => {
    const d = form.draft;
    const parts = [
      section(
        "Application",
        row(text(form, "meta.appName", "App name", { required: true, maxlength: 255 }), text(form, "meta.appURL", "App URL", { type: "url", required: true })),
        d.meta.accentColor !== undefined ? row(text(form, "meta.accentColor", "Accent colour (#rrggbb)", { placeholder: "#1055c9" })) : null,
        checkbox(form, "meta.hideControls", "Hide collection create and edit controls"),
      ),
    ];
    if (d.batch) parts.push(batchSection(form));
    if (d.trustedProxy) parts.push(proxySection(form));
    if (d.rateLimits) parts.push(rateLimitsSection(form));
    if (d.superuserIPs) {
      parts.push(
        section(
          "Superuser IPs",
          h("p", { class: "hint" }, "Superusers can act and sign in only from these IPs or subnets, as the server sees them (see the trusted proxy above); empty: from anywhere."),
          notice("info", "Include the address you work from, or this session is refused (403) once you save."),
          csv(form, "superuserIPs", "Allowed superuser IPs (comma separated)", { placeholder: "127.0.0.1, 10.0.0.0/8" }),
        ),
      );
    }
    return parts;
  });
}

function batchSection(form) {
  const more = h(
    "div",
    { hidden: !form.draft.batch.enabled },
    row(
      number(form, "batch.maxRequests", "Max requests per batch", { min: 1 }),
      number(form, "batch.timeout", "Max processing time (seconds)", { min: 1 }),
      number(form, "batch.maxBodySize", "Max body size (bytes; 0 = default)", { min: 0 }),
    ),
  );
  return section(
    "Batch API",
    checkbox(form, "batch.enabled", "Enable the batch API (/api/batch)", (on) => {
      more.hidden = !on;
    }),
    more,
  );
}

function proxySection(form) {
  const seen = h("p", { class: "hint" }, "Checking what this request looks like to the server…");
  form.pb.health
    .check({ requestKey: null })
    .then((res) => {
      const data = (res && res.data) || {};
      const ip = data.realIP || "unknown";
      seen.textContent =
        `This request reached the server from IP ${ip}. ` +
        (data.possibleProxyHeader
          ? `It carried the proxy header ${data.possibleProxyHeader}.`
          : "Hearth does not report which proxy headers a request carried, so none is suggested here.");
    })
    .catch(() => {
      seen.textContent = "Could not ask the server what this request looks like.";
    });
  return section(
    "Trusted proxy",
    h("p", { class: "hint" }, "Only when Hearth runs behind a reverse proxy: the headers the proxy sets with the client's IP (e.g. X-Forwarded-For, X-Real-IP). Leave empty otherwise: a client could fake them."),
    seen,
    csv(form, "trustedProxy.headers", "Trusted proxy headers (comma separated)", { placeholder: "X-Forwarded-For" }),
    checkbox(form, "trustedProxy.useLeftmostIP", "Use the leftmost IP of the header (the rightmost is the default)"),
  );
}

const AUDIENCES = [
  ["", "All"],
  ["@guest", "Guests only"],
  ["@auth", "Signed-in only"],
];

function rateLimitsSection(form) {
  const rl = form.draft.rateLimits;
  const rows = h("tbody", {});
  const empty = h("p", { class: "muted" }, "No rules.");
  const renderRows = () => {
    for (const path of Object.keys(form.bound)) if (path.startsWith("rateLimits.rules.")) delete form.bound[path];
    empty.hidden = rl.rules.length > 0;
    mount(
      rows,
      rl.rules.map((rule, i) => {
        const cell = (control, header) => h("td", { "data-label": header }, control);
        const remove = h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove rule ${i + 1}` }, "Remove");
        remove.addEventListener("click", () => {
          rl.rules.splice(i, 1);
          renderRows();
          form.changed();
        });
        return h(
          "tr",
          {},
          cell(text(form, `rateLimits.rules.${i}.label`, `Rule ${i + 1} label`, { placeholder: "tag or /path", autocomplete: "off" }), "Label"),
          cell(select(form, `rateLimits.rules.${i}.audience`, `Rule ${i + 1} audience`, AUDIENCES), "Audience"),
          cell(number(form, `rateLimits.rules.${i}.maxRequests`, `Rule ${i + 1} max requests`, { min: 1 }), "Max requests"),
          cell(number(form, `rateLimits.rules.${i}.duration`, `Rule ${i + 1} interval (seconds)`, { min: 1 }), "Interval"),
          cell(remove, ""),
        );
      }),
    );
  };
  renderRows();
  const add = h("button", { type: "button", class: "btn btn-small" }, "Add rate limit rule");
  add.addEventListener("click", () => {
    rl.rules.push({ label: "", audience: "", duration: 10, maxRequests: 100 });
    renderRows();
    form.changed();
    const inputs = rows.querySelectorAll("tr:last-child input");
    if (inputs.length) inputs[0].focus();
  });
  const table = h(
    "table",
    { class: "rules", "aria-label": "Rate limit rules" },
    h("thead", {}, h("tr", {}, h("th", {}, "Label (tag or path)"), h("th", {}, "Audience"), h("th", {}, "Max requests"), h("th", {}, "Interval (s)"), h("th", {}, h("span", { class: "sr-only" }, "Actions")))),
    rows,
  );
  const identity = rl.identity
    ? h(
        "div",
        {},
        checkbox(form, "rateLimits.identity.enabled", "Limit failed sign-ins per account (Hearth)"),
        row(
          number(form, "rateLimits.identity.maxFailures", "Max failed sign-ins", { min: 1 }),
          number(form, "rateLimits.identity.duration", "Per interval (seconds)", { min: 1 }),
        ),
      )
    : null;
  return section(
    "Rate limiting",
    checkbox(form, "rateLimits.enabled", "Enable rate limiting"),
    h(
      "p",
      { class: "hint" },
      "Labels: a tag such as *:list, users:auth or *:create; a path prefix such as /api/ or GET /api/health. Max requests are per client IP within the interval.",
    ),
    h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Rate limit rules" }, table),
    empty,
    add,
    rl.excludedIPs ? csv(form, "rateLimits.excludedIPs", "IPs never rate limited (comma separated)") : null,
    identity,
  );
}

// ---- Mail -------------------------------------------------------------------------------------

const TEMPLATES = [
  ["verification", "Verification"],
  ["password-reset", "Password reset"],
  ["email-change", "Confirm e-mail change"],
  ["otp", "One-time password (OTP)"],
  ["login-alert", "Login from a new location"],
];

export function mailPage(pb, ctx) {
  return settingsPage(pb, "Mail settings", ["meta", "smtp"], (form) => {
    const smtp = h(
      "div",
      { hidden: !form.draft.smtp.enabled },
      row(text(form, "smtp.host", "SMTP server host", { autocomplete: "off" }), number(form, "smtp.port", "Port", { min: 1, max: 65535 })),
      row(text(form, "smtp.username", "Username", { autocomplete: "off" }), secret(form, "smtp.password", "Password")),
      row(
        select(form, "smtp.tls", "TLS encryption", [[false, "Auto (STARTTLS when offered)"], [true, "Always (implicit TLS)"]], (v) => v === "true"),
        select(form, "smtp.authMethod", "AUTH method", [["", "PLAIN (default)"], ["PLAIN", "PLAIN"], ["LOGIN", "LOGIN"]]),
        text(form, "smtp.localName", "EHLO/HELO domain", { placeholder: "localhost" }),
      ),
    );
    return [
      section(
        "Sender",
        row(text(form, "meta.senderName", "Sender name", { required: true }), text(form, "meta.senderAddress", "Sender address", { type: "email", required: true })),
      ),
      section(
        "SMTP",
        h("p", { class: "hint" }, "Without SMTP, Hearth sends no mail: it writes each message (recipient, subject, text with its links and codes) to its log. PocketBase would hand it to the local sendmail instead."),
        checkbox(form, "smtp.enabled", "Use an SMTP mail server (recommended)", (on) => {
          smtp.hidden = !on;
        }),
        smtp,
      ),
    ];
  }, testEmailSection);
}

function testEmailSection(form) {
  const pb = form.pb;
  const template = field("Template", {});
  const sel = h("select", { id: template.input.id, name: "template" }, TEMPLATES.map(([v, t]) => h("option", { value: v }, t)));
  template.input.replaceWith(sel);
  const collection = field("Auth collection", {});
  const coll = h("select", { id: collection.input.id, name: "collection" }, h("option", { value: "_superusers" }, "_superusers"));
  collection.input.replaceWith(coll);
  pb.collections
    .getFullList({ filter: "type='auth'", fields: "id,name", requestKey: null })
    .then((items) => mount(coll, items.map((c) => h("option", { value: c.name, selected: c.name === "_superusers" }, c.name))))
    .catch(() => {}); // _superusers stays the only choice
  const to = field("To e-mail address", { type: "email", name: "email", autocomplete: "off", placeholder: "you@example.com" });
  const send = h("button", { type: "submit", class: "btn" }, "Send test e-mail");
  const unsaved = h("p", { class: "hint", hidden: true }, "Save or cancel your changes first: the test uses the saved settings.");
  const result = h("div", { class: "status", "aria-live": "polite" });
  form.onChange.push((dirty) => {
    send.disabled = dirty;
    unsaved.hidden = !dirty;
  });
  const el = h("form", { novalidate: true, "aria-label": "Send test e-mail" });
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dirty()) return;
    result.replaceChildren();
    to.error.hidden = true;
    to.input.removeAttribute("aria-invalid");
    send.disabled = true;
    try {
      await pb.settings.testEmail(coll.value, to.input.value.trim(), sel.value, { requestKey: null });
      result.append(notice("success", `Sent the test e-mail to ${to.input.value.trim()}.`));
    } catch (err) {
      const e = apiError(err);
      const fields = flatErrors((err && err.response && err.response.data) || {});
      if (fields.email) {
        to.error.hidden = false;
        to.error.textContent = fields.email;
        to.input.setAttribute("aria-invalid", "true");
      }
      result.append(notice("error", e.message));
    } finally {
      send.disabled = form.dirty();
    }
  });
  el.append(section("Send test e-mail", row(template.wrap, collection.wrap, to.wrap), unsaved, result, send));
  return el;
}

// ---- Files storage ----------------------------------------------------------------------------

export function storagePage(pb, ctx) {
  return settingsPage(pb, "Files storage", ["s3"], (form) => {
    const s3 = h(
      "div",
      { hidden: !form.draft.s3.enabled },
      row(text(form, "s3.endpoint", "Endpoint", { type: "url", autocomplete: "off", placeholder: "https://s3.example.com" }), text(form, "s3.bucket", "Bucket", { autocomplete: "off" })),
      row(text(form, "s3.region", "Region", { autocomplete: "off" }), text(form, "s3.accessKey", "Access key", { autocomplete: "off" }), secret(form, "s3.secret", "Secret")),
      checkbox(form, "s3.forcePathStyle", "Force path-style addressing"),
      h("p", { class: "hint" }, "Path style puts the bucket name in the URL path rather than the host name (needed by most self-hosted S3 servers)."),
    );
    return [
      section(
        "Where uploaded files are kept",
        h("p", { class: "hint" }, "By default files are kept on local disk, in the storage folder of the data directory. Files already stored are not copied when this changes."),
        checkbox(form, "s3.enabled", "Use S3 storage", (on) => {
          s3.hidden = !on;
        }),
        s3,
      ),
    ];
  }, testS3Section);
}

function testS3Section(form) {
  const pb = form.pb;
  const test = h("button", { type: "button", class: "btn" }, "Test connection");
  const why = h("p", { class: "hint", hidden: true });
  const result = h("div", { class: "status", "aria-live": "polite" });
  const update = (dirty) => {
    const enabled = form.original.s3 && form.original.s3.enabled;
    test.disabled = dirty || !enabled;
    why.hidden = !test.disabled;
    why.textContent = dirty ? "Save or cancel your changes first: the test uses the saved settings." : "Enable and save S3 storage to test it.";
  };
  form.onChange.push(update);
  test.addEventListener("click", async () => {
    result.replaceChildren();
    test.disabled = true;
    try {
      await pb.settings.testS3("storage", { requestKey: null });
      result.append(notice("success", "S3 connection succeeded: a test object was written and deleted."));
    } catch (err) {
      result.append(notice("error", apiError(err).message));
    } finally {
      update(form.dirty());
    }
  });
  return section("Test the S3 connection", h("p", { class: "hint" }, "Uploads a small object to the saved bucket and deletes it."), why, result, test);
}
