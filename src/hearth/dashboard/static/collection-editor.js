// Creating (`#/collections/new`) and editing (`#/collections/{name}/edit`) a collection: name and
// type, the fields (per-type options, add, remove until saved, rename), the indexes, the API rules
// (with field-name suggestions) and an API preview generated here from the unsaved model. Saving
// sends the whole collection to POST/PATCH /api/collections; the API's errors are shown where
// they belong (a rule's under the rule, a field's under the field's option).
import { authOptionsPanel } from "./auth-options.js";
import { apiError, h, mount, notice } from "./dom.js";

// Error paths the auth Options tab shows (the collection's auth option groups).
const AUTH_OPTION_KEYS = ["passwordAuth", "otp", "mfa", "oauth2", "authAlert", "authToken", "passwordResetToken",
  "emailChangeToken", "verificationToken", "fileToken"];

const TYPES = ["base", "auth", "view"];
const FIELD_TYPES = ["text", "editor", "number", "bool", "email", "url", "date", "autodate", "select", "file", "relation", "json", "geoPoint"];
const RULES = [
  ["listRule", "List/Search rule"],
  ["viewRule", "View rule"],
  ["createRule", "Create rule"],
  ["updateRule", "Update rule"],
  ["deleteRule", "Delete rule"],
];
const AUTH_RULES = [
  ["authRule", "Authentication rule"],
  ["manageRule", "Manage rule"],
];
const RULE_HINTS = {
  authRule: "Checked after a correct login, before the token is issued (e.g. verified = true).",
  manageRule: "Who may change other users' email, password or verified without their password.",
};

// The per-type options: [key, label, kind]. Kinds: int (0 = no limit), num (empty = null), text,
// bool, list (comma-separated → array), lines (one per line → array), collection (an id).
const OPTIONS = {
  text: [["min", "Min length", "int"], ["max", "Max length", "int"], ["pattern", "Regex pattern", "text"], ["autogeneratePattern", "Autogenerate pattern", "text"]],
  editor: [["maxSize", "Max size (bytes)", "int"], ["convertURLs", "Convert URLs", "bool"]],
  number: [["min", "Min", "num"], ["max", "Max", "num"], ["onlyInt", "Integers only", "bool"]],
  bool: [],
  email: [["onlyDomains", "Only domains (comma separated)", "list"], ["exceptDomains", "Except domains (comma separated)", "list"]],
  url: [["onlyDomains", "Only domains (comma separated)", "list"], ["exceptDomains", "Except domains (comma separated)", "list"]],
  date: [["min", "Min date (UTC, e.g. 2024-01-01 00:00:00.000Z)", "text"], ["max", "Max date (UTC)", "text"]],
  autodate: [["onCreate", "Set on create", "bool"], ["onUpdate", "Set on update", "bool"]],
  select: [["values", "Choices (one per line)", "lines"], ["maxSelect", "Max select (1 = single)", "int"]],
  file: [["maxSelect", "Max files (1 = single)", "int"], ["maxSize", "Max size per file (bytes)", "int"], ["mimeTypes", "Allowed MIME types (comma separated)", "list"], ["thumbs", "Thumb sizes (comma separated, e.g. 100x100)", "list"], ["protected", "Protected (needs a file token)", "bool"]],
  relation: [["collectionId", "Related collection", "collection"], ["minSelect", "Min select", "int"], ["maxSelect", "Max select (1 = single)", "int"], ["cascadeDelete", "Cascade delete", "bool"]],
  json: [["maxSize", "Max size (bytes)", "int"]],
  password: [["min", "Min length", "int"], ["max", "Max length", "int"], ["pattern", "Regex pattern", "text"], ["cost", "bcrypt cost", "int"]],
  geoPoint: [],
};
const NEW_FIELD = {
  autodate: { onCreate: true, onUpdate: false },
  select: { values: [], maxSelect: 1 },
  file: { maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false },
  relation: { collectionId: "", maxSelect: 1, minSelect: 0, cascadeDelete: false },
  number: { min: null, max: null, onlyInt: false },
};

let uid = 0;
const nextId = (prefix) => `${prefix}${++uid}`;
const clone = (v) => JSON.parse(JSON.stringify(v));

export function collectionEditor(pb, name, ctx) {
  const creating = !name;
  const root = h("section", { class: "coll-editor" }, h("h1", {}, creating ? "New collection" : `Edit collection ${name}`), h("p", { class: "muted" }, "Loading…"));
  const loads = [
    creating ? pb.collections.getScaffolds({ requestKey: null }) : pb.collections.getOne(name, { requestKey: null }),
    pb.collections.getFullList({ sort: "name", requestKey: null }),
  ];
  Promise.all(loads)
    .then(([first, all]) => {
      const editor = new Editor(pb, ctx, root, all, creating ? null : first, creating ? first : null);
      editor.render();
    })
    .catch((err) => mount(root, h("h1", {}, creating ? "New collection" : `Edit collection ${name}`), notice("error", apiError(err).message)));
  return root;
}

