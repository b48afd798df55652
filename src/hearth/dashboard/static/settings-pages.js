// The settings pages (`#/settings/{page}`).
import { notBuilt } from "./dom.js";

export function settingsPage(pb, page, ctx) {
  return notBuilt("Settings", "The settings pages are not built yet. GET/PATCH /api/settings work.");
}
