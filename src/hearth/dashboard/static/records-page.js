// The records of one collection (`#/collections/{name}`), as PocketBase's records view: a header
// (name, "Edit collection", refresh, "New record"), a filter bar (an expression in the filter
// language, or a plain term searched with `~` over the text fields), a table sorted by a click on
// its headers, with a column chooser, row selection and bulk delete, "Load more" paging and the
// total. Filter and sort live in the hash's query (`?filter=…&sort=…`) so a view can be linked
// and survives a reload; `&record=ID` opens that record. Rows open the editor (record-editor.js).
import { apiError, h, mount, notBuilt, notice } from "./dom.js";
import { autoClose, confirmDialog, isImage, openRecordEditor, recordLabel, searchFilter } from "./record-editor.js";

const PER_PAGE = 40;

export function recordsPage(pb, name, ctx) {
  const root = h("section", { class: "records", "aria-busy": "true" }, h("h1", {}, name), h("p", { class: "muted" }, "Loading…"));
  pb.collections
    .getOne(name, { requestKey: null })
    .then((collection) => mount(root, ...build(pb, collection, ctx)))
    .catch((err) => {
      const e = apiError(err);
      mount(root, e.status === 404 ? notBuilt(name, "There is no collection with this name.") : h("div", {}, h("h1", {}, name), notice("error", e.message)));
    })
    .finally(() => root.removeAttribute("aria-busy"));
  return root;
}

