// The superuser login page and the signed-in shell: a top bar, the collections sidebar (with
// search) and the main area, whose view comes from the page module that owns the route (VIEWS).
import { collectionEditor } from "./collection-editor.js";
import { apiError, field, h, mount, notBuilt, notice } from "./dom.js";
import { logsPage } from "./logs-page.js";
import { auditPage, jobsPage, playgroundPage, realtimePage, webhooksPage } from "./ops-pages.js";
import { recordsPage } from "./records-page.js";
import { settingsPage } from "./settings-pages.js";

export function loginPage(pb, onSignedIn) {
  const email = field("Email", { name: "identity", type: "email", autocomplete: "username", required: true, autofocus: true });
  const password = field("Password", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const status = h("div", { class: "status" });
  const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Login");
  const forgot = h("p", { class: "aside" }, h("a", { href: "#/request-password-reset" }, "Forgotten password"));
  const form = h("form", {}, email.wrap, password.wrap, forgot, status, btn);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    btn.disabled = true;
    status.replaceChildren();
    try {
      // The SDK keeps the token in localStorage ("pocketbase_auth"), as PocketBase's dashboard does.
      await pb.collection("_superusers").authWithPassword(email.input.value, password.input.value);
      onSignedIn();
    } catch (err) {
      const e = apiError(err);
      const message = e.status === 400 ? "Invalid login credentials." : e.message;
      status.append(notice("error", message));
    } finally {
      btn.disabled = false;
    }
  });
  return h("main", { class: "center" }, h("section", { class: "card" }, h("h1", {}, "Superuser login"), form));
}

/** A superuser asks for a reset mail; its link opens #/auth/confirm-password-reset/… */
export function requestPasswordResetPage(pb) {
  const email = field("Email", { name: "email", type: "email", autocomplete: "username", required: true, autofocus: true });
  const status = h("div", { class: "status" });
  const btn = h("button", { type: "submit", class: "btn btn-primary" }, "Send recovery link");
  const form = h("form", {}, email.wrap, status, btn);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    btn.disabled = true;
    status.replaceChildren();
    try {
      await pb.collection("_superusers").requestPasswordReset(email.input.value);
      // The API answers the same whether or not the address has an account; so does the page.
      form.replaceWith(notice("success", `Check ${email.input.value} for the recovery link.`));
    } catch (err) {
      status.append(notice("error", apiError(err).message));
    } finally {
      btn.disabled = false;
    }
  });
  const back = h("p", { class: "aside" }, h("a", { href: "#/login" }, "Back to login"));
  return h("main", { class: "center" }, h("section", { class: "card" }, h("h1", {}, "Forgotten superuser password"), form, back));
}

// A success message the next page shows once (a save that navigates away says so there); kept
// here because the shell is built anew for every route.
let pendingNotice = "";

/** The shell around a view; `view` is the main area's content for the current route. */
export function shell(pb, route, onSignedOut) {
  const who = (pb.authStore.record && pb.authStore.record.email) || "";
  const logout = h("button", { type: "button", class: "btn" }, "Logout");
  logout.addEventListener("click", () => {
    pb.authStore.clear();
    onSignedOut();
  });
  const sidebar = collectionsSidebar(pb, route, onSignedOut);
  // What a page may need of the shell: the query of the hash, and a way to show the sidebar's
  // collections again after one was created, renamed or deleted.
  const query = new URLSearchParams(window.location.hash.split("?")[1] || "");
  const ctx = {
    query,
    refreshCollections: () => sidebar.refresh(),
    noticeNext: (text) => { pendingNotice = text; },
    takeNotice: () => { const text = pendingNotice; pendingNotice = ""; return text; },
  };
  const main = h("main", { class: "content", id: "content" }, view(pb, route, ctx));
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/collections" }, "Hearth"),
      h("nav", { "aria-label": "Sections" }, navLink("#/collections", "Collections", route), navLink("#/logs", "Logs", route), navLink("#/realtime", "Realtime", route), navLink("#/jobs", "Jobs", route), navLink("#/webhooks", "Webhooks", route), navLink("#/audit", "Audit", route), navLink("#/settings", "Settings", route)),
      h("span", { class: "who" }, who),
      logout,
    ),
    h("div", { class: "body" }, sidebar, main),
  );
}

