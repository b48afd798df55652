// Backups (`#/settings/backups`) and crons (`#/settings/crons`).
import { notBuilt } from "./dom.js";

export function backupsPage(pb, ctx) {
  return notBuilt("Backups", "Not built yet. /api/backups works.");
}

export function cronsPage(pb, ctx) {
  return notBuilt("Crons", "Not built yet. GET /api/crons works.");
}
