// Hearth's own capabilities beyond PocketBase: the rules playground of a collection
// (`#/collections/{name}/playground`, in playground.js), a live tail of realtime events
// (`#/realtime`), durable jobs (`#/jobs`), webhooks and their deliveries (`#/webhooks`) and the
// audit trail (`#/audit`). Every value from the API lands as text (dom.js `h`).
import { apiError, field, h, mount, notice } from "./dom.js";
export { playgroundPage } from "./playground.js";

const PER_PAGE = 30;

/** A table: `columns` are [heading, cell(row) → text or node]; an empty list says `empty`. */
export function table(label, columns, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "muted ops-empty" }, empty);
  return h(
    "div",
    // A wide table scrolls sideways on a phone: focusable so the keyboard can scroll it.
    { class: "ops-table-wrap", tabindex: "0", role: "region", "aria-label": label },
    h(
      "table",
      { class: "ops-table", "aria-label": label },
      h("thead", {}, h("tr", {}, columns.map(([heading]) => h("th", { scope: "col" }, heading)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([heading, cell]) => h("td", { "data-label": heading }, cell(row)))))),
    ),
  );
}

/** "Page x of y" with previous/next buttons; `go(page)` loads another page. */
export function pager(result, go) {
  const pages = Math.max(result.totalPages || 0, 1);
  const prev = h("button", { type: "button", class: "btn", disabled: result.page <= 1, onclick: () => go(result.page - 1) }, "Previous page");
  const next = h("button", { type: "button", class: "btn", disabled: result.page >= pages, onclick: () => go(result.page + 1) }, "Next page");
  const total = result.totalItems >= 0 ? `, ${result.totalItems} in all` : "";
  return h("nav", { class: "ops-pager", "aria-label": "Pages" }, prev, h("span", {}, `Page ${result.page} of ${pages}${total}`), next);
}

/** JSON as text (never markup), cut at `max` characters (the full text in the title). */
export function jsonText(value, max = 160) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const shown = text && text.length > max ? text.slice(0, max) + "…" : text || "";
  return h("code", { class: "ops-json", title: text && text.length > max ? text : false }, shown);
}

/** A collapsed block with the whole JSON, pretty-printed. */
function jsonDetails(summary, value) {
  return h("details", { class: "ops-details" }, h("summary", {}, summary), h("pre", { class: "ops-pre" }, JSON.stringify(value, null, 2)));
}

function labelled(label, control) {
  return h("label", { class: "ops-control" }, h("span", {}, label), control);
}

function header(title, intro, ...actions) {
  return h("div", { class: "ops-head" }, h("div", {}, h("h1", {}, title), intro ? h("p", { class: "muted" }, intro) : null), h("div", { class: "ops-actions" }, actions));
}

/** A page area that loads `fetchPage(page)` and renders it with `render(result)`. */
function pagedArea(fetchPage, render) {
  const area = h("div", { class: "ops-area", "aria-live": "polite" });
  let current = 1;
  let latest = 0; // only the latest request's answer is shown (an older one may arrive last)
  const load = async (page = current) => {
    current = page;
    const n = ++latest;
    area.setAttribute("aria-busy", "true");
    try {
      const result = await fetchPage(page);
      if (n === latest) mount(area, render(result, load), pager(result, load));
    } catch (err) {
      if (n === latest) mount(area, notice("error", apiError(err).message));
    } finally {
      if (n === latest) area.removeAttribute("aria-busy");
    }
  };
  area.load = load;
  return area;
}

// ----- jobs -----------------------------------------------------------------------------------

const JOB_STATES = ["", "pending", "running", "done", "failed", "cancelled"];

