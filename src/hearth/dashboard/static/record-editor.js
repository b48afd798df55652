// The record editor: a right-hand drawer (a modal <dialog>, so focus stays inside and Esc closes
// it) with one input per field of the collection's schema, as PocketBase's record drawer. Saves
// through the SDK (which sends multipart with an @jsonPayload part when files are attached) and
// shows the API's field errors under each field. Also the small dialogs it needs: a confirm, a
// relation picker and the impersonation token.
import { apiError, h, mount, notice, openDialog } from "./dom.js";

let ids = 0;
const nextId = (prefix) => `${prefix}${++ids}`;

const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg|ico|avif)$/i;
export const isImage = (name) => IMAGE.test(name);

/** A modal dialog appended to <body>; it removes itself when closed. */
function modal(cls, labelledBy) {
  const dlg = h("dialog", { class: cls, "aria-labelledby": labelledBy });
  const onRoute = () => dlg.open && dlg.close();
  window.addEventListener("hashchange", onRoute);
  dlg.addEventListener("close", () => {
    window.removeEventListener("hashchange", onRoute);
    dlg.remove();
  });
  document.body.append(dlg);
  return dlg;
}

/** A confirm dialog in the page (never window.confirm), on dom.js's openDialog: resolves true
 * when the confirm button is pressed, false on Cancel or Esc (at the click, not on close). */
export function confirmDialog(text, yes = "Yes") {
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer) => {
      if (!done) resolve(answer);
      done = true;
    };
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const ok = h("button", { type: "button", class: "btn btn-danger btn-fill" }, yes);
    const dlg = openDialog(text, null, [cancel, ok]);
    dlg.classList.add("confirm-dialog");
    dlg.setAttribute("role", "alertdialog");
    cancel.addEventListener("click", () => { finish(false); dlg.close(); });
    ok.addEventListener("click", () => { finish(true); dlg.close(); });
    dlg.addEventListener("close", () => finish(false));
    cancel.focus();
  });
}

/** A <details> menu that closes on a click elsewhere and on Esc (focus back on its summary). */
export function autoClose(details) {
  const outside = (e) => {
    if (!details.isConnected) document.removeEventListener("click", outside, true);
    else if (details.open && !details.contains(e.target)) details.open = false;
  };
  document.addEventListener("click", outside, true);
  details.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !details.open) return;
    e.preventDefault(); // not the drawer's Esc
    e.stopPropagation();
    details.open = false;
    details.querySelector("summary").focus();
  });
  return details;
}

// --- values between the API and the inputs -------------------------------------------------

/** "2024-01-02 03:04:05.000Z" → "2024-01-02T03:04:05" (datetime-local, read as UTC). */
export function toLocalInput(value) {
  if (!value) return "";
  const m = String(value).match(/^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/);
  return m ? `${m[1]}T${m[2].length === 5 ? m[2] + ":00" : m[2]}` : "";
}

/** "2024-01-02T03:04(:05)" → "2024-01-02 03:04:05.000Z"; empty stays empty. */
export function fromLocalInput(value) {
  if (!value) return "";
  const [date, time] = value.split("T");
  const t = time.length === 5 ? time + ":00" : time.slice(0, 8);
  return `${date} ${t}.000Z`;
}

/** A label for a record of `collection` (presentable fields, else a usual name, else the id). */
export function recordLabel(rec, collection) {
  const fields = (collection && collection.fields) || [];
  const shown = fields.filter((f) => f.presentable).map((f) => rec[f.name]).filter((v) => v !== "" && v !== null && v !== undefined);
  if (shown.length) return shown.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(", ");
  for (const key of ["name", "title", "email", "username", "label", "slug"]) {
    if (typeof rec[key] === "string" && rec[key]) return rec[key];
  }
  return rec.id;
}

