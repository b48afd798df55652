// Export and import of collections as JSON (`#/settings/export-collections`, `…/import-collections`).
// Export: pick collections, copy or download their JSON (as GET /api/collections returns them).
// Import: paste or load such JSON, see what would change (new / changed / deleted collections,
// compared here), then PUT /api/collections/import; the API's error is shown as it answers.
import { confirmDialog, copyText, flattenErrors } from "./collection-editor.js";
import { apiError, h, mount, notice } from "./dom.js";

let ids = 0;
const nextId = () => `io${++ids}`;

function exported(c) {
  const out = { ...c };
  delete out.created;
  delete out.updated;
  return out;
}

export function exportCollectionsPage(pb, ctx) {
  const root = h("section", { class: "coll-io" }, h("h1", {}, "Export collections"), h("p", { class: "muted" }, "Loading…"));
  pb.collections
    .getFullList({ sort: "name", requestKey: null })
    .then((all) => {
      const chosen = new Set(all.map((c) => c.id));
      const jsonId = nextId();
      const json = h("textarea", { id: jsonId, class: "code json-box", readonly: true, spellcheck: "false" });
      const status = h("div", { class: "status", "aria-live": "polite" });
      const text = () => JSON.stringify(all.filter((c) => chosen.has(c.id)).map(exported), null, 2);
      const refresh = () => {
        json.value = text();
      };
      const boxes = all.map((c) => {
        const input = h("input", { type: "checkbox", checked: true, value: c.id });
        input.addEventListener("change", () => {
          if (input.checked) chosen.add(c.id);
          else chosen.delete(c.id);
          refresh();
        });
        return h("label", { class: "check" }, input, " ", c.name, c.system ? h("span", { class: "tag" }, " system") : null);
      });
      const setAll = (on) => {
        for (const label of boxes) {
          const input = label.querySelector("input");
          input.checked = on;
          if (on) chosen.add(input.value);
          else chosen.delete(input.value);
        }
        refresh();
      };
      const selectAll = h("button", { type: "button", class: "btn btn-small" }, "Select all");
      const selectNone = h("button", { type: "button", class: "btn btn-small" }, "Deselect all");
      selectAll.addEventListener("click", () => setAll(true));
      selectNone.addEventListener("click", () => setAll(false));
      const copy = h("button", { type: "button", class: "btn" }, "Copy");
      copy.addEventListener("click", async () => {
        await copyText(json.value);
        mount(status, notice("success", "Copied to the clipboard."));
      });
      const download = h("button", { type: "button", class: "btn" }, "Download JSON");
      download.addEventListener("click", () => {
        const url = URL.createObjectURL(new Blob([json.value], { type: "application/json" }));
        const a = h("a", { href: url, download: "pb_schema.json", hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
      });
      refresh();
      mount(
        root,
        h("h1", {}, "Export collections"),
        h("p", { class: "muted" }, "The chosen collections' JSON, as Import collections (here or on PocketBase) takes it."),
        h("fieldset", {}, h("legend", {}, "Collections to export"), h("div", { class: "row-actions" }, selectAll, selectNone), h("div", { class: "pick-list" }, boxes)),
        h("div", { class: "field" }, h("label", { for: jsonId }, "Collections JSON"), json),
        status,
        h("div", { class: "row-actions" }, copy, download),
      );
    })
    .catch((err) => mount(root, h("h1", {}, "Export collections"), notice("error", apiError(err).message)));
  return root;
}

export function importCollectionsPage(pb, ctx) {
  const root = h("section", { class: "coll-io" }, h("h1", {}, "Import collections"));
  let current = [];
  const jsonId = nextId();
  const json = h("textarea", { id: jsonId, class: "code json-box", spellcheck: "false", placeholder: '[{"name": "posts", "type": "base", "fields": […]}]', "aria-describedby": `${jsonId}-error` });
  const parseError = h("p", { class: "field-error", id: `${jsonId}-error`, hidden: true });
  const fileId = nextId();
  const file = h("input", { id: fileId, type: "file", accept: ".json,application/json" });
  const delMissing = h("input", { type: "checkbox" });
  const changes = h("div", { class: "changes-box", "aria-live": "polite" });
  const status = h("div", { class: "status", "aria-live": "polite" });
  const importBtn = h("button", { type: "button", class: "btn btn-primary btn-inline", disabled: true }, "Import");
  let parsed = null;
  let diff = null;

  const analyse = () => {
    parsed = null;
    diff = null;
    parseError.hidden = true;
    json.removeAttribute("aria-invalid");
    importBtn.disabled = true;
    changes.replaceChildren();
    const text = json.value.trim();
    if (!text) return;
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      return fail(`Invalid JSON: ${err.message}`);
    }
    // An export is an array; an {"collections": […]} object (the import request's body) is taken too.
    if (data && !Array.isArray(data) && Array.isArray(data.collections)) data = data.collections;
    if (!Array.isArray(data) || !data.length || !data.every((c) => c && typeof c === "object" && !Array.isArray(c))) {
      return fail("Expected a non-empty JSON array of collections.");
    }
    parsed = data;
    diff = detect(current, parsed, delMissing.checked);
    showChanges();
    importBtn.disabled = false;
  };
  const fail = (msg) => {
    parseError.textContent = msg;
    parseError.hidden = false;
    json.setAttribute("aria-invalid", "true");
  };
  const showChanges = () => {
    const rows = [];
    for (const c of diff.added) rows.push(h("li", {}, h("span", { class: "change-new" }, "New: "), c.name || "(no name)"));
    for (const [c, what] of diff.changed) rows.push(h("li", {}, h("span", { class: "change-changed" }, "Changed: "), c.name || c.id, ` (${what.join("; ")})`));
    for (const c of diff.deleted) rows.push(h("li", {}, h("span", { class: "change-deleted" }, "Deleted: "), c.name, " (and all its records)"));
    mount(
      changes,
      h("h2", {}, "Detected changes"),
      rows.length ? h("ul", { class: "plain-list changes", "aria-label": "Detected changes" }, rows) : h("p", { class: "muted" }, "No changes: the collections are already as in this JSON."),
      diff.unchanged.length ? h("p", { class: "muted" }, `Unchanged: ${diff.unchanged.map((c) => c.name).join(", ")}`) : null,
    );
  };

  json.addEventListener("input", analyse);
  delMissing.addEventListener("change", analyse);
  file.addEventListener("change", async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    json.value = await f.text();
    analyse();
  });
  importBtn.addEventListener("click", async () => {
    if (!parsed) return;
    if (diff.deleted.length || diff.droppedFields) {
      const body = [];
      if (diff.deleted.length) body.push(h("p", { class: "warn" }, "These collections and all their records will be deleted:"), h("ul", {}, diff.deleted.map((c) => h("li", {}, c.name))));
      if (diff.droppedFields) body.push(h("p", { class: "warn" }, `Fields missing from the JSON will be deleted with their data (${diff.droppedFields}).`));
      const ok = await confirmDialog({ title: "Delete missing collections and fields?", body, confirm: "Import" });
      if (!ok) return;
    }
    importBtn.disabled = true;
    status.replaceChildren();
    try {
      await pb.collections.import(parsed, delMissing.checked);
      ctx.refreshCollections();
      mount(status, notice("success", `Imported ${parsed.length} collection${parsed.length === 1 ? "" : "s"}.`));
      await load();
      analyse();
    } catch (err) {
      const e = apiError(err);
      const details = Object.entries(flattenErrors((err && err.response && err.response.data) || {}));
      mount(status, notice("error", e.message), details.length ? h("ul", { class: "field-error", "aria-label": "Import errors" }, details.map(([p, m]) => h("li", {}, `${p}: ${m}`))) : null);
      importBtn.disabled = false;
    }
  });

  const load = () =>
    pb.collections.getFullList({ sort: "name", requestKey: null }).then((all) => {
      current = all;
    });
  load()
    .then(() => analyse())
    .catch((err) => mount(status, notice("error", apiError(err).message)));

  root.append(
    h("p", { class: "muted" }, "Paste the JSON of an export (or load its file). Collections are matched by id, then by name: a match is updated, others are created."),
    h("div", { class: "field" }, h("label", { for: fileId }, "Load from a JSON file"), file),
    h("div", { class: "field" }, h("label", { for: jsonId }, "Collections JSON"), json, parseError),
    h("label", { class: "check" }, delMissing, " Delete missing: collections and fields that are not in the JSON are deleted (system ones are kept)"),
    changes,
    status,
    h("div", { class: "editor-actions" }, importBtn),
  );
  return root;
}

