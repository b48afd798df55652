// The request logs (`#/logs`).
import { notBuilt } from "./dom.js";

export function logsPage(pb, ctx) {
  return notBuilt("Logs", "The logs view is not built yet. GET /api/logs works.");
}
