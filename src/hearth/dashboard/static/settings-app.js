// The settings held in /api/settings: application (name, URL, batch, trusted proxy, rate limits,
// superuser IPs), mail (SMTP and a test e-mail), files storage (S3 and a test).
import { notBuilt } from "./dom.js";

export function applicationPage(pb, ctx) {
  return notBuilt("Application", "Not built yet. GET/PATCH /api/settings work.");
}

export function mailPage(pb, ctx) {
  return notBuilt("Mail settings", "Not built yet. GET/PATCH /api/settings work.");
}

export function storagePage(pb, ctx) {
  return notBuilt("Files storage", "Not built yet. GET/PATCH /api/settings work.");
}