/** What importing `items` would do to `current` (only the keys the JSON carries are compared). */
export function detect(current, items, deleteMissing) {
  const byId = new Map(current.map((c) => [c.id, c]));
  const byName = new Map(current.map((c) => [c.name.toLowerCase(), c]));
  const added = [];
  const changed = [];
  const unchanged = [];
  const matched = new Set();
  let droppedFields = 0;
  for (const item of items) {
    const old = (item.id && byId.get(item.id)) || (typeof item.name === "string" && byName.get(item.name.toLowerCase())) || null;
    if (!old) {
      added.push(item);
      continue;
    }
    matched.add(old.id);
    const what = [];
    for (const [k, v] of Object.entries(item)) {
      if (["fields", "created", "updated", "id"].includes(k)) continue;
      if (!same(v, old[k])) what.push(k === "indexes" ? "indexes" : k === "name" ? `renamed from ${old.name}` : k);
    }
    if (Array.isArray(item.fields)) {
      const newF = [];
      const changedF = [];
      const seen = new Set();
      for (const f of item.fields) {
        const of = old.fields.find((x) => (f.id && x.id === f.id) || x.name === f.name);
        if (!of) {
          newF.push(f.name);
          continue;
        }
        seen.add(of.id);
        if (of.name !== f.name) changedF.push(`${of.name} → ${f.name}`);
        else if (Object.entries(f).some(([k, v]) => k !== "id" && !same(v, of[k]))) changedF.push(f.name);
      }
      const missing = old.fields.filter((x) => !seen.has(x.id) && !x.system);
      if (newF.length) what.push(`new fields: ${newF.join(", ")}`);
      if (changedF.length) what.push(`changed fields: ${changedF.join(", ")}`);
      if (missing.length) {
        if (deleteMissing) {
          what.push(`deleted fields: ${missing.map((x) => x.name).join(", ")}`);
          droppedFields += missing.length;
        } else what.push(`kept fields not in the JSON: ${missing.map((x) => x.name).join(", ")}`);
      }
      if (!newF.length && !changedF.length && !(missing.length && deleteMissing)) {
        // only "kept fields" is not a change
        if (what.length === 1 && what[0].startsWith("kept fields")) what.pop();
      }
    }
    if (what.length) changed.push([item, what]);
    else unchanged.push(old);
  }
  const deleted = deleteMissing ? current.filter((c) => !matched.has(c.id) && !c.system) : [];
  return { added, changed, deleted, unchanged, droppedFields };
}

function same(a, b) {
  if (a === b) return true;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if (!same(a[k], b[k])) return false;
  return true;
}