function navLink(href, text, route) {
  const current = route === href.slice(1) || route.startsWith(href.slice(1) + "/");
  return h("a", { href, "aria-current": current ? "page" : false }, text);
}

function collectionsSidebar(pb, route, onSignedOut) {
  const search = field("Search collections", { type: "search", name: "search", autocomplete: "off" });
  const list = h("ul", { class: "collections", "aria-label": "Collections" });
  const empty = h("p", { class: "muted", hidden: true }, "No collections found.");
  let all = [];
  const render = () => {
    const q = search.input.value.trim().toLowerCase();
    const shown = all.filter((c) => !q || c.name.toLowerCase().includes(q) || c.id.toLowerCase().includes(q));
    mount(
      list,
      shown.map((c) => {
        const href = `#/collections/${encodeURIComponent(c.name)}`;
        const current = route === href.slice(1);
        return h("li", {}, h("a", { href, "aria-current": current ? "page" : false, title: c.name }, c.name, c.system ? h("span", { class: "tag" }, "system") : null));
      }),
    );
    empty.hidden = shown.length > 0;
  };
  search.input.addEventListener("input", render);
  const load = () => pb.collections
    .getFullList({ fields: "id,name,type,system" })
    .then((items) => {
      // Own collections first, then the system ones, each by name (PocketBase's sidebar order).
      all = items.sort((a, b) => Number(a.system) - Number(b.system) || a.name.localeCompare(b.name));
      render();
    })
    .catch((err) => {
      const e = apiError(err);
      if (e.status === 401 || e.status === 403) {
        pb.authStore.clear();
        onSignedOut();
        return;
      }
      empty.hidden = false;
      empty.textContent = `Could not load the collections: ${e.message}`;
    });
  load();
  const newLink = h("a", { class: "btn new-collection", href: "#/collections/new" }, "New collection");
  const aside = h("aside", { class: "sidebar" }, search.wrap, list, empty, newLink);
  aside.refresh = load;
  return aside;
}

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % in a hand-typed URL
  }
}

// The views inside the shell, by route; each page module owns its routes' content. `rest` is the
// route after the prefix, `query` the hash's query string (`#/logs?filter=…`).
const VIEWS = [
  [/^\/collections\/?$/, () => notBuilt("Collections", "Pick a collection on the left, or make your own with New collection.")],
  [/^\/collections\/new$/, (pb, m, ctx) => collectionEditor(pb, "", ctx)],
  [/^\/collections\/([^/]+)\/edit$/, (pb, m, ctx) => collectionEditor(pb, decoded(m[1]), ctx)],
  [/^\/collections\/([^/]+)\/playground$/, (pb, m, ctx) => playgroundPage(pb, decoded(m[1]), ctx)],
  [/^\/collections\/([^/]+)$/, (pb, m, ctx) => recordsPage(pb, decoded(m[1]), ctx)],
  [/^\/logs$/, (pb, m, ctx) => logsPage(pb, ctx)],
  [/^\/settings(?:\/(.*))?$/, (pb, m, ctx) => settingsPage(pb, m[1] || "", ctx)],
  [/^\/realtime$/, (pb, m, ctx) => realtimePage(pb, ctx)],
  [/^\/jobs$/, (pb, m, ctx) => jobsPage(pb, ctx)],
  [/^\/webhooks$/, (pb, m, ctx) => webhooksPage(pb, ctx)],
  [/^\/audit$/, (pb, m, ctx) => auditPage(pb, ctx)],
];

function view(pb, route, ctx) {
  for (const [pattern, page] of VIEWS) {
    const m = route.match(pattern);
    if (m) return page(pb, m, ctx);
  }
  return notBuilt("Not built yet", `This page (#${decoded(route)}) is not part of the dashboard yet. See /api/docs for the API.`);
}
