// The rules playground of a collection (`#/collections/{name}/playground`): act as a guest or as
// any auth record, see the records the list or view rule lets that requester have, and for a
// record, which top-level part of the rule admits or refuses it. The server applies the rules
// (POST /api/hearth/collections/{name}/rules-playground): the page only shows its answers.
import { apiError, field, h, mount, notice } from "./dom.js";
import { jsonText, pager, table } from "./ops-pages.js";

const PER_PAGE = 20;
const STALE = new Error("stale answer"); // thrown past an answer a newer request replaced

/** How an auth record is named on the page: its e-mail, username or name, else its id. */
function recordLabel(r) {
  return r.email || r.username || r.name || r.id;
}

/** A record's values without the keys every record has, as one line of JSON text. */
function summary(r) {
  const { id, collectionId, collectionName, expand, ...rest } = r;
  return jsonText(rest, 140);
}

export function playgroundPage(pb, name) {
  const endpoint = `/api/hearth/collections/${encodeURIComponent(name)}/rules-playground`;
  let actor = null; // null: a guest; else {collection, id, label}
  let ruleKind = "list";
  let explained = "";

  const who = h("p", { class: "ops-who", role: "status" });
  const guestBtn = h("button", { type: "button", class: "btn" }, "Act as a guest");
  const authSelect = h("select", { name: "authCollection" });
  const search = field("Search auth records", { type: "search", name: "authSearch", autocomplete: "off", placeholder: "e-mail, username or id" });
  const found = h("ul", { class: "ops-found", "aria-label": "Auth records found" });
  const ruleSelect = h("select", { name: "rule" }, h("option", { value: "list" }, "List rule (listRule)"), h("option", { value: "view" }, "View rule (viewRule)"));
  const ruleText = h("div", { class: "ops-rule" });
  const visible = h("div", { class: "ops-area", "aria-live": "polite" });
  const everything = h("div", { class: "ops-area" });
  const recordId = field("Record id", { type: "text", name: "record", autocomplete: "off" });
  const explanation = h("div", { class: "ops-explain", "aria-live": "polite" });

  const body = (extra) => ({
    auth: actor ? { collection: actor.collection, id: actor.id } : null,
    rule: ruleKind,
    ...extra,
  });

  const showWho = () => {
    mount(who, "Acting as ", actor ? h("strong", {}, `${actor.label} (${actor.collection})`) : h("strong", {}, "a guest"), ".");
    guestBtn.disabled = actor === null;
  };

  // Each area shows only the answer to its latest request: an answer for the previous requester
  // or rule may arrive after the one for the current one.
  const latest = { visible: 0, explain: 0, everything: 0 };
  const ask = async (area, extra) => {
    const n = ++latest[area];
    const res = await pb.send(endpoint, { method: "POST", body: body(extra), requestKey: null });
    if (n !== latest[area]) throw STALE;
    return res;
  };

  const loadVisible = async (page = 1) => {
    visible.setAttribute("aria-busy", "true");
    try {
      const res = await ask("visible", { page, perPage: PER_PAGE });
      mount(ruleText, ruleLine(res));
      mount(
        visible,
        h("p", {}, res.superuser ? "A superuser: the rules do not apply." : `${res.totalItems} record(s) can be ${ruleKind === "list" ? "listed" : "viewed"}.`),
        table("Records this requester gets", [["Id", (r) => h("code", {}, r.id)], ["Values (as that requester sees them)", summary]], res.items, "No records."),
        pager(res, loadVisible),
      );
    } catch (err) {
      if (err !== STALE) mount(visible, notice("error", apiError(err).message));
    } finally {
      visible.removeAttribute("aria-busy");
    }
  };

  const explain = async (rid) => {
    explained = rid;
    recordId.input.value = rid;
    mount(explanation, h("p", { class: "muted" }, "Checking…"));
    try {
      const res = await ask("explain", { record: rid, perPage: 1 });
      mount(explanation, explanationOf(res));
    } catch (err) {
      if (err !== STALE) mount(explanation, notice("error", apiError(err).message));
    }
  };

  let everythingPage = 1;
  const loadEverything = async (page = everythingPage) => {
    everythingPage = page;
    const n = ++latest.everything;
    try {
      const res = await pb.collection(name).getList(page, PER_PAGE, { requestKey: null });
      // Whether the rule admits each of these records, for the requester acting now.
      const ids = res.items.map((r) => r.id);
      const checked = ids.length ? (await pb.send(endpoint, { method: "POST", body: body({ check: ids, perPage: 1 }), requestKey: null })).checked : {};
      if (n !== latest.everything) return;
      mount(
        everything,
        table(
          "All records",
          [
            ["Id", (r) => h("code", {}, r.id)],
            [`Gets it (${ruleKind} rule)`, (r) => h("span", { class: checked[r.id] ? "ops-yes" : "ops-no" }, h("span", { class: "ops-mark" }, checked[r.id] ? "yes" : "no"))],
            ["Values", summary],
            ["Actions", (r) => h("button", { type: "button", class: "btn btn-small", "aria-label": `Explain record ${r.id}`, onclick: () => explain(r.id) }, "Explain")],
          ],
          res.items,
          "The collection has no records.",
        ),
        pager(res, loadEverything),
      );
    } catch (err) {
      if (n === latest.everything) mount(everything, notice("error", apiError(err).message));
    }
  };

  const refresh = () => {
    showWho();
    loadVisible(1);
    loadEverything();
    if (explained) explain(explained);
  };

  const findAuth = async () => {
    const coll = authSelect.value;
    if (!coll) return;
    const q = search.input.value.trim();
    const filter = q ? pb.filter("id ~ {:q} || email ~ {:q}", { q }) : "";
    try {
      const res = await pb.collection(coll).getList(1, 10, { filter, requestKey: null });
      mount(
        found,
        res.items.length
          ? res.items.map((r) =>
              h(
                "li",
                {},
                h("button", {
                  type: "button",
                  class: "btn btn-small",
                  onclick: () => {
                    actor = { collection: coll, id: r.id, label: recordLabel(r) };
                    refresh();
                  },
                }, `Act as ${recordLabel(r)}`),
                " ",
                h("code", {}, r.id),
              ),
            )
          : h("li", { class: "muted" }, "No records found."),
      );
    } catch (err) {
      mount(found, h("li", {}, notice("error", apiError(err).message)));
    }
  };

  guestBtn.addEventListener("click", () => {
    actor = null;
    refresh();
  });
  ruleSelect.addEventListener("change", () => {
    ruleKind = ruleSelect.value;
    refresh();
  });
  authSelect.addEventListener("change", findAuth);
  let timer = 0;
  search.input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(findAuth, 250);
  });
  const searchForm = h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); findAuth(); } }, h("label", { class: "ops-control" }, h("span", {}, "Auth collection"), authSelect), search.wrap);
  const explainForm = h("form", { class: "ops-filters", onsubmit: (e) => { e.preventDefault(); if (recordId.input.value.trim()) explain(recordId.input.value.trim()); } },
    recordId.wrap, h("button", { type: "submit", class: "btn" }, "Explain"));

  pb.collections
    .getFullList({ filter: 'type = "auth"', fields: "name", requestKey: null })
    .then((items) => {
      const names = items.map((c) => c.name).sort((a, b) => Number(a.startsWith("_")) - Number(b.startsWith("_")) || a.localeCompare(b));
      mount(authSelect, names.map((n) => h("option", { value: n }, n)));
      findAuth();
    })
    .catch((err) => mount(found, h("li", {}, notice("error", apiError(err).message))));
  refresh();

  return h(
    "section",
    { class: "ops ops-playground" },
    h("div", { class: "ops-head" }, h("div", {}, h("h1", {}, `Rules playground: ${name}`), h("p", { class: "muted" }, "Which records a user or a guest can list or view, and why a record is refused.")), h("a", { class: "btn", href: `#/collections/${encodeURIComponent(name)}` }, "Back to the records")),
    h("div", { class: "ops-grid" },
      h("section", { class: "ops-panel", "aria-labelledby": "pg-as" }, h("h2", { id: "pg-as" }, "Act as"), who, guestBtn, searchForm, found),
      h("section", { class: "ops-panel", "aria-labelledby": "pg-rule" }, h("h2", { id: "pg-rule" }, "Rule"), h("label", { class: "ops-control" }, h("span", {}, "Rule to apply"), ruleSelect), ruleText),
    ),
    h("section", { class: "ops-sub", "aria-labelledby": "pg-visible" }, h("h2", { id: "pg-visible" }, "Records this requester gets"), visible),
    h("section", { class: "ops-sub", "aria-labelledby": "pg-explain" }, h("h2", { id: "pg-explain" }, "Why is a record admitted or refused?"), explainForm, explanation, h("h3", {}, "All records (as a superuser sees them)"), everything),
  );
}