const collectionCache = new Map();
export function getCollection(pb, idOrName) {
  if (!collectionCache.has(idOrName)) {
    const p = pb.collections.getOne(idOrName, { requestKey: null });
    p.catch(() => collectionCache.delete(idOrName));
    collectionCache.set(idOrName, p);
  }
  return collectionCache.get(idOrName);
}

/** The filter a search box sends: an expression as typed, or a plain term matched (`~`) against
 * the id and the text-like fields, as PocketBase's search does. */
export function searchFilter(pb, collection, text) {
  const q = (text || "").trim();
  if (!q) return "";
  if (/[=<>~!]|&&|\|\|/.test(q)) return q;
  const names = ["id", ...collection.fields.filter((f) => ["text", "email", "url", "editor"].includes(f.type) && f.name !== "id").map((f) => f.name)];
  return pb.filter(names.map((n) => `${n} ~ {:q}`).join(" || "), { q });
}

// --- one input per field ---------------------------------------------------------------------

/** The frame of one field: label (or legend for a group), the control(s), an error line. */
function frame(f, labelText, control, { group = false, hint = null } = {}) {
  const error = h("p", { class: "field-error", id: nextId("err"), hidden: true });
  const req = f.required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null;
  const type = h("span", { class: "field-type", "aria-hidden": "true" }, f.type);
  let wrap;
  if (group) {
    wrap = h("fieldset", { class: "field field-group", "aria-describedby": error.id }, h("legend", {}, labelText, req, type), control, hint, error);
  } else {
    control.setAttribute("aria-describedby", error.id);
    wrap = h("div", { class: "field" }, h("div", { class: "rec-field-head" }, h("label", { for: control.id }, labelText), req, type), control, hint, error);
  }
  return { wrap, error };
}

function textInput(f, value, attrs = {}) {
  const input = h("input", { id: nextId("in"), name: f.name, type: "text", value: value ?? "", ...attrs });
  return { ...frame(f, f.name, input), focus: input, collect: (body) => { body[f.name] = input.value; }, inputs: [input] };
}

function widgetFor(pb, collection, f, rec, creating) {
  const v = rec ? rec[f.name] : undefined;
  switch (f.type) {
    case "number": {
      const w = textInput(f, v ?? "", { type: "number", step: "any" });
      w.collect = (body) => { const s = w.focus.value.trim(); body[f.name] = s === "" ? null : Number(s); };
      return w;
    }
    case "email":
      return textInput(f, v, { type: "email", autocomplete: "off" });
    case "url":
      return textInput(f, v, { type: "url" });
    case "bool": {
      const input = h("input", { id: nextId("in"), name: f.name, type: "checkbox", class: "bool-input", checked: !!v });
      const fr = frame(f, f.name, input);
      fr.wrap.classList.add("field-bool");
      return { ...fr, focus: input, collect: (body) => { body[f.name] = input.checked; }, inputs: [input] };
    }
    case "editor": {
      const input = h("textarea", { id: nextId("in"), name: f.name, rows: 6 }, v ?? "");
      const hint = h("p", { class: "hint" }, "HTML as text (no rich-text editor yet).");
      return { ...frame(f, f.name, input, { hint }), focus: input, collect: (body) => { body[f.name] = input.value; }, inputs: [input] };
    }
    case "date": {
      const input = h("input", { id: nextId("in"), name: f.name, type: "datetime-local", step: 1, value: toLocalInput(v) });
      return { ...frame(f, `${f.name} (UTC)`, input), focus: input, collect: (body) => { body[f.name] = fromLocalInput(input.value); }, inputs: [input] };
    }
    case "autodate": {
      const input = h("input", { id: nextId("in"), name: f.name, type: "text", readonly: true, value: v || (creating ? "set on save" : "") });
      return { ...frame(f, `${f.name} (UTC)`, input), focus: input, collect: () => {}, inputs: [], readOnly: true };
    }
    case "select":
      return selectWidget(f, v);
    case "json":
      return jsonWidget(f, v);
    case "file":
      return fileWidget(pb, rec, f, v);
    case "relation":
      return relationWidget(pb, f, v);
    case "geoPoint":
      return geoWidget(f, v);
    default:
      return textInput(f, typeof v === "object" && v !== null ? JSON.stringify(v) : v);
  }
}

