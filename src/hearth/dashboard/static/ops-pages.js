// Hearth's own capabilities beyond PocketBase: the rules playground of a collection
// (`#/collections/{name}/playground`), a live tail of realtime events (`#/realtime`), durable
// jobs (`#/jobs`), webhooks and their deliveries (`#/webhooks`) and the audit trail (`#/audit`).
import { notBuilt } from "./dom.js";

export function playgroundPage(pb, name, ctx) {
  return notBuilt(`Rules playground: ${name}`, "Not built yet.");
}

export function realtimePage(pb, ctx) {
  return notBuilt("Realtime", "Not built yet.");
}

export function jobsPage(pb, ctx) {
  return notBuilt("Jobs", "Not built yet.");
}

export function webhooksPage(pb, ctx) {
  return notBuilt("Webhooks", "Not built yet.");
}

export function auditPage(pb, ctx) {
  return notBuilt("Audit trail", "Not built yet.");
}
