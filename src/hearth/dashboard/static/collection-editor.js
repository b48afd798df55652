// Creating (`#/collections/new`) and editing (`#/collections/{name}/edit`) a collection.
import { notBuilt } from "./dom.js";

export function collectionEditor(pb, name, ctx) {
  return notBuilt(name || "New collection", "The collection editor is not built yet. POST/PATCH /api/collections work.");
}