function ruleLine(res) {
  if (res.access === "superusers") return h("p", {}, "Superusers only (no rule is set).");
  if (res.access === "everyone") return h("p", {}, "Everyone (the rule is empty).");
  return h("pre", { class: "ops-pre", "aria-label": "The rule" }, res.expression);
}

function explanationOf(res) {
  const rec = res.record;
  const verdict = h("p", { class: `ops-verdict ${rec.allowed ? "ops-yes" : "ops-no"}` }, `Record ${rec.id} is ${rec.allowed ? "admitted" : "refused"}`, ` by the ${res.rule} rule.`);
  if (res.superuser) return [verdict, h("p", { class: "muted" }, "Superusers pass every rule.")];
  if (res.access !== "expression") return [verdict, ruleLine(res)];
  const how = rec.operator === "||" ? "Any one part admits the record (||):" : rec.operator === "&&" ? "Every part must admit the record (&&):" : "The rule has one part:";
  return [
    verdict,
    rec.error ? notice("error", rec.error) : null,
    h("p", {}, how),
    partsList(rec.parts, "Rule parts"),
  ];
}

/** The parts as a list; a part made of parts (`&&`/`||` in parentheses) has its own list. */
function partsList(parts, label) {
  return h(
    "ul",
    { class: "ops-parts", "aria-label": label },
    parts.map((p) =>
      h(
        "li",
        { class: p.result === true ? "ops-yes" : "ops-no" },
        h("span", { class: "ops-mark" }, p.result === true ? "true" : p.result === false ? "false" : "error"),
        " ",
        h("code", {}, p.expression),
        p.error ? h("span", { class: "muted" }, ` (${p.error})`) : null,
        p.parts ? partsList(p.parts, `Parts of ${p.expression} (${p.operator === "||" ? "any one" : "every one"})`) : null,
      ),
    ),
  );
}
