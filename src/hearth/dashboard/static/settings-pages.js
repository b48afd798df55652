// The settings pages (`#/settings/{page}`): a menu of the pages and the chosen one. Each page's
// content comes from the module that owns it.
import { h, notBuilt } from "./dom.js";
import { exportCollectionsPage, importCollectionsPage } from "./collections-io.js";
import { backupsPage, cronsPage } from "./settings-backups.js";
import { applicationPage, mailPage, storagePage } from "./settings-app.js";

// [route, menu label, page]; the first is the default.
const PAGES = [
  ["application", "Application", applicationPage],
  ["mail", "Mail settings", mailPage],
  ["storage", "Files storage", storagePage],
  ["backups", "Backups", backupsPage],
  ["crons", "Crons", cronsPage],
  ["export-collections", "Export collections", exportCollectionsPage],
  ["import-collections", "Import collections", importCollectionsPage],
];

export function settingsPage(pb, page, ctx) {
  const current = PAGES.find(([route]) => route === page) || (page ? null : PAGES[0]);
  const menu = h(
    "nav",
    { class: "settings-menu", "aria-label": "Settings" },
    PAGES.map(([route, label]) =>
      h("a", { href: `#/settings/${route}`, "aria-current": current && current[0] === route ? "page" : false }, label),
    ),
  );
  const body = current ? current[2](pb, ctx) : notBuilt("Not built yet", `There is no settings page "${page}".`);
  return h("div", { class: "settings" }, menu, h("div", { class: "settings-body" }, body));
}