class Editor {
  constructor(pb, ctx, root, all, original, scaffolds) {
    this.pb = pb;
    this.ctx = ctx;
    this.root = root;
    this.all = all;
    this.original = original;
    this.scaffolds = scaffolds;
    this.tab = "fields";
    this.errors = {}; // API error path ("listRule", "fields.2.pattern", …) → message
    this.open = new Set(); // keys of fields whose options are shown
    // Ctrl/Cmd+S saves, as in PocketBase's editor.
    root.addEventListener("keydown", (event) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        if (this.saveButton && !this.saveButton.disabled) this.save(this.saveButton);
      }
    });
    if (original) {
      this.model = clone(original);
    } else {
      this.model = clone(scaffolds.base);
      this.model.name = "";
      this.addDefaultDates();
    }
    // Each field carries a client key; removed ones stay (greyed, restorable) until saved.
    for (const f of this.model.fields) f._key = nextId("k");
    this.model.indexes = this.model.indexes || [];
    this.initial = JSON.stringify(this.payload());
    this.guardLeaving();
  }

  dirty() {
    return !this.saved && JSON.stringify(this.payload()) !== this.initial;
  }

  /** Leaving with unsaved changes (a link elsewhere in the dashboard, or closing the tab) asks first. */
  guardLeaving() {
    const onClick = async (event) => {
      if (!this.root.isConnected) return stop();
      const a = event.target.closest && event.target.closest("a[href]");
      if (!a || this.root.querySelector(".preview-nav")?.contains(a) || event.defaultPrevented || !this.dirty()) return;
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      const ok = await confirmDialog({ title: "Discard unsaved changes?", body: ["The collection has changes that are not saved."], confirm: "Discard" });
      if (ok) {
        this.saved = true;
        window.location.href = a.href;
      }
    };
    const onUnload = (event) => {
      if (!this.root.isConnected) return stop();
      if (this.dirty()) event.preventDefault();
    };
    const stop = () => {
      document.removeEventListener("click", onClick, true);
      window.removeEventListener("beforeunload", onUnload);
    };
    document.addEventListener("click", onClick, true);
    window.addEventListener("beforeunload", onUnload);
  }

  addDefaultDates() {
    // PocketBase's new collections come with `created` and `updated` autodate fields.
    if (this.model.type === "view") return;
    const names = new Set(this.model.fields.map((f) => f.name));
    if (!names.has("created")) this.model.fields.push({ name: "created", type: "autodate", hidden: false, presentable: false, system: false, onCreate: true, onUpdate: false });
    if (!names.has("updated")) this.model.fields.push({ name: "updated", type: "autodate", hidden: false, presentable: false, system: false, onCreate: true, onUpdate: true });
  }

  get creating() {
    return !this.original;
  }

  liveFields() {
    return this.model.fields.filter((f) => !f._removed);
  }

  // ---- rendering ------------------------------------------------------------------------

  /** Rebuild the page from the model; `focus` (a selector) keeps the keyboard where it was. */
  render(focus) {
    this.renderNow();
    const el = focus && this.root.querySelector(focus);
    if (el) el.focus();
  }

  renderNow() {
    const title = this.creating ? "New collection" : `Edit collection ${this.original.name}`;
    this.status = h("div", { class: "status", "aria-live": "polite" });
    const tabs = [["fields", this.model.type === "view" ? "Query" : "Fields"], ["rules", "API rules"],
      ...(this.model.type === "auth" ? [["options", "Options"]] : []), ["preview", "API preview"]];
    const tablist = h(
      "div",
      { class: "tabs", role: "tablist", "aria-label": "Collection editor" },
      tabs.map(([key, label]) => {
        const hasError = Object.keys(this.errors).some((p) => tabOf(p) === key);
        const b = h("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-selected": String(this.tab === key), tabindex: this.tab === key ? "0" : "-1", "aria-controls": "tabpanel", class: hasError ? "tab has-error" : "tab" }, label, hasError ? h("span", { class: "error-dot", title: "has errors" }, " •") : null);
        b.addEventListener("click", () => {
          this.tab = key;
          this.render();
          this.root.querySelector(`#tab-${key}`).focus();
        });
        return b;
      }),
    );
    // The tabs pattern: ←/→ move between tabs.
    tablist.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      const at = tabs.findIndex(([key]) => key === this.tab);
      const next = tabs[(at + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length][0];
      event.preventDefault();
      this.tab = next;
      this.render();
      this.root.querySelector(`#tab-${next}`).focus();
    });
    const panel = h("div", { role: "tabpanel", id: "tabpanel", "aria-labelledby": `tab-${this.tab}`, class: "tabpanel" });
    if (this.tab === "fields") mount(panel, this.model.type === "view" ? this.queryPanel() : [this.fieldsPanel(), this.indexesPanel()]);
    else if (this.tab === "rules") mount(panel, this.rulesPanel());
    else if (this.tab === "options") mount(panel, authOptionsPanel(this.model, (path) => this.err(path)));
    else mount(panel, this.previewPanel());

    const save = h("button", { type: "button", class: "btn btn-primary btn-inline" }, this.creating ? "Create" : "Save changes");
    save.addEventListener("click", () => this.save(save));
    this.saveButton = save;
    const cancel = h("a", { class: "btn", href: this.creating ? "#/collections" : `#/collections/${encodeURIComponent(this.original.name)}` }, "Cancel");
    const general = Object.entries(this.errors).filter(([p]) => tabOf(p) === null);
    mount(
      this.root,
      h("div", { class: "editor-head" }, h("h1", {}, title), this.creating ? null : this.moreActions()),
      this.headFields(),
      tablist,
      panel,
      general.length ? h("ul", { class: "field-error" }, general.map(([p, m]) => h("li", {}, `${p}: ${m}`))) : null,
      this.status,
      h("div", { class: "editor-actions" }, cancel, save),
    );
    if (this.pendingNotice) {
      this.status.append(this.pendingNotice);
      this.pendingNotice = null;
    }
  }

  headFields() {
    const name = labelled("Name", h("input", { type: "text", value: this.model.name, required: true, autocomplete: "off", spellcheck: "false" }), this.err("name"));
    name.input.addEventListener("input", () => (this.model.name = name.input.value));
    if (this.creating && !this.focusedName) {
      this.focusedName = true;
      setTimeout(() => name.input.focus(), 0);
    }
    let type;
    if (this.creating) {
      const select = h("select", {}, TYPES.map((t) => h("option", { value: t, selected: this.model.type === t }, typeLabel(t))));
      select.addEventListener("change", () => this.changeType(select.value));
      type = labelled("Type", select, this.err("type"));
    } else {
      type = h("div", { class: "field" }, h("span", { class: "label" }, "Type"), h("p", { class: "type-fixed" }, typeLabel(this.model.type), this.model.system ? " (system)" : ""));
    }
    return h("div", { class: "head-fields" }, name.wrap, type.wrap || type);
  }

  changeType(type) {
    const scaffold = clone(this.scaffolds[type]);
    const own = this.model.fields.filter((f) => !f.system && !(type === "view"));
    const keep = { name: this.model.name };
    for (const [k] of [...RULES, ...AUTH_RULES]) if (k in this.model) keep[k] = this.model[k];
    this.model = { ...scaffold, ...keep, fields: [...scaffold.fields, ...own], indexes: scaffold.indexes || [] };
    if (type !== "view") this.addDefaultDates();
    for (const f of this.model.fields) f._key = f._key || nextId("k");
    if (type === "view") this.model.viewQuery = this.model.viewQuery || "";
    this.render(".head-fields select");
  }

  err(path) {
    return this.errors[path] || "";
  }

  queryPanel() {
    const ta = h("textarea", { rows: 8, class: "code", spellcheck: "false" }, this.model.viewQuery || "");
    ta.addEventListener("input", () => (this.model.viewQuery = ta.value));
    const q = labelled("Select query", ta, this.err("viewQuery"));
    const fields = this.liveFields();
    return [
      h("p", { class: "muted" }, "A view collection is read only; its fields come from the SELECT query's columns (it must return an id column). The query is checked when you save."),
      q.wrap,
      fields.length ? h("div", {}, h("h2", {}, "Fields (from the query)"), h("ul", { class: "plain-list" }, fields.map((f) => h("li", {}, h("code", {}, f.name), ` ${f.type}`)))) : null,
    ];
  }

  fieldsPanel() {
    const whole = Object.entries(this.errors).filter(([path]) => /^fields(\.\d+)?$/.test(path));
    const list = h("div", { class: "field-rows" }, whole.map(([path, m]) => h("p", { class: "field-error" }, `${path}: ${m}`)));
    this.model.fields.forEach((f) => list.append(this.fieldRow(f)));
    const types = FIELD_TYPES;
    const adders = h(
      "div",
      { class: "add-field", role: "group", "aria-label": "New field" },
      h("span", { class: "label" }, "New field:"),
      types.map((t) => {
        const b = h("button", { type: "button", class: "btn btn-small", "aria-label": `Add ${t} field` }, `+ ${t}`);
        b.addEventListener("click", () => this.addField(t));
        return b;
      }),
    );
    return h("div", {}, list, adders);
  }

  addField(type) {
    const names = new Set(this.model.fields.map((f) => f.name));
    let name = "field";
    for (let i = 1; names.has(name); i++) name = `field${i}`;
    const f = { name, type, required: false, hidden: false, presentable: false, system: false, ...(clone(NEW_FIELD[type] || {})), _key: nextId("k"), _new: true };
    if (type === "autodate") delete f.required;
    // Keep the autodate fields last, as PocketBase's editor does.
    const at = this.model.fields.findIndex((x) => x.type === "autodate" && x.system === false && (x.name === "created" || x.name === "updated"));
    if (at >= 0 && type !== "autodate") this.model.fields.splice(at, 0, f);
    else this.model.fields.push(f);
    this.open.add(f._key);
    this.render();
    const input = this.root.querySelector(`[data-key="${f._key}"] input.field-name`);
    if (input) {
      input.focus();
      input.select();
    }
  }

  fieldRow(f) {
    const idx = this.liveFields().indexOf(f);
    const p = (k) => this.err(`fields.${idx}.${k}`);
    const removed = !!f._removed;
    const renamed = this.originalField(f) && this.originalField(f).name !== f.name;
    const nameInput = h("input", { type: "text", class: "field-name", value: f.name, disabled: removed || f.system, autocomplete: "off", spellcheck: "false" });
    const name = labelled("Field name", nameInput, p("name"));
    const row = h("div", { class: `field-row${removed ? " removed" : ""}`, role: "group", "aria-label": `Field ${f.name}`, "data-key": f._key });
    nameInput.addEventListener("input", () => {
      f.name = nameInput.value;
      row.setAttribute("aria-label", `Field ${f.name}`);
      if (rm) rm.setAttribute("aria-label", `${removed ? "Restore" : "Remove"} field ${f.name}`);
    });
    const flags = [];
    if (f.type !== "autodate") flags.push(["required", "Required"]);
    flags.push(["hidden", "Hidden"], ["presentable", "Presentable"]);
    const checks = flags.map(([k, label]) => checkbox(label, !!f[k], (v) => (f[k] = v), removed));
    const optBtn = h("button", { type: "button", class: "btn btn-small", "aria-expanded": String(this.open.has(f._key)), disabled: removed }, "Options");
    optBtn.addEventListener("click", () => {
      if (this.open.has(f._key)) this.open.delete(f._key);
      else this.open.add(f._key);
      this.render(`[data-key="${f._key}"] button[aria-expanded]`);
    });
    let rm = null;
    if (!f.system) {
      rm = h("button", { type: "button", class: "btn btn-small", "data-remove": "" }, removed ? "Restore" : "Remove");
      rm.setAttribute("aria-label", `${removed ? "Restore" : "Remove"} field ${f.name}`);
      rm.addEventListener("click", () => {
        if (f._new) {
          this.model.fields.splice(this.model.fields.indexOf(f), 1);
          this.render(".add-field button");
        } else {
          f._removed = !f._removed;
          this.render(`[data-key="${f._key}"] button[data-remove]`);
        }
      });
    }
    const head = h(
      "div",
      { class: "field-head" },
      h("span", { class: "ftype" }, f.type),
      name.wrap,
      h("div", { class: "flags" }, checks),
      f.system ? h("span", { class: "tag" }, "system") : null,
      renamed ? h("span", { class: "tag" }, `renamed from ${this.originalField(f).name}`) : null,
      removed ? h("span", { class: "tag tag-warn" }, "removed on save") : null,
      optBtn,
      rm,
    );
    row.append(head);
    const fieldErrors = Object.entries(this.errors).filter(([path]) => path.startsWith(`fields.${idx}.`) && !["name", ...optionKeys(f)].includes(path.split(".")[2]));
    if (idx >= 0 && fieldErrors.length) row.append(h("p", { class: "field-error" }, fieldErrors.map(([path, m]) => `${path.split(".").slice(2).join(".")}: ${m}`).join("; ")));
    if (this.open.has(f._key) && !removed) row.append(this.optionsOf(f, p));
    return row;
  }

  originalField(f) {
    if (!this.original || !f.id) return null;
    return this.original.fields.find((o) => o.id === f.id) || null;
  }

  optionsOf(f, p) {
    const box = h("div", { class: "field-options" });
    for (const [key, label, kind] of OPTIONS[f.type] || []) box.append(this.option(f, key, label, kind, p(key)));
    if (f.type !== "autodate") {
      const help = labelled("Help text", h("input", { type: "text", value: f.help || "" }), p("help"));
      help.input.addEventListener("input", () => (f.help = help.input.value));
      box.append(help.wrap);
    }
    if (!box.childNodes.length) box.append(h("p", { class: "muted" }, "No options for this type."));
    // Order and copies (a keyboard alternative to PocketBase's drag handle).
    const at = this.model.fields.indexOf(f);
    const move = (delta) => {
      const to = at + delta;
      if (to < 0 || to >= this.model.fields.length) return;
      this.model.fields.splice(at, 1);
      this.model.fields.splice(to, 0, f);
      this.render();
      const again = this.root.querySelector(`[data-key="${f._key}"] [data-move="${delta}"]`);
      if (again && !again.disabled) again.focus();
    };
    const up = h("button", { type: "button", class: "btn btn-small", "data-move": "-1", disabled: at === 0 }, "Move up");
    const down = h("button", { type: "button", class: "btn btn-small", "data-move": "1", disabled: at === this.model.fields.length - 1 }, "Move down");
    up.addEventListener("click", () => move(-1));
    down.addEventListener("click", () => move(1));
    let dup = null;
    if (!f.system) {
      dup = h("button", { type: "button", class: "btn btn-small" }, "Duplicate");
      dup.addEventListener("click", () => {
        const names = new Set(this.model.fields.map((x) => x.name));
        let name = `${f.name}_copy`;
        for (let i = 2; names.has(name); i++) name = `${f.name}_copy${i}`;
        const copy = { ...clone(f), name, _key: nextId("k"), _new: true };
        delete copy.id;
        delete copy._removed;
        this.model.fields.splice(at + 1, 0, copy);
        this.open.add(copy._key);
        this.render(`[data-key="${copy._key}"] input.field-name`);
      });
    }
    box.append(h("div", { class: "row-actions field-actions" }, up, down, dup));
    return box;
  }

  option(f, key, label, kind, error) {
    if (kind === "bool") return h("div", { class: "field" }, checkbox(label, !!f[key], (v) => (f[key] = v)), error ? h("p", { class: "field-error" }, error) : null);
    if (kind === "collection") {
      const sel = h("select", {}, h("option", { value: "" }, "— choose —"), this.all.map((c) => h("option", { value: c.id, selected: c.id === f[key] }, c.name)));
      sel.addEventListener("change", () => (f[key] = sel.value));
      return labelled(label, sel, error).wrap;
    }
    let value = f[key];
    if (kind === "list") value = (value || []).join(", ");
    else if (kind === "lines") value = (value || []).join("\n");
    else if (value === null || value === undefined) value = "";
    const input = kind === "lines" ? h("textarea", { rows: 3 }, String(value)) : h("input", { type: kind === "int" || kind === "num" ? "number" : "text", value: String(value), step: "any" });
    input.addEventListener("input", () => {
      const v = input.value;
      if (kind === "int") f[key] = v === "" ? 0 : Number(v);
      else if (kind === "num") f[key] = v === "" ? null : Number(v);
      else if (kind === "list") f[key] = v.split(",").map((s) => s.trim()).filter(Boolean);
      else if (kind === "lines") f[key] = v.split("\n").map((s) => s.trim()).filter(Boolean);
      else f[key] = v;
    });
    return labelled(label, input, error).wrap;
  }

  indexesPanel() {
    const box = h("div", { class: "indexes" }, h("h2", {}, "Indexes"));
    const list = h("ul", { class: "plain-list index-list", "aria-label": "Indexes" });
    this.model.indexes.forEach((sql, i) => {
      const edit = h("button", { type: "button", class: "btn btn-small", "aria-label": `Edit index ${i + 1}` }, "Edit");
      const rm = h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove index ${i + 1}` }, "Remove");
      edit.addEventListener("click", () => this.indexEditor(i));
      rm.addEventListener("click", () => {
        this.model.indexes.splice(i, 1);
        this.render(".indexes > button");
      });
      list.append(h("li", {}, h("code", {}, sql), edit, rm, this.err(`indexes.${i}`) ? h("p", { class: "field-error" }, this.err(`indexes.${i}`)) : null));
    });
    if (!this.model.indexes.length) list.append(h("li", { class: "muted" }, "No indexes."));
    const add = h("button", { type: "button", class: "btn btn-small" }, "New index");
    add.addEventListener("click", () => this.indexEditor(-1));
    box.append(list);
    if (this.err("indexes")) box.append(h("p", { class: "field-error" }, this.err("indexes")));
    box.append(add);
    this.indexBox = h("div", { class: "index-editor" });
    box.append(this.indexBox);
    return box;
  }

  indexEditor(i) {
    const name = this.model.name || "collection";
    const existing = i >= 0 ? this.model.indexes[i] : "";
    const unique = checkbox("Unique", /^\s*create\s+unique/i.test(existing), () => rebuild());
    const sql = h("textarea", { rows: 3, class: "code", spellcheck: "false" }, existing);
    const chosen = new Set();
    const rebuild = () => {
      if (!chosen.size) return;
      const cols = [...chosen];
      const u = unique.querySelector("input").checked;
      sql.value = `CREATE ${u ? "UNIQUE " : ""}INDEX \`idx_${name}_${cols.join("_")}\` ON \`${name}\` (${cols.map((c) => `\`${c}\``).join(", ")})`;
    };
    const columns = h(
      "div",
      { class: "columns", role: "group", "aria-label": "Columns" },
      h("span", { class: "label" }, "Columns:"),
      this.liveFields().map((f) => checkbox(f.name, existing.includes(`\`${f.name}\``), (v) => {
        if (v) chosen.add(f.name);
        else chosen.delete(f.name);
        rebuild();
      })),
    );
    for (const f of this.liveFields()) if (existing.includes(`\`${f.name}\``)) chosen.add(f.name);
    const stmt = labelled("Index statement", sql, "");
    const ok = h("button", { type: "button", class: "btn btn-small" }, i >= 0 ? "Update index" : "Add index");
    const cancel = h("button", { type: "button", class: "btn btn-small" }, "Cancel");
    ok.addEventListener("click", () => {
      const v = sql.value.trim();
      if (!v) return;
      if (i >= 0) this.model.indexes[i] = v;
      else this.model.indexes.push(v);
      this.render(".indexes > button");
    });
    cancel.addEventListener("click", () => this.indexBox.replaceChildren());
    mount(this.indexBox, h("fieldset", {}, h("legend", {}, i >= 0 ? "Edit index" : "New index"), unique, columns, stmt.wrap, h("p", { class: "muted" }, "Pick columns to write the statement, or edit it as SQL (the API checks it on save)."), h("div", { class: "row-actions" }, ok, cancel)));
    sql.focus();
  }

  rulesPanel() {
    const rules = this.model.type === "auth" ? [...RULES, ...AUTH_RULES] : this.model.type === "view" ? RULES.slice(0, 2) : RULES;
    const words = this.suggestions();
    const cheat = h("details", { class: "cheatsheet" }, h("summary", {}, "Show available fields"), h("ul", { class: "plain-list" }, words.filter((w) => !w.endsWith(".")).map((w) => h("li", {}, h("code", {}, w)))));
    return [
      h("p", { class: "muted" }, "Rules are PocketBase filter expressions. Superusers only (locked): only superusers may do it. Empty: anyone, guests included. The API checks a rule when you save; its error is shown under the rule and nothing is saved."),
      cheat,
      rules.map(([key, label]) => this.ruleEditor(key, label, words)),
    ].flat();
  }

  suggestions() {
    const mine = this.liveFields().map((f) => f.name).filter(Boolean);
    const out = [...mine];
    for (const f of this.liveFields()) {
      if (f.type !== "relation") continue;
      const target = this.all.find((c) => c.id === f.collectionId);
      if (target) for (const sub of target.fields) out.push(`${f.name}.${sub.name}`);
    }
    const authFields = new Set(["id", "collectionId", "collectionName"]);
    for (const c of this.all) if (c.type === "auth" && !c.system) for (const sub of c.fields) if (!sub.hidden) authFields.add(sub.name);
    for (const a of authFields) out.push(`@request.auth.${a}`);
    for (const m of mine) out.push(`@request.body.${m}`, `@request.body.${m}:isset`, `@request.body.${m}:changed`);
    out.push("@request.method", "@request.context", "@request.query.", "@request.headers.");
    for (const c of this.all) for (const sub of c.fields) out.push(`@collection.${c.name}.${sub.name}`);
    out.push("@now", "@yesterday", "@tomorrow", "@todayStart", "@todayEnd", "@monthStart", "@monthEnd", "@yearStart", "@yearEnd");
    return [...new Set(out)];
  }

  ruleEditor(key, label, words) {
    const value = this.model[key];
    const locked = value === null || value === undefined;
    const id = nextId("rule");
    const ta = h("textarea", { id, rows: 2, class: "code", spellcheck: "false", disabled: locked, placeholder: locked ? "Superusers only" : "Empty: public (anyone, guests included)", "aria-autocomplete": "list", "aria-controls": `${id}-list`, "aria-describedby": `${id}-error` }, locked ? "" : value);
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: !this.err(key) }, this.err(key));
    if (this.err(key)) ta.setAttribute("aria-invalid", "true");
    ta.addEventListener("input", () => (this.model[key] = ta.value));
    const lock = checkbox("Superusers only", locked, (v) => {
      this.model[key] = v ? null : this.lastRule[key] || "";
      if (v) this.lastRule[key] = ta.value;
      this.render(v ? `[data-rule="${key}"] .check input` : `[data-rule="${key}"] textarea`);
    });
    this.lastRule = this.lastRule || {};
    const state = h("span", { class: "tag" }, locked ? "superusers only" : value === "" ? "public" : "expression");
    const list = h("ul", { class: "suggest", role: "listbox", id: `${id}-list`, hidden: true, "aria-label": `${label} suggestions` });
    autocomplete(ta, list, words);
    return h(
      "div",
      { class: "rule", "data-rule": key },
      h("div", { class: "rule-head" }, h("label", { for: id }, label), state, lock),
      h("div", { class: "suggest-wrap" }, ta, list),
      RULE_HINTS[key] ? h("p", { class: "muted small" }, RULE_HINTS[key]) : null,
      error,
    );
  }

  previewPanel() {
    const name = this.model.name || "COLLECTION";
    const c = JSON.stringify(name);
    const base = `/api/collections/${encodeURIComponent(name)}`;
    const body = exampleBody(this.liveFields(), this.model.type);
    const bodyText = JSON.stringify(body, null, 2).replace(/\n/g, "\n  ");
    const eps = [
      ["List/Search", "GET", `${base}/records`, "listRule", `const page = await pb.collection(${c}).getList(1, 50, {\n  filter: 'created >= "2024-01-01 00:00:00"',\n  sort: "-created",\n});`],
      ["View", "GET", `${base}/records/:id`, "viewRule", `const record = await pb.collection(${c}).getOne("RECORD_ID");`],
    ];
    if (this.model.type !== "view") {
      eps.push(
        ["Create", "POST", `${base}/records`, "createRule", `const record = await pb.collection(${c}).create(${bodyText});`],
        ["Update", "PATCH", `${base}/records/:id`, "updateRule", `const record = await pb.collection(${c}).update("RECORD_ID", ${bodyText});`],
        ["Delete", "DELETE", `${base}/records/:id`, "deleteRule", `await pb.collection(${c}).delete("RECORD_ID");`],
      );
    }
    eps.push(["Realtime", "GET + POST", "/api/realtime", "listRule", `// Events of every record the List rule lets you see (a single record's: the View rule).\npb.collection(${c}).subscribe("*", (e) => {\n  console.log(e.action, e.record);\n});\n// later: pb.collection(${c}).unsubscribe("*");`]);
    if (this.model.type === "auth") {
      eps.push(
        ["Auth with password", "POST", `${base}/auth-with-password`, "authRule", `const auth = await pb.collection(${c}).authWithPassword("test@example.com", "PASSWORD");\nconsole.log(pb.authStore.token, pb.authStore.record);`],
        ["Auth refresh", "POST", `${base}/auth-refresh`, "authRule", `await pb.collection(${c}).authRefresh();`],
        ["Auth methods", "GET", `${base}/auth-methods`, null, `const methods = await pb.collection(${c}).listAuthMethods();`],
        ["OTP", "POST", `${base}/request-otp, ${base}/auth-with-otp`, "authRule", `const { otpId } = await pb.collection(${c}).requestOTP("test@example.com");\nawait pb.collection(${c}).authWithOTP(otpId, "CODE_FROM_EMAIL");`],
        ["OAuth2", "POST", `${base}/auth-with-oauth2`, "authRule", `await pb.collection(${c}).authWithOAuth2({ provider: "google" });`],
        ["Verification", "POST", `${base}/request-verification, ${base}/confirm-verification`, null, `await pb.collection(${c}).requestVerification("test@example.com");\nawait pb.collection(${c}).confirmVerification("TOKEN");`],
        ["Password reset", "POST", `${base}/request-password-reset, ${base}/confirm-password-reset`, null, `await pb.collection(${c}).requestPasswordReset("test@example.com");\nawait pb.collection(${c}).confirmPasswordReset("TOKEN", "NEW_PASSWORD", "NEW_PASSWORD");`],
        ["Email change", "POST", `${base}/request-email-change, ${base}/confirm-email-change`, null, `await pb.collection(${c}).requestEmailChange("new@example.com");\nawait pb.collection(${c}).confirmEmailChange("TOKEN", "PASSWORD");`],
      );
    }
    const nav = h("ul", { class: "preview-nav plain-list" }, eps.map(([title], i) => h("li", {}, h("a", { href: `#/collections/${encodeURIComponent(this.original ? this.original.name : "new")}${this.original ? "/edit" : ""}`, "data-target": `ep-${i}` }, title))));
    nav.addEventListener("click", (event) => {
      const a = event.target.closest("a[data-target]");
      if (!a) return;
      event.preventDefault();
      const target = this.root.querySelector(`#${a.dataset.target}`);
      if (target) target.scrollIntoView({ block: "start" });
    });
    return [
      h("p", { class: "muted" }, "Generated from the form as it is now (unsaved changes included), for the JavaScript SDK (", h("code", {}, 'const pb = new PocketBase("…")'), "). Documentation only: nothing is sent."),
      nav,
      eps.map(([title, method, url, rule, code], i) =>
        h(
          "article",
          { class: "endpoint", id: `ep-${i}`, "aria-label": `API ${title}` },
          h("h2", {}, title),
          h("p", {}, h("span", { class: "method" }, method), " ", h("code", {}, url)),
          h("p", {}, "Rule: ", rule ? ruleText(this.model[rule], rule) : "none (public endpoint)"),
          // Focusable: a long line scrolls sideways, and the keyboard must reach it too.
          h("pre", { class: "code", tabindex: "0", "aria-label": `${title}: code` }, code),
        ),
      ),
    ].flat();
  }

  moreActions() {
    const truncate = h("button", { type: "button", class: "btn btn-small" }, "Truncate");
    const del = h("button", { type: "button", class: "btn btn-small btn-danger" }, "Delete collection");
    const copy = h("button", { type: "button", class: "btn btn-small" }, "Copy JSON");
    copy.addEventListener("click", async () => {
      await copyText(JSON.stringify(this.payload(), null, 2));
      this.flash(notice("success", "The collection's JSON was copied."));
    });
    truncate.addEventListener("click", async () => {
      const name = this.original.name;
      const ok = await confirmDialog({ title: `Truncate ${name}?`, body: [`Every record of ${name} will be deleted (and their files); the collection stays. This cannot be undone.`], confirm: "Truncate", typeToConfirm: name });
      if (!ok) return;
      try {
        await this.pb.collections.truncate(this.original.id);
        this.flash(notice("success", `All records of ${name} were deleted.`));
      } catch (err) {
        this.flash(notice("error", apiError(err).message));
      }
    });
    del.addEventListener("click", async () => {
      const name = this.original.name;
      const ok = await confirmDialog({ title: `Delete ${name}?`, body: [`The collection ${name}, all its records and files will be deleted. This cannot be undone.`], confirm: "Delete", typeToConfirm: name });
      if (!ok) return;
      try {
        await this.pb.collections.delete(this.original.id);
        this.saved = true;
        this.ctx.refreshCollections();
        window.location.hash = "#/collections";
      } catch (err) {
        this.flash(notice("error", apiError(err).message));
      }
    });
    return h("div", { class: "more-actions" }, copy, truncate, this.original.system ? null : del);
  }

  flash(node) {
    this.status.replaceChildren(node);
  }

  // ---- saving ---------------------------------------------------------------------------

  payload() {
    const out = {};
    for (const [k, v] of Object.entries(this.model)) if (!["created", "updated"].includes(k)) out[k] = v;
    out.fields = this.liveFields().map((f) => {
      const copy = {};
      for (const [k, v] of Object.entries(f)) if (!k.startsWith("_")) copy[k] = v;
      return copy;
    });
    if (this.model.type === "view") delete out.indexes;
    return out;
  }

  async save(btn) {
    const payload = this.payload();
    if (!this.creating) {
      const renamed = [];
      const deleted = [];
      for (const o of this.original.fields) {
        const now = this.model.fields.find((f) => f.id === o.id);
        if (!now || now._removed) deleted.push(o.name);
        else if (now.name !== o.name) renamed.push(`${o.name} → ${now.name}`);
      }
      const collRenamed = this.model.name !== this.original.name;
      if (this.model.type !== "view" && (renamed.length || deleted.length || collRenamed)) {
        const body = [];
        if (collRenamed) body.push(h("p", {}, `The collection is renamed: ${this.original.name} → ${this.model.name}. Rules, views and clients that use the old name must be updated.`));
        if (renamed.length) body.push(h("p", {}, "Renamed fields (their data is kept):"), h("ul", {}, renamed.map((r) => h("li", {}, r))));
        if (deleted.length) body.push(h("p", { class: "warn" }, "Deleted fields: their data will be lost."), h("ul", {}, deleted.map((r) => h("li", {}, r))));
        body.push(h("p", { class: "muted" }, "Rules, filters and views that name an old field are not updated for you."));
        const ok = await confirmDialog({ title: "Confirm the changes", body, confirm: "Save" });
        if (!ok) return;
      }
    }
    btn.disabled = true;
    this.status.replaceChildren();
    try {
      const saved = this.creating ? await this.pb.collections.create(payload) : await this.pb.collections.update(this.original.id, payload);
      this.saved = true;
      this.ctx.refreshCollections();
      this.ctx.noticeNext(`${this.creating ? "Created" : "Saved"} the collection ${saved.name}.`);
      window.location.hash = `#/collections/${encodeURIComponent(saved.name)}`;
    } catch (err) {
      const e = apiError(err);
      this.errors = flattenErrors((err && err.response && err.response.data) || {});
      // Open the options of the fields the API names, so their messages are seen.
      const live = this.liveFields();
      for (const path of Object.keys(this.errors)) {
        const m = path.match(/^fields\.(\d+)\./);
        if (m && live[Number(m[1])]) this.open.add(live[Number(m[1])]._key);
      }
      const first = Object.keys(this.errors).map(tabOf).find((t) => t === "fields" || t === "rules" || t === "options");
      if (first) this.tab = first;
      this.pendingNotice = notice("error", e.message);
      this.render();
    } finally {
      btn.disabled = false;
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------

function typeLabel(t) {
  return { base: "Base", auth: "Auth", view: "View" }[t] || t;
}

function optionKeys(f) {
  return [...(OPTIONS[f.type] || []).map(([k]) => k), "help"];
}

/** Which tab an error path belongs to (null: none, shown above the buttons). */
function tabOf(path) {
  const top = path.split(".")[0];
  if (["fields", "indexes", "viewQuery"].includes(top)) return "fields";
  if ([...RULES, ...AUTH_RULES].some(([k]) => k === top)) return "rules";
  if (AUTH_OPTION_KEYS.includes(top)) return "options";
  if (top === "name" || top === "type") return "head";
  return null;
}

/** PocketBase's nested error data ({fields: {"2": {pattern: {code, message}}}}) → path → message. */
export function flattenErrors(data, prefix = "", out = {}) {
  if (!data || typeof data !== "object") return out;
  if (typeof data.message === "string" && typeof data.code === "string") {
    out[prefix] = data.message;
    return out;
  }
  for (const [k, v] of Object.entries(data)) flattenErrors(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

function labelled(label, input, error) {
  const id = input.id || nextId("ce");
  input.id = id;
  const err = h("p", { class: "field-error", id: `${id}-error`, hidden: !error }, error || "");
  input.setAttribute("aria-describedby", err.id);
  if (error) input.setAttribute("aria-invalid", "true");
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, err);
  return { wrap, input, error: err };
}

function checkbox(label, checked, onChange, disabled = false) {
  const input = h("input", { type: "checkbox", checked, disabled });
  input.addEventListener("change", () => onChange(input.checked));
  return h("label", { class: "check" }, input, " ", label);
}

function ruleText(value, key) {
  if (value === null || value === undefined) return "superusers only (" + key + " is null)";
  if (value === "") return "public: anyone, guests included (" + key + " is empty)";
  return h("code", {}, value);
}

function exampleBody(fields, type) {
  const out = {};
  for (const f of fields) {
    if (f.system && f.name !== "email" && f.name !== "password" && f.name !== "emailVisibility") continue;
    if (f.type === "autodate") continue;
    const many = (f.maxSelect || 1) > 1;
    const v = {
      text: "example", editor: "<p>example</p>", number: 123, bool: true, email: "test@example.com", url: "https://example.com",
      date: "2024-01-01 10:00:00.123Z", select: (f.values && f.values[0]) || "", relation: "RELATION_RECORD_ID", json: { key: "value" },
      geoPoint: { lon: 0, lat: 0 }, password: "12345678", file: "(a File or Blob, sent as multipart)",
    }[f.type];
    if (v === undefined) continue;
    out[f.name] = many && ["select", "relation", "file"].includes(f.type) ? [v] : v;
  }
  if (type === "auth") out.passwordConfirm = "12345678";
  return out;
}

/** Suggestions under a textarea for the word before the caret (↑/↓, Enter or Tab, Esc). */
function autocomplete(ta, list, words) {
  let items = [];
  let active = -1;
  const close = () => {
    list.hidden = true;
    items = [];
    active = -1;
    ta.removeAttribute("aria-activedescendant");
  };
  const wordAt = () => {
    const before = ta.value.slice(0, ta.selectionStart);
    const m = before.match(/[@\w.:]*$/);
    return m ? m[0] : "";
  };
  const accept = (i) => {
    const word = wordAt();
    const start = ta.selectionStart - word.length;
    const text = items[i];
    ta.value = ta.value.slice(0, start) + text + ta.value.slice(ta.selectionStart);
    ta.selectionStart = ta.selectionEnd = start + text.length;
    ta.dispatchEvent(new Event("input"));
    if (!text.endsWith(".")) close();
  };
  const paint = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    if (active >= 0) ta.setAttribute("aria-activedescendant", list.children[active].id);
  };
  const update = () => {
    const word = wordAt();
    if (!word) return close();
    const lower = word.toLowerCase();
    items = words.filter((w) => w.toLowerCase().startsWith(lower) && w !== word).slice(0, 10);
    if (!items.length) return close();
    active = 0;
    mount(
      list,
      items.map((w, i) => {
        const li = h("li", { role: "option", id: `${list.id}-${i}` }, w);
        li.addEventListener("mousedown", (event) => {
          event.preventDefault();
          accept(i);
        });
        return li;
      }),
    );
    list.hidden = false; // (a textarea may not carry aria-expanded: the list's own visibility tells)
    paint();
  };
  ta.addEventListener("input", (event) => {
    if (event.isTrusted !== false) update();
    else if (!list.hidden) update();
  });
  ta.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      paint();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  ta.addEventListener("blur", close);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (an http origin): select the text in a throwaway field instead.
    const ta = h("textarea", { class: "offscreen", "aria-hidden": "true" }, text);
    document.body.append(ta);
    ta.select();
    document.execCommand("copy");
    ta.remove();
  }
}

/**
 * A modal confirmation (a <dialog>, never window.confirm). With `typeToConfirm`, the button is
 * enabled only once that text is typed. Resolves true when confirmed, false otherwise.
 */
export function confirmDialog({ title, body = [], confirm = "Confirm", typeToConfirm = "" }) {
  return new Promise((resolve) => {
    const ok = h("button", { type: "submit", class: "btn btn-danger", value: "ok", disabled: !!typeToConfirm }, confirm);
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    let typed = null;
    if (typeToConfirm) {
      typed = h("input", { type: "text", autocomplete: "off", spellcheck: "false" });
      typed.addEventListener("input", () => (ok.disabled = typed.value !== typeToConfirm));
    }
    const titleId = nextId("dlg");
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", { id: titleId }, title),
      body.map((b) => (b instanceof Node ? b : h("p", {}, b))),
      typed ? labelled(`Type ${typeToConfirm} to confirm`, typed, "").wrap : null,
      h("div", { class: "row-actions" }, cancel, ok),
    );
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
    let result = false;
    form.addEventListener("submit", () => (result = true));
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (typed || ok).focus();
  });
}
