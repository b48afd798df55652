// The dashboard's entry point: one SDK client, and a hash router (`#/…`, as PocketBase's UI) that
// renders a page into #app on every hash change.
import PocketBase from "./pocketbase.es.mjs";
import * as auth from "./auth-pages.js";
import { mount } from "./dom.js";
import { installPage } from "./install-page.js";
import { loginPage, requestPasswordResetPage, shell } from "./shell.js";

// The API is at the directory above /_/ (Hearth may be served under a path prefix).
const path = window.location.pathname;
const base = window.location.origin + path.slice(0, path.lastIndexOf("/_/") + 1);
const pb = new PocketBase(base);
const root = document.getElementById("app");

// Pages that need no sign-in; each takes the rest of the path (the token).
const PUBLIC = {
  "/auth/confirm-password-reset/": (token) => auth.confirmPasswordReset(pb, token),
  "/auth/confirm-verification/": (token) => auth.confirmVerification(pb, token),
  "/auth/confirm-email-change/": (token) => auth.confirmEmailChange(pb, token),
  "/auth/oauth2-redirect-success": () => auth.oauth2Redirect(true),
  "/auth/oauth2-redirect-failure": () => auth.oauth2Redirect(false),
};

function currentRoute() {
  const hash = window.location.hash.replace(/^#/, "");
  const route = hash.split("?")[0];
  return route.startsWith("/") ? route : "/" + route;
}

function go(route) {
  if (currentRoute() === route) render();
  else window.location.hash = "#" + route;
}

function render() {
  const route = currentRoute();
  for (const [prefix, page] of Object.entries(PUBLIC)) {
    if (route.startsWith(prefix)) {
      document.title = "Hearth";
      mount(root, page(route.slice(prefix.length))); // tokens are URL-safe as they are
      return;
    }
  }
  // PocketBase prints `#/pbinstall/…`; the shorter spelling is accepted too.
  const install = route.match(/^\/pbinstall?\/(.*)$/);
  if (install) {
    document.title = "Create your first superuser - Hearth";
    mount(root, installPage(pb, install[1], () => go("/collections")));
    return;
  }
  const signedIn = pb.authStore.isValid && pb.authStore.isSuperuser;
  if (!signedIn) {
    if (route === "/request-password-reset") {
      document.title = "Forgotten password - Hearth";
      mount(root, requestPasswordResetPage(pb));
      return;
    }
    if (route !== "/login") return go("/login");
    document.title = "Login - Hearth";
    mount(root, loginPage(pb, () => go("/collections")));
    return;
  }
  if (route === "/login" || route === "/") return go("/collections");
  document.title = "Hearth dashboard";
  mount(root, shell(pb, route, () => go("/login")));
}

window.addEventListener("hashchange", render);
render();