function truncate(text, max = 60) {
  const s = String(text);
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

function hiddenKey(collection) {
  return `hearth.records.hiddenColumns.${collection.id}`;
}

function loadHidden(collection) {
  try {
    const v = JSON.parse(localStorage.getItem(hiddenKey(collection)) || "[]");
    return new Set(Array.isArray(v) ? v : []);
  } catch {
    return new Set();
  }
}

function build(pb, collection, ctx) {
  const readOnly = collection.type === "view";
  const query = ctx.query || new URLSearchParams();
  const state = { filter: query.get("filter") || "", sort: query.get("sort") || "", page: 0, total: 0, items: [] };
  const selected = new Set();
  const hidden = loadHidden(collection);
  let fileToken = "";
  const relations = collection.fields.filter((f) => f.type === "relation" && !f.hidden).map((f) => f.name).join(",");

  // Columns: id first, then the schema's fields (no passwords or token keys).
  const columns = [{ name: "id", type: "id" }, ...collection.fields.filter((f) => f.name !== "id" && f.type !== "password" && !(collection.type === "auth" && f.name === "tokenKey"))];

  // The hash is rewritten in place (no hashchange, no re-render), and only while this view is shown.
  const here = `#/collections/${encodeURIComponent(collection.name)}`;
  const isShown = () => window.location.hash.split("?")[0] === here;
  const syncHash = () => {
    if (!isShown()) return;
    const q = new URLSearchParams();
    if (state.filter) q.set("filter", state.filter);
    if (state.sort) q.set("sort", state.sort);
    const open = new URLSearchParams(window.location.hash.split("?")[1] || "").get("record");
    if (open) q.set("record", open);
    const qs = q.toString();
    history.replaceState(null, "", `#/collections/${encodeURIComponent(collection.name)}${qs ? "?" + qs : ""}`);
  };
  const setOpenRecord = (id) => {
    if (!isShown()) return;
    const q = new URLSearchParams(window.location.hash.split("?")[1] || "");
    if (id) q.set("record", id);
    else q.delete("record");
    const qs = q.toString();
    history.replaceState(null, "", `#/collections/${encodeURIComponent(collection.name)}${qs ? "?" + qs : ""}`);
  };

  // --- header ---
  const refreshBtn = h("button", { type: "button", class: "btn", onclick: () => reload() }, "Refresh");
  const newBtn = readOnly ? null : h("button", { type: "button", class: "btn btn-accent", onclick: () => openEditor(null) }, "New record");
  const head = h("header", { class: "page-head" },
    h("h1", {}, h("a", { href: "#/collections", class: "crumb" }, "Collections"), " / ", collection.name, readOnly ? h("span", { class: "tag" }, " view (read-only)") : null),
    h("div", { class: "page-actions" }, h("a", { class: "btn", href: `#/collections/${encodeURIComponent(collection.name)}/edit` }, "Edit collection"), refreshBtn, newBtn),
  );

  // --- filter bar ---
  const filterInput = h("input", { id: "records-filter", type: "search", name: "filter", autocomplete: "off", value: state.filter, placeholder: 'Search term or filter, e.g. created > "2024-01-01" && title ~ "x"' });
  const clearBtn = h("button", { type: "button", class: "btn", hidden: !state.filter, onclick: () => { filterInput.value = ""; state.filter = ""; clearBtn.hidden = true; reload(); } }, "Clear");
  const filterForm = h("form", { class: "filter-bar", role: "search" },
    h("label", { for: filterInput.id, class: "visually-hidden" }, "Filter"),
    filterInput,
    h("button", { type: "submit", class: "btn" }, "Search"),
    clearBtn);
  filterForm.addEventListener("submit", (e) => {
    e.preventDefault();
    state.filter = filterInput.value.trim();
    clearBtn.hidden = !state.filter;
    reload();
  });

  // --- column chooser ---
  const chooser = autoClose(h("details", { class: "menu columns-menu" },
    h("summary", { class: "btn" }, "Columns"),
    h("fieldset", { class: "menu-list" }, h("legend", {}, "Shown columns"),
      columns.map((c) => {
        const id = `col-${c.name}`;
        const box = h("input", { type: "checkbox", id, checked: !hidden.has(c.name) });
        box.addEventListener("change", () => {
          if (box.checked) hidden.delete(c.name);
          else hidden.add(c.name);
          localStorage.setItem(hiddenKey(collection), JSON.stringify([...hidden]));
          renderTable();
        });
        return h("div", { class: "check" }, box, h("label", { for: id }, c.name));
      }))));

  // --- bulk bar ---
  const bulkCount = h("span", {});
  const bulk = h("div", { class: "bulk-bar", hidden: true, role: "region", "aria-label": "Selected records" },
    bulkCount,
    h("button", { type: "button", class: "btn", onclick: () => { selected.clear(); renderTable(); } }, "Reset"),
    h("button", { type: "button", class: "btn", onclick: () => downloadSelected() }, "Download JSON"),
    h("button", { type: "button", class: "btn btn-danger btn-fill", onclick: () => bulkDelete() }, "Delete selected"));

  const status = h("div", { class: "status", "aria-live": "polite" });
  // A notice brought from the page before (e.g. "Created the collection …"): its own box, which
  // the table's loads leave alone, gone on the next load the user asks for.
  const arrived = ctx.takeNotice();
  const banner = h("div", { class: "status", "aria-live": "polite" }, arrived ? notice("success", arrived) : null);
  const table = h("table", { class: "records-table" });
  const empty = h("div", { class: "empty", hidden: true });
  const total = h("span", { class: "total", role: "status" });
  const more = h("button", { type: "button", class: "btn", hidden: true, onclick: () => load(state.page + 1) }, "Load more");
  const foot = h("footer", { class: "records-foot" }, total, more);

  // --- the table ---
  function sortDir(col) {
    if (state.sort === col) return "ascending";
    if (state.sort === `-${col}`) return "descending";
    return "none";
  }

  function cell(col, rec) {
    const v = rec[col.name];
    if (col.name === "id") return h("code", { class: "id-chip" }, v);
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) return h("span", { class: "muted" }, "N/A");
    switch (col.type) {
      case "bool":
        return h("span", { class: v ? "badge badge-yes" : "badge" }, v ? "True" : "False");
      case "select":
        return (Array.isArray(v) ? v : [v]).map((x) => h("span", { class: "badge" }, x));
      case "relation": {
        // Names from the expanded records where the API gave them, else the ids.
        const list = Array.isArray(v) ? v : [v];
        const ex = rec.expand && rec.expand[col.name];
        const byId = new Map((Array.isArray(ex) ? ex : ex ? [ex] : []).map((r) => [r.id, recordLabel(r, null)]));
        const chip = (x) => (byId.has(x) && byId.get(x) !== x ? h("span", { class: "badge", title: x }, truncate(byId.get(x), 30)) : h("code", { class: "id-chip" }, x));
        return [...list.slice(0, 3).map(chip), list.length > 3 ? h("span", { class: "muted" }, ` (${list.length - 3} more)`) : null];
      }
      case "file": {
        const list = Array.isArray(v) ? v : [v];
        return list.slice(0, 3).map((fn) => isImage(fn)
          ? h("img", { class: "thumb", alt: fn, title: fn, width: 40, height: 40, loading: "lazy", src: pb.files.getURL(rec, fn, { thumb: "100x100", ...(fileToken ? { token: fileToken } : {}) }) })
          : h("span", { class: "badge", title: fn }, truncate(fn, 24)));
      }
      case "json":
        return h("code", { class: "json-cell" }, truncate(JSON.stringify(v), 50));
      case "geoPoint":
        return `${v.lon}, ${v.lat}`;
      case "date":
      case "autodate":
        return h("span", { class: "date" }, String(v).replace(/\.\d+Z$/, "Z").replace(/Z$/, " UTC"));
      default:
        return h("span", { title: typeof v === "string" && v.length > 60 ? v : null }, truncate(typeof v === "object" ? JSON.stringify(v) : v));
    }
  }

  function renderTable() {
    const shown = columns.filter((c) => !hidden.has(c.name));
    const allBox = h("input", { type: "checkbox", "aria-label": "Select all shown records", checked: state.items.length > 0 && state.items.every((r) => selected.has(r.id)) });
    allBox.addEventListener("change", () => {
      for (const r of state.items) allBox.checked ? selected.add(r.id) : selected.delete(r.id);
      renderTable();
    });
    const headRow = h("tr", {},
      readOnly ? null : h("th", { class: "check-col" }, allBox),
      shown.map((c) => {
        const dir = sortDir(c.name);
        const btn = h("button", { type: "button", class: "sort" }, c.name, h("span", { "aria-hidden": "true" }, dir === "ascending" ? " ↑" : dir === "descending" ? " ↓" : ""));
        btn.addEventListener("click", () => {
          state.sort = state.sort === c.name ? `-${c.name}` : c.name;
          reload();
        });
        return h("th", { "aria-sort": dir, scope: "col" }, btn);
      }));
    const rows = state.items.map((rec) => {
      const box = readOnly ? null : h("input", { type: "checkbox", "aria-label": `Select ${rec.id}`, checked: selected.has(rec.id) });
      if (box) {
        box.addEventListener("change", () => {
          box.checked ? selected.add(rec.id) : selected.delete(rec.id);
          updateBulk();
          allBox.checked = state.items.every((r) => selected.has(r.id));
        });
      }
      const tr = h("tr", { class: "row", tabindex: 0, "data-id": rec.id, "aria-label": `Open record ${rec.id}` },
        box ? h("td", { class: "check-col" }, box) : null,
        shown.map((c) => h("td", { "data-col": c.name }, cell(c, rec))));
      tr.addEventListener("click", (e) => {
        if (e.target.closest("input, a, button, .check-col")) return;
        openEditor(rec);
      });
      tr.addEventListener("keydown", (e) => {
        if (e.target !== tr || (e.key !== "Enter" && e.key !== " ")) return;
        e.preventDefault();
        openEditor(rec);
      });
      return tr;
    });
    mount(table, h("caption", { class: "visually-hidden" }, `Records of ${collection.name}`), h("thead", {}, headRow), h("tbody", {}, rows));
    updateBulk();
  }

  function updateBulk() {
    bulk.hidden = selected.size === 0;
    bulkCount.textContent = `${selected.size} selected`;
  }

  // --- loading ---
  let loadSeq = 0;
  async function load(page) {
    const seq = ++loadSeq;
    status.replaceChildren();
    more.disabled = true;
    try {
      if (!fileToken && collection.fields.some((f) => f.type === "file" && f.protected)) {
        fileToken = await pb.files.getToken({ requestKey: null }).catch(() => "");
      }
      const res = await pb.collection(collection.id).getList(page, PER_PAGE, {
        filter: searchFilter(pb, collection, state.filter),
        sort: state.sort || (readOnly ? "" : "-@rowid"),
        expand: relations || undefined,
        requestKey: null,
      });
      if (seq !== loadSeq) return; // a newer load (sort, filter, refresh) started meanwhile
      state.page = page;
      state.total = res.totalItems;
      state.items = page === 1 ? res.items : [...state.items, ...res.items];
      renderTable();
      total.textContent = `Total: ${res.totalItems}`;
      more.hidden = state.items.length >= res.totalItems || res.items.length === 0;
      empty.hidden = state.items.length > 0;
      if (!state.items.length) {
        mount(empty, h("p", {}, state.filter ? "No records match the filter." : "No records yet."),
          state.filter ? h("button", { type: "button", class: "btn", onclick: () => clearBtn.click() }, "Clear filter") : null,
          !state.filter && !readOnly ? h("button", { type: "button", class: "btn", onclick: () => openEditor(null) }, "New record") : null);
      }
    } catch (err) {
      if (seq !== loadSeq) return;
      const e = apiError(err);
      status.append(notice("error", state.filter && e.status === 400 ? `Invalid filter: ${e.message}` : e.message));
      state.items = [];
      renderTable();
      empty.hidden = true;
      total.textContent = "";
      more.hidden = true;
    } finally {
      more.disabled = false;
    }
  }

  function reload() {
    banner.replaceChildren();
    syncHash();
    selected.clear();
    return load(1);
  }

  function downloadSelected() {
    const data = state.items.filter((r) => selected.has(r.id));
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const a = h("a", { href: url, download: `${collection.name}_${data.length}.json`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  async function bulkDelete() {
    const ids = [...selected];
    if (!ids.length) return;
    const ok = await confirmDialog(`Delete ${ids.length} selected ${ids.length === 1 ? "record" : "records"}? This cannot be undone.`, "Delete");
    if (!ok) return;
    const failed = [];
    for (const id of ids) {
      try {
        await pb.collection(collection.id).delete(id, { requestKey: null });
      } catch (err) {
        failed.push(`${id}: ${apiError(err).message}`);
      }
    }
    await reload();
    status.replaceChildren(failed.length
      ? notice("error", `Could not delete ${failed.length}: ${failed.join("; ")}`)
      : notice("success", `Deleted ${ids.length} ${ids.length === 1 ? "record" : "records"}.`));
  }

  function openEditor(rec) {
    setOpenRecord(rec ? rec.id : "");
    openRecordEditor(pb, collection, rec, {
      onSaved: (saved) => { reload().then(() => status.replaceChildren(notice("success", `Saved ${saved.id}.`))); },
      onDeleted: (id) => { reload().then(() => status.replaceChildren(notice("success", `Deleted ${id}.`))); },
      onClosed: () => setOpenRecord(""),
    });
  }

  renderTable();
  load(1).then(() => {
    const open = query.get("record");
    if (!open) return;
    pb.collection(collection.id).getOne(open, { requestKey: null }).then(openEditor).catch((err) => status.append(notice("error", `Record ${open}: ${apiError(err).message}`)));
  });

  const tools = h("div", { class: "records-tools" }, filterForm, chooser);
  return [head, tools, readOnly ? null : bulk, banner, status, h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `${collection.name} records` }, table), empty, foot];
}