function selectWidget(f, v) {
  const multiple = (f.maxSelect || 1) > 1;
  const chosen = new Set(Array.isArray(v) ? v : v ? [v] : []);
  const options = (f.values || []).map((o) => h("option", { value: o, selected: chosen.has(o) }, o));
  const input = multiple
    ? h("select", { id: nextId("in"), name: f.name, multiple: true, size: Math.min(6, Math.max(2, options.length)) }, options)
    : h("select", { id: nextId("in"), name: f.name }, h("option", { value: "" }, "- none -"), options);
  const hint = multiple ? h("p", { class: "hint" }, `Up to ${f.maxSelect}; Ctrl/Cmd-click to pick several.`) : null;
  const collect = (body) => {
    body[f.name] = multiple ? [...input.selectedOptions].map((o) => o.value) : input.value;
  };
  return { ...frame(f, f.name, input, { hint }), focus: input, collect, inputs: [input] };
}

function jsonWidget(f, v) {
  const text = v === null || v === undefined || v === "" ? "" : JSON.stringify(v, null, 2);
  const input = h("textarea", { id: nextId("in"), name: f.name, rows: 6, spellcheck: "false", class: "code" }, text);
  const state = h("span", { class: "json-state", role: "status" });
  const check = () => {
    const s = input.value.trim();
    let ok = true;
    if (s) { try { JSON.parse(s); } catch { ok = false; } }
    state.textContent = ok ? "Valid JSON" : "Invalid JSON";
    state.classList.toggle("bad", !ok);
    return ok;
  };
  input.addEventListener("input", check);
  check();
  const fr = frame(f, f.name, input, { hint: state });
  const collect = (body) => {
    if (!check()) throw { field: f.name, message: "Invalid JSON." };
    const s = input.value.trim();
    body[f.name] = s ? JSON.parse(s) : null;
  };
  return { ...fr, focus: input, collect, inputs: [input] };
}

/** A box with the file's extension, for files that are not images. */
function fileIcon(name) {
  const ext = (name.match(/\.([a-z0-9]{1,5})$/i) || [])[1] || "file";
  return h("span", { class: "file-icon", "aria-hidden": "true" }, ext.toUpperCase());
}

