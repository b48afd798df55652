// The superuser login page and the signed-in shell: a top bar, the collections sidebar (with
// search) and the main area. Only the sidebar is built; other views say so.
import { apiError, field, h, mount, notice } from "./dom.js";

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

/** The shell around a view; `view` is the main area's content for the current route. */
export function shell(pb, route, onSignedOut) {
  const who = (pb.authStore.record && pb.authStore.record.email) || "";
  const logout = h("button", { type: "button", class: "btn" }, "Logout");
  logout.addEventListener("click", () => {
    pb.authStore.clear();
    onSignedOut();
  });
  const sidebar = collectionsSidebar(pb, route, onSignedOut);
  const main = h("main", { class: "content", id: "content" }, view(route));
  return h(
    "div",
    { class: "shell" },
    h(
      "header",
      { class: "topbar" },
      h("a", { class: "brand", href: "#/collections" }, "Hearth"),
      h("nav", { "aria-label": "Sections" }, navLink("#/collections", "Collections", route), navLink("#/logs", "Logs", route), navLink("#/settings", "Settings", route)),
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
  pb.collections
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
  return h("aside", { class: "sidebar" }, search.wrap, list, empty);
}

function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % in a hand-typed URL
  }
}

function view(route) {
  const name = route.startsWith("/collections/") ? decoded(route.slice("/collections/".length)) : "";
  if (route === "/collections" || route === "/") {
    return notBuilt("Collections", "Pick a collection on the left. Its records view is not built yet.");
  }
  if (name) {
    return notBuilt(name, "The records view and the collection editor are not built yet. The REST API (/api/collections/…) and the API docs at /api/docs already work.");
  }
  return notBuilt("Not built yet", `This page (#${decoded(route)}) is not part of the dashboard yet. See /api/docs for the API.`);
}

function notBuilt(title, text) {
  return h("section", { class: "not-built" }, h("h1", {}, title), h("p", {}, text));
}