export function jobsPage(pb) {
  const state = h("select", { name: "state" }, JOB_STATES.map((s) => h("option", { value: s }, s || "Any state")));
  const name = h("input", { type: "search", name: "name", autocomplete: "off", placeholder: "e.g. hearth:webhook" });
  const status = h("div", { class: "status" });
  const act = async (job, action) => {
    status.replaceChildren();
    try {
      await pb.send(`/api/hearth/jobs/${encodeURIComponent(job.id)}/${action}`, { method: "POST", requestKey: null });
      status.append(notice("success", `Job ${job.id} ${action === "retry" ? "will run again" : "was cancelled"}.`));
    } catch (err) {
      status.append(notice("error", apiError(err).message));
    }
    area.load();
  };
  const area = pagedArea(
    (page) => pb.send("/api/hearth/jobs", { query: { page, perPage: PER_PAGE, state: state.value, name: name.value.trim() }, requestKey: null }),
    (result) =>
      table(
        "Jobs",
        [
          ["Name", (j) => j.name],
          ["State", (j) => h("span", { class: `ops-state ops-state-${j.state}` }, j.state)],
          ["Attempts", (j) => `${j.attempts} / ${j.maxAttempts}`],
          ["Payload", (j) => jsonText(j.payload, 80)],
          ["Run at", (j) => j.runAt],
          ["Last error", (j) => j.lastError || "—"],
          ["Created", (j) => j.created],
          ["Finished", (j) => j.finished || "—"],
          [
            "Actions",
            (j) => [
              j.state === "failed" || j.state === "cancelled"
                ? h("button", { type: "button", class: "btn btn-small", "aria-label": `Retry job ${j.id}`, onclick: () => act(j, "retry") }, "Retry")
                : null,
              j.state === "pending"
                ? h("button", { type: "button", class: "btn btn-small", "aria-label": `Cancel job ${j.id}`, onclick: () => act(j, "cancel") }, "Cancel")
                : null,
            ],
          ],
        ],
        result.items,
        "No jobs.",
      ),
  );
  const form = h("form", { class: "ops-filters", role: "search", onsubmit: (e) => { e.preventDefault(); area.load(1); } },
    labelled("State", state), labelled("Job name", name), h("button", { type: "submit", class: "btn" }, "Apply"));
  state.addEventListener("change", () => area.load(1));
  area.load(1);
  return h("section", { class: "ops" }, header("Jobs", "Durable jobs: webhook deliveries, crons and your own (hearth.App.jobs)."), form, status, area);
}

// ----- webhooks -------------------------------------------------------------------------------

export function webhooksPage(pb, ctx) {
  const chosen = ctx.query.get("webhook") || "";
  const list = pagedArea(
    (page) => pb.send("/api/hearth/webhooks", { query: { page, perPage: PER_PAGE }, requestKey: null }),
    (result) =>
      table(
        "Webhooks",
        [
          ["Name", (w) => w.name || "—"],
          ["URL", (w) => h("code", { class: "ops-json" }, w.url)],
          ["Collection", (w) => w.collection],
          ["Events", (w) => w.events.join(", ")],
          ["Filter", (w) => (w.filter ? h("code", { class: "ops-json" }, w.filter) : "—")],
          ["Active", (w) => (w.active ? "yes" : `no${w.disabledReason ? ` (${w.disabledReason})` : ""}`)],
          ["Failures", (w) => String(w.failures)],
          ["Created", (w) => w.created],
          ["Deliveries", (w) => h("a", { href: `#/webhooks?webhook=${encodeURIComponent(w.id)}`, "aria-current": w.id === chosen ? "true" : false, "aria-label": `Deliveries of ${w.name || w.url}` }, "Deliveries")],
        ],
        result.items,
        "No webhooks. Create them with POST /api/hearth/webhooks (see docs/webhooks.md).",
      ),
  );
  list.load(1);
  const parts = [header("Webhooks", "Outbound webhooks and what each delivery answered."), list];
  if (chosen) {
    const deliveries = pagedArea(
      (page) => pb.send(`/api/hearth/webhooks/${encodeURIComponent(chosen)}/deliveries`, { query: { page, perPage: PER_PAGE }, requestKey: null }),
      (result) =>
        table(
          "Deliveries",
          [
            ["Time", (d) => d.created],
            ["Attempt", (d) => String(d.attempt)],
            ["Status", (d) => (d.status ? String(d.status) : "—")],
            ["Latency", (d) => `${d.latency} ms`],
            ["Error", (d) => d.error || "—"],
            ["Response", (d) => jsonText(d.response, 120)],
            ["Message", (d) => d.message],
          ],
          result.items,
          "No deliveries yet.",
        ),
    );
    deliveries.load(1);
    parts.push(h("section", { class: "ops-sub" }, h("h2", {}, "Deliveries of webhook ", h("code", {}, chosen)), h("p", {}, h("a", { href: "#/webhooks" }, "Close")), deliveries));
  }
  return h("section", { class: "ops" }, parts);
}

// ----- audit trail ----------------------------------------------------------------------------

export function auditPage(pb) {
  const filter = field("Filter", { type: "search", name: "filter", autocomplete: "off", placeholder: `collection = "posts" && action = "delete"` });
  const area = pagedArea(
    (page) => pb.send("/api/hearth/audit", { query: { page, perPage: PER_PAGE, sort: "-id", filter: filter.input.value.trim() }, requestKey: null }),
    (result) =>
      table(
        "Audit trail",
        [
          ["Time", (e) => e.created],
          ["Action", (e) => e.action],
          ["Collection", (e) => e.collection],
          ["Record", (e) => h("code", {}, e.record)],
          ["Actor", (e) => [e.actorType, e.actorId ? ` ${e.actorCollection ? e.actorCollection + "/" : ""}${e.actorId}` : ""].join("")],
          ["IP", (e) => e.ip || "—"],
          ["Changes", (e) => [e.before ? jsonDetails("Before", e.before) : null, e.after ? jsonDetails("After", e.after) : null]],
        ],
        result.items,
        "No entries. Choose the audited collections with PATCH /api/hearth/audit/settings (docs/audit.md).",
      ),
  );
  const form = h("form", { class: "ops-filters", role: "search", onsubmit: (e) => { e.preventDefault(); area.load(1); } }, filter.wrap, h("button", { type: "submit", class: "btn" }, "Apply"));
  area.load(1);
  return h("section", { class: "ops" }, header("Audit trail", "Record changes of the audited collections: who, from where, before and after."), form, area);
}

