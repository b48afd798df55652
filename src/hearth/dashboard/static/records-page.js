// The records of one collection (`#/collections/{name}`).
import { notBuilt } from "./dom.js";

export function recordsPage(pb, name, ctx) {
  return notBuilt(name, "The records view is not built yet. The REST API (/api/collections/…) and the API docs at /api/docs already work.");
}
