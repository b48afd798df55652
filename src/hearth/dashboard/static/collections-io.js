// Export and import of collections as JSON (`#/settings/export-collections`, `…/import-collections`).
import { notBuilt } from "./dom.js";

export function exportCollectionsPage(pb, ctx) {
  return notBuilt("Export collections", "Not built yet. GET /api/collections works.");
}

export function importCollectionsPage(pb, ctx) {
  return notBuilt("Import collections", "Not built yet. PUT /api/collections/import works.");
}