function fileWidget(pb, rec, f, v) {
  const multiple = (f.maxSelect || 1) > 1;
  const existing = Array.isArray(v) ? v : v ? [v] : [];
  const removed = new Set();
  let pending = [];
  const list = h("ul", { class: "files" });
  const input = h("input", { id: nextId("in"), type: "file", multiple, "aria-label": `Upload ${f.name}` });
  const thumb = (src, alt) => h("img", { class: "thumb", src, alt, width: 40, height: 40 });
  let fileToken = "";
  const render = () => {
    const rows = existing.map((name) => {
      const gone = removed.has(name);
      const url = pb.files.getURL(rec, name, fileToken ? { token: fileToken } : {});
      const pic = isImage(name) ? thumb(pb.files.getURL(rec, name, { thumb: "100x100", ...(fileToken ? { token: fileToken } : {}) }), "") : fileIcon(name);
      const toggle = h("button", { type: "button", class: "btn btn-small", "aria-label": `${gone ? "Restore" : "Remove"} ${name}`, onclick: () => { gone ? removed.delete(name) : removed.add(name); render(); } }, gone ? "Restore" : "Remove");
      return h("li", { class: gone ? "removed" : "" }, pic, h("a", { href: url, target: "_blank", rel: "noopener" }, name), toggle);
    });
    const news = pending.map((file, i) => {
      const pic = isImage(file.name) ? thumb("data:,", "") : fileIcon(file.name);
      if (pic.tagName === "IMG") {
        const reader = new FileReader();
        reader.onload = () => { pic.src = String(reader.result); };
        reader.readAsDataURL(file);
      }
      const drop = h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove ${file.name}`, onclick: () => { pending.splice(i, 1); render(); } }, "Remove");
      return h("li", { class: "new" }, pic, h("span", {}, file.name, h("span", { class: "tag" }, " new")), drop);
    });
    mount(list, rows, news);
  };
  input.addEventListener("change", () => {
    const chosen = [...input.files];
    pending = multiple ? [...pending, ...chosen] : chosen.slice(0, 1);
    if (!multiple && pending.length) existing.forEach((n) => removed.add(n));
    input.value = "";
    render();
  });
  if (f.protected && existing.length) {
    pb.files.getToken({ requestKey: null }).then((t) => { fileToken = t; render(); }).catch(() => {});
  }
  render();
  const picker = h("label", { class: "btn btn-small upload", for: input.id }, multiple ? "Upload new files" : "Upload new file");
  const fr = frame(f, f.name, h("div", {}, list, input, picker), { group: true });
  const collect = (body, creating) => {
    if (creating) {
      if (pending.length) body[f.name] = multiple ? pending : pending[0];
      return;
    }
    if (multiple) {
      if (removed.size) body[`${f.name}-`] = [...removed];
      if (pending.length) body[`${f.name}+`] = pending;
    } else if (pending.length) {
      body[f.name] = pending[0];
    } else if (removed.size) {
      body[f.name] = "";
    }
  };
  return { ...fr, focus: input, collect, inputs: [input], hasFiles: () => pending.length > 0 };
}

function relationWidget(pb, f, v) {
  const multiple = (f.maxSelect || 1) > 1;
  let selected = Array.isArray(v) ? [...v] : v ? [v] : [];
  const labels = new Map();
  let related = null;
  const chips = h("ul", { class: "rel-chips", "aria-label": `${f.name}: chosen records` });
  const render = () => {
    mount(
      chips,
      selected.length ? selected.map((id) => h("li", { class: "rel-chip" },
        h("span", {}, labels.get(id) || id),
        h("button", { type: "button", class: "chip-x", "aria-label": `Unlink ${labels.get(id) || id}`, onclick: () => { selected = selected.filter((x) => x !== id); render(); } }, "×"),
      )) : h("li", { class: "muted" }, "None"),
    );
  };
  // Names for the ids already linked.
  getCollection(pb, f.collectionId).then((c) => {
    related = c;
    if (!selected.length) return;
    const filter = selected.map((id) => pb.filter("id = {:id}", { id })).join(" || ");
    return pb.collection(c.id).getFullList({ filter, requestKey: null }).then((items) => {
      for (const r of items) labels.set(r.id, recordLabel(r, c));
      render();
    });
  }).catch(() => {});
  const open = h("button", { type: "button", class: "btn btn-small" }, multiple ? `Choose ${f.name} records` : `Choose ${f.name} record`);
  open.addEventListener("click", async () => {
    try {
      related = related || (await getCollection(pb, f.collectionId));
    } catch (err) {
      render();
      chips.append(h("li", {}, notice("error", apiError(err).message)));
      return;
    }
    const picked = await relationPicker(pb, related, selected, multiple, f.maxSelect || 1, labels);
    if (picked) {
      selected = picked;
      render();
      chips.dispatchEvent(new Event("change", { bubbles: true })); // the drawer sees a change
    }
  });
  render();
  const fr = frame(f, f.name, h("div", {}, chips, open), { group: true });
  const collect = (body) => { body[f.name] = multiple ? selected : selected[0] || ""; };
  return { ...fr, focus: open, collect, inputs: [open] };
}

/** A dialog listing the related collection's records with search; resolves the new selection
 * (ids) or null when cancelled. */
function relationPicker(pb, collection, current, multiple, max, labels) {
  return new Promise((resolve) => {
    const title = nextId("pick");
    let dlg = null;
    let chosen = [...current];
    let result = null;
    const search = h("input", { id: nextId("in"), type: "search", autocomplete: "off", placeholder: "Search term or filter" });
    const list = h("ul", { class: "rec-pick-list", "aria-label": `${collection.name} records` });
    const status = h("div", { class: "status" });
    const count = h("p", { class: "muted" });
    const showCount = () => { count.textContent = multiple ? `${chosen.length} of max ${max} selected` : chosen.length ? "1 selected" : "None selected"; };
    const load = async () => {
      status.replaceChildren();
      try {
        const res = await pb.collection(collection.id).getList(1, 50, { filter: searchFilter(pb, collection, search.value), requestKey: `pick-${title}` });
        mount(list, res.items.length ? res.items.map((r) => {
          const label = recordLabel(r, collection);
          labels.set(r.id, label);
          const box = h("input", { type: multiple ? "checkbox" : "radio", name: title, id: nextId("in"), value: r.id, checked: chosen.includes(r.id) });
          box.addEventListener("change", () => {
            if (!multiple) chosen = [r.id];
            else if (box.checked) chosen = [...chosen, r.id];
            else chosen = chosen.filter((x) => x !== r.id);
            showCount();
          });
          return h("li", {}, box, h("label", { for: box.id }, label, label !== r.id ? h("span", { class: "muted" }, ` ${r.id}`) : null));
        }) : h("li", { class: "muted" }, "No records found."));
      } catch (err) {
        if (!err || !err.isAbort) status.append(notice("error", apiError(err).message));
      }
    };
    let timer = 0;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
    search.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); clearTimeout(timer); load(); } });
    const cancel = h("button", { type: "button", class: "btn", onclick: () => dlg.close() }, "Cancel");
    const set = h("button", { type: "button", class: "btn btn-accent", onclick: () => {
      if (multiple && chosen.length > max) { status.replaceChildren(notice("error", `Choose at most ${max}.`)); return; }
      result = chosen; dlg.close();
    } }, "Set selection");
    dlg = openDialog(`Select ${collection.name} records`, [
      h("div", { class: "field" }, h("label", { for: search.id }, "Search records"), search),
      status, list, count,
    ], [cancel, set]);
    dlg.addEventListener("close", () => resolve(result));
    showCount();
    search.focus();
    load();
  });
}

function geoWidget(f, v) {
  const point = v && typeof v === "object" ? v : { lon: 0, lat: 0 };
  const lon = h("input", { id: nextId("in"), type: "number", step: "any", min: -180, max: 180, value: point.lon ?? 0 });
  const lat = h("input", { id: nextId("in"), type: "number", step: "any", min: -90, max: 90, value: point.lat ?? 0 });
  const body = h("div", { class: "geo" },
    h("div", {}, h("label", { for: lon.id }, "Longitude"), lon),
    h("div", {}, h("label", { for: lat.id }, "Latitude"), lat));
  const hint = h("p", { class: "hint" }, "No map (it would need tiles from the internet).");
  const fr = frame(f, f.name, body, { group: true, hint });
  const num = (s) => (s.trim() === "" ? 0 : Number(s));
  return { ...fr, focus: lon, collect: (b) => { b[f.name] = { lon: num(lon.value), lat: num(lat.value) }; }, inputs: [lon, lat] };
}

// --- the drawer ------------------------------------------------------------------------------

/**
 * Open the editor for `rec` of `collection` (null: a new record). `onSaved(record)` and
 * `onDeleted(id)` run after the API answered; `onClosed()` when the drawer closes.
 */
export function openRecordEditor(pb, collection, rec, options = {}) {
  const { onSaved = () => {}, onDeleted = () => {}, onClosed = () => {}, prefill = null } = options;
  const creating = !rec;
  const readOnly = collection.type === "view";
  const isAuth = collection.type === "auth";
  const titleId = nextId("drawer");
  const dlg = modal("drawer", titleId);
  dlg.addEventListener("close", () => onClosed());
  const status = h("div", { class: "status", "aria-live": "polite" });
  const widgets = {};

  const body = h("div", { class: "drawer-body" });
  // id: optional on create, read-only after.
  const idInput = h("input", { id: nextId("in"), name: "id", type: "text", readonly: !creating, value: rec ? rec.id : "", placeholder: creating ? "Leave empty to generate" : "", autocomplete: "off" });
  const idFrame = frame({ name: "id", type: "text" }, "id", idInput);
  widgets.id = { ...idFrame, focus: idInput, collect: (b) => { if (creating && idInput.value.trim()) b.id = idInput.value.trim(); }, inputs: creating ? [idInput] : [] };
  body.append(idFrame.wrap);
  if (rec && (rec.created || rec.updated)) idInput.title = `created ${rec.created || "-"}, updated ${rec.updated || "-"}`;

  // Auth fields first (as PocketBase's drawer), timestamps last.
  const AUTH_FIRST = ["email", "emailVisibility", "verified", "password"];
  const rank = (f) => (isAuth && AUTH_FIRST.includes(f.name) ? AUTH_FIRST.indexOf(f.name) - 10 : f.type === "autodate" ? 10 : 0);
  const ordered = collection.fields.map((f, i) => [f, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([f]) => f);
  for (const f of ordered) {
    if (f.name === "id" || f.type === "password" && !isAuth) continue;
    if (isAuth && f.name === "tokenKey") continue;
    if (f.type === "password") {
      if (readOnly) continue;
      const pw = h("input", { id: nextId("in"), name: "password", type: "password", autocomplete: "new-password" });
      const pc = h("input", { id: nextId("in"), name: "passwordConfirm", type: "password", autocomplete: "new-password" });
      const a = frame({ ...f, required: creating }, creating ? "password" : "New password", pw, creating ? {} : { hint: h("p", { class: "hint" }, "Leave empty to keep the current password.") });
      const b = frame({ name: "passwordConfirm", type: "password", required: creating }, creating ? "passwordConfirm" : "New password confirm", pc);
      widgets.password = { ...a, focus: pw, inputs: [pw], collect: (out) => { if (creating || pw.value || pc.value) { out.password = pw.value; out.passwordConfirm = pc.value; } } };
      widgets.passwordConfirm = { ...b, focus: pc, inputs: [pc], collect: () => {} };
      body.append(a.wrap, b.wrap);
      continue;
    }
    const w = widgetFor(pb, collection, f, rec || prefill, creating);
    if (isAuth && rec && f.name === "verified" && f.type === "bool") {
      // Changing an account's verified state asks first, as PocketBase's drawer.
      const box = w.focus;
      box.addEventListener("change", async () => {
        const to = box.checked;
        const ok = await confirmDialog(to ? "Mark this account as verified?" : "Mark this account as not verified?", "Yes");
        if (!ok) box.checked = !to;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }
    widgets[f.name] = w;
    body.append(w.wrap);
  }
  if (isAuth && rec) body.append(linkedProviders(pb, collection, rec));
  if (readOnly) {
    for (const w of Object.values(widgets)) for (const el of w.inputs) el.disabled = true;
  }

  const save = h("button", { type: "submit", class: "btn btn-accent", hidden: readOnly }, creating ? "Create" : "Save changes");
  const close = h("button", { type: "button", class: "btn", onclick: () => requestClose() }, "Close");
  const form = h("form", { class: "drawer-form", novalidate: true },
    h("header", { class: "drawer-head" },
      h("h2", { id: titleId }, readOnly ? "View " : creating ? "New " : "Edit ", h("strong", {}, collection.name), " record"),
      rec && !readOnly ? moreMenu() : null),
    body,
    h("footer", { class: "drawer-foot" }, status, close, save),
  );
  mount(dlg, form);

  const showErrors = (fields) => {
    const byField = {};
    for (const [key, msg] of Object.entries(fields)) byField[key.replace(/^\+|[+-]$/g, "")] = msg;
    for (const [name, w] of Object.entries(widgets)) {
      const msg = byField[name];
      w.error.hidden = !msg;
      w.error.textContent = msg || "";
      for (const el of w.inputs) {
        if (msg) el.setAttribute("aria-invalid", "true");
        else el.removeAttribute("aria-invalid");
      }
    }
    const unknown = Object.keys(byField).filter((k) => !widgets[k]);
    return unknown.map((k) => `${k}: ${byField[k]}`);
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (readOnly) return;
    status.replaceChildren();
    const data = {};
    try {
      for (const w of Object.values(widgets)) w.collect(data, creating);
    } catch (local) {
      if (local && local.field) {
        showErrors({ [local.field]: local.message });
        status.append(notice("error", "Fix the marked fields."));
        return;
      }
      throw local;
    }
    save.disabled = true;
    try {
      const saved = creating
        ? await pb.collection(collection.id).create(data, { requestKey: null })
        : await pb.collection(collection.id).update(rec.id, data, { requestKey: null });
      onSaved(saved);
      dlg.close();
    } catch (err) {
      const e = apiError(err);
      const extra = showErrors(e.fields);
      status.append(notice("error", [e.message, ...extra].join(" ")));
      const first = Object.values(widgets).find((w) => !w.error.hidden);
      if (first && first.focus) first.focus.focus();
    } finally {
      save.disabled = false;
    }
  });

  function moreMenu() {
    const items = [];
    const act = (label, fn) => h("button", { type: "button", class: "menu-item", onclick: async (e) => {
      e.target.closest("details").open = false;
      status.replaceChildren();
      try { await fn(); } catch (err) { status.append(notice("error", apiError(err).message)); }
    } }, label);
    items.push(act("Duplicate", async () => {
      // A new record with this one's values; files and the password are not copied.
      const copy = {};
      for (const f of collection.fields) {
        if (f.name !== "id" && f.type !== "file" && f.type !== "password" && f.type !== "autodate") copy[f.name] = rec[f.name];
      }
      dlg.close();
      openRecordEditor(pb, collection, null, { ...options, prefill: copy });
    }));
    items.push(act("Copy JSON", async () => {
      await navigator.clipboard.writeText(JSON.stringify(rec, null, 2));
      status.append(notice("success", "Copied the record as JSON."));
    }));
    if (isAuth) {
      items.push(act("Send verification email", async () => {
        await pb.collection(collection.id).requestVerification(rec.email, { requestKey: null });
        status.append(notice("success", `Sent a verification email to ${rec.email}.`));
      }));
      items.push(act("Send password reset email", async () => {
        await pb.collection(collection.id).requestPasswordReset(rec.email, { requestKey: null });
        status.append(notice("success", `Sent a password reset email to ${rec.email}.`));
      }));
      items.push(act("Impersonate", () => impersonateDialog(pb, collection, rec)));
    }
    items.push(act("Delete", async () => {
      if (!(await confirmDialog(`Delete this ${collection.name} record (${rec.id})?`, "Delete"))) return;
      await pb.collection(collection.id).delete(rec.id, { requestKey: null });
      onDeleted(rec.id);
      dlg.close();
    }));
    return autoClose(h("details", { class: "menu" }, h("summary", { class: "btn btn-small", "aria-label": "More actions" }, "⋯"), h("div", { class: "menu-list" }, items)));
  }

  // Close or Esc with unsaved changes asks first (PocketBase's "discard changes" prompt).
  const snapshot = () => {
    const d = {};
    try {
      for (const w of Object.values(widgets)) w.collect(d, creating);
    } catch {
      return "(invalid)";
    }
    return JSON.stringify(d, (k, v) => (v instanceof File ? `file:${v.name}:${v.size}` : v));
  };
  const initial = snapshot();
  // "Save changes" waits for a change, as PocketBase's.
  const refreshSave = () => {
    if (!creating && !readOnly) save.disabled = snapshot() === initial;
  };
  for (const type of ["input", "change", "click"]) form.addEventListener(type, () => setTimeout(refreshSave, 0));
  refreshSave();
  let asking = false;
  async function requestClose() {
    if (asking) return;
    if (!readOnly && snapshot() !== initial) {
      asking = true;
      const discard = await confirmDialog("You have unsaved changes. Discard them?", "Discard");
      asking = false;
      if (!discard) return;
    }
    dlg.close();
  }
  dlg.addEventListener("cancel", (e) => {
    e.preventDefault();
    requestClose();
  });

  dlg.showModal();
  const first = Object.values(widgets).find((w) => w.inputs.length && !w.readOnly);
  if (first && !readOnly) first.focus.focus();
  return dlg;
}

/** The OAuth2 accounts linked to an auth record (`_externalAuths`), each with Unlink. */
function linkedProviders(pb, collection, rec) {
  const list = h("ul", { class: "files", "aria-label": "Linked OAuth2 providers" });
  const status = h("div", { class: "status" });
  const load = () => pb.collection("_externalAuths")
    .getFullList({ filter: pb.filter("collectionRef = {:c} && recordRef = {:r}", { c: collection.id, r: rec.id }), requestKey: null })
    .then((items) => mount(list, items.length ? items.map((x) => h("li", {},
      h("span", {}, h("strong", {}, x.provider), ` ${x.providerId}`),
      h("button", { type: "button", class: "btn btn-small", "aria-label": `Unlink ${x.provider}`, onclick: async () => {
        if (!(await confirmDialog(`Unlink the ${x.provider} account from ${rec.email || rec.id}?`, "Unlink"))) return;
        status.replaceChildren();
        try {
          await pb.collection("_externalAuths").delete(x.id, { requestKey: null });
          load();
        } catch (err) {
          status.append(notice("error", apiError(err).message));
        }
      } }, "Unlink"))) : h("li", { class: "muted" }, "No linked OAuth2 providers.")))
    .catch((err) => status.replaceChildren(notice("error", apiError(err).message)));
  load();
  return h("fieldset", { class: "field field-group" }, h("legend", {}, "OAuth2 providers"), list, status);
}

/** Impersonate an auth record: pick a duration, get a token (PocketBase's ⋯ → Impersonate). */
function impersonateDialog(pb, collection, rec) {
  const formId = nextId("imp");
  const duration = h("input", { id: nextId("in"), type: "number", min: 0, step: 1, value: 0 });
  const status = h("div", { class: "status" });
  const out = h("div", {});
  const go = h("button", { type: "submit", form: formId, class: "btn btn-accent" }, "Generate token");
  const close = h("button", { type: "button", class: "btn" }, "Close");
  const form = h("form", { id: formId },
    h("div", { class: "field" }, h("label", { for: duration.id }, "Token duration in seconds (0: the collection's default)"), duration),
    status, out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    go.disabled = true;
    try {
      const client = await pb.collection(collection.id).impersonate(rec.id, Number(duration.value) || 0, { requestKey: null });
      const token = h("textarea", { id: nextId("in"), readonly: true, rows: 5, class: "code" }, client.authStore.token);
      mount(out, h("div", { class: "field" }, h("label", { for: token.id }, "Impersonation token"), token),
        h("p", { class: "hint" }, "Send it as the Authorization header, or pb.authStore.save(token) in the SDK."));
      token.select();
    } catch (err) {
      status.append(notice("error", apiError(err).message));
    } finally {
      go.disabled = false;
    }
  });
  const dlg = openDialog(`Impersonate ${rec.email || rec.id}`, form, [close, go]);
  close.addEventListener("click", () => dlg.close());
  duration.focus();
}