// ----- realtime live tail ---------------------------------------------------------------------

const MAX_EVENTS = 300;

export function realtimePage(pb) {
  const all = h("input", { type: "checkbox", name: "all", checked: true });
  const boxes = h("div", { class: "ops-checks" });
  const status = h("p", { class: "muted", role: "status" }, "Loading the collections…");
  const pause = h("button", { type: "button", class: "btn", "aria-pressed": "false" }, "Pause");
  const clear = h("button", { type: "button", class: "btn" }, "Clear");
  const list = h("ol", { class: "ops-events", "aria-label": "Events" });
  const empty = h("p", { class: "muted" }, "No events yet. Create, change or delete a record to see it here.");
  let names = [];
  let unsubscribes = [];
  let held = [];
  let paused = false;
  let left = false;
  let generation = 0;

  const show = (event) => {
    const r = event.record || {};
    const when = new Date().toISOString().replace("T", " ").slice(0, 23);
    const item = h(
      "li",
      { class: "ops-event" },
      h("div", { class: "ops-event-head" }, h("time", {}, when), h("span", { class: `ops-action ops-action-${event.action}` }, event.action), h("span", {}, r.collectionName || ""), h("code", {}, r.id || "")),
      h("pre", { class: "ops-pre" }, JSON.stringify(r, null, 2)),
    );
    list.prepend(item);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
    empty.hidden = true;
  };
  const onEvent = (event) => {
    if (left) return;
    if (paused) {
      held.push(event);
      pause.textContent = `Resume (${held.length} held)`;
    } else show(event);
  };
  const unsubscribeAll = async () => {
    const fns = unsubscribes;
    unsubscribes = [];
    for (const fn of fns) {
      try {
        await fn();
      } catch {
        // the connection is gone already
      }
    }
  };
  const chosen = () => (all.checked ? names : [...boxes.querySelectorAll("input:checked")].map((b) => b.value));
  const resubscribe = async () => {
    const mine = ++generation;
    await unsubscribeAll();
    const wanted = chosen();
    if (left || mine !== generation) return;
    if (!wanted.length) {
      status.textContent = "Not listening: choose at least one collection.";
      return;
    }
    status.textContent = "Connecting…";
    try {
      for (const name of wanted) {
        const fn = await pb.collection(name).subscribe("*", onEvent);
        if (left || mine !== generation) {
          await fn();
          return;
        }
        unsubscribes.push(fn);
      }
      status.textContent = `Listening to ${all.checked ? "all collections" : wanted.join(", ")}.`;
      status.dataset.listening = "true";
    } catch (err) {
      status.textContent = `Could not subscribe: ${apiError(err).message}`;
    }
  };

  all.addEventListener("change", () => {
    for (const b of boxes.querySelectorAll("input")) b.disabled = all.checked;
    resubscribe();
  });
  pause.addEventListener("click", () => {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    if (!paused) {
      for (const e of held) show(e);
      held = [];
    }
    pause.textContent = paused ? "Resume" : "Pause";
  });
  clear.addEventListener("click", () => {
    list.replaceChildren();
    held = [];
    if (paused) pause.textContent = "Resume";
    empty.hidden = false;
  });
  // Leaving the page (any hash change re-renders the shell): stop listening.
  const leave = () => {
    left = true;
    window.removeEventListener("hashchange", leave);
    unsubscribeAll();
  };
  window.addEventListener("hashchange", leave);

  pb.collections
    .getFullList({ fields: "name,system", requestKey: null })
    .then((items) => {
      names = items.map((c) => c.name).sort();
      mount(
        boxes,
        items
          .sort((a, b) => Number(a.system) - Number(b.system) || a.name.localeCompare(b.name))
          .map((c) => h("label", { class: "ops-check" }, h("input", { type: "checkbox", name: "collection", value: c.name, disabled: true, onchange: resubscribe }), c.name)),
      );
      resubscribe();
    })
    .catch((err) => {
      status.textContent = `Could not load the collections: ${apiError(err).message}`;
    });

  return h(
    "section",
    { class: "ops" },
    header("Realtime", "Record events as the realtime API sends them to you (a superuser sees every event).", pause, clear),
    h("fieldset", { class: "ops-fieldset" }, h("legend", {}, "Collections"), h("label", { class: "ops-check" }, all, "All collections"), boxes),
    status,
    empty,
    list,
  );
}
