// The request logs (`#/logs`): an hourly chart of requests that follows the filter, the list with a
// filter bar (PocketBase's filter language) and paging, an entry's detail and the logs settings.
// The filter and the superusers switch live in the hash query (`#/logs?filter=…&superusers=1`).
import { apiError, h, mount, notice, openDialog } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const PER_PAGE = 50;
const NO_SUPERUSERS = "data.auth != '_superusers'";
const LEVELS = { "-4": "DEBUG", 0: "INFO", 4: "WARN", 8: "ERROR" };

export function logsPage(pb, ctx) {
  const state = {
    filter: ctx.query.get("filter") || "",
    superusers: ctx.query.get("superusers") === "1",
    page: 1,
  };

  const chartBox = h("div", { class: "chart-box" });
  const summary = h("p", { class: "chart-summary", id: "logs-chart-summary", "aria-live": "polite" }, "Loading the chart…");
  const chartSection = h("section", { class: "logs-chart", "aria-label": "Requests per hour" }, chartBox, summary);

  const filterInput = h("input", {
    id: "logs-filter",
    type: "search",
    name: "filter",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: "Search term or filter like data.status >= 400",
    value: state.filter,
  });
  const filterForm = h(
    "form",
    { class: "filter-bar", role: "search" },
    h("label", { for: "logs-filter", class: "visually-hidden" }, "Filter"),
    filterInput,
    h("button", { type: "submit", class: "btn" }, "Apply"),
    h("button", { type: "button", class: "btn", onclick: () => { filterInput.value = ""; apply(); } }, "Clear"),
  );
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  const superusers = h("input", { type: "checkbox", id: "logs-superusers", checked: state.superusers });
  superusers.addEventListener("change", apply);
  const toggle = h("label", { class: "switch", for: "logs-superusers" }, superusers, "Include requests by superusers");

  const settingsBtn = h("button", { type: "button", class: "btn", onclick: () => logsSettings(pb, status) }, "Logs settings");
  const refreshBtn = h("button", { type: "button", class: "btn", onclick: () => load() }, "Refresh");
  const status = h("div", { class: "status" });
  const list = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Request logs" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });

  function apply() {
    state.filter = filterInput.value.trim();
    state.superusers = superusers.checked;
    state.page = 1;
    const q = new URLSearchParams();
    if (state.filter) q.set("filter", state.filter);
    if (state.superusers) q.set("superusers", "1");
    const hash = "#/logs" + (q.toString() ? "?" + q : "");
    // A history entry of its own (Back returns to the previous filter) without rebuilding the page.
    if (window.location.hash !== hash) window.history.pushState(null, "", hash);
    load();
  }

  let generation = 0;
  async function load() {
    const mine = ++generation;
    const filter = effectiveFilter(pb, state.filter, state.superusers);
    status.replaceChildren();
    list.setAttribute("aria-busy", "true");
    try {
      const [stats, result] = await Promise.all([
        pb.logs.getStats({ filter }),
        pb.logs.getList(state.page, PER_PAGE, { filter, sort: "-created" }),
      ]);
      if (mine !== generation) return; // a newer load is on its way
      drawChart(chartBox, summary, stats);
      mount(list, logsTable(result.items, logDetail));
      drawPager(result);
    } catch (err) {
      if (mine !== generation) return;
      const e = apiError(err);
      status.append(notice("error", e.status === 400 ? `Invalid filter: ${e.message}` : e.message));
      mount(list);
      mount(chartBox);
      summary.textContent = "No chart: the logs could not be loaded.";
      pager.replaceChildren();
    } finally {
      if (mine === generation) list.removeAttribute("aria-busy");
    }
  }

  function drawPager(result) {
    const prev = h("button", { type: "button", class: "btn", disabled: result.page <= 1 }, "Previous page");
    const next = h("button", { type: "button", class: "btn", disabled: result.page >= result.totalPages }, "Next page");
    prev.addEventListener("click", () => { state.page -= 1; load(); });
    next.addEventListener("click", () => { state.page += 1; load(); });
    mount(
      pager,
      h("span", { class: "muted" }, `Total: ${result.totalItems}`),
      result.totalPages > 1 ? [prev, h("span", {}, `Page ${result.page} of ${result.totalPages}`), next] : null,
    );
  }

  // Redraw the chart at the box's new width when it changes (text stays legible on a phone).
  let lastStats = null;
  const drawChart = (box, text, stats) => {
    lastStats = stats;
    chart(box, text, stats);
  };
  let drawnWidth = 0;
  const observer = new ResizeObserver(() => {
    if (!chartBox.isConnected) return observer.disconnect();
    const w = Math.round(chartBox.clientWidth);
    if (lastStats && w && w !== drawnWidth) chart(chartBox, summary, lastStats);
    drawnWidth = w;
  });
  observer.observe(chartBox);

  load();
  return h(
    "div",
    { class: "logs-page" },
    chartSection,
    h("div", { class: "toolbar" }, h("h1", {}, "Logs"), settingsBtn, refreshBtn, toggle),
    filterForm,
    status,
    list,
    pager,
  );
}

/** The filter sent to the API: an expression as typed, or a plain term searched in the message,
 * URL and error; without the switch, superusers' own requests are left out (as PocketBase). */
export function effectiveFilter(pb, text, withSuperusers) {
  const parts = [];
  const t = text.trim();
  if (t) {
    parts.push(/[=<>~]/.test(t) ? `(${t})` : pb.filter("(message ~ {:q} || data.url ~ {:q} || data.error ~ {:q})", { q: t }));
  }
  if (!withSuperusers) parts.push(NO_SUPERUSERS);
  return parts.join(" && ");
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function parseDate(text) {
  return new Date(String(text).replace(" ", "T"));
}

const pad = (n, w = 2) => String(n).padStart(w, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const hourLabel = (d) => `${pad(d.getHours())}:00`;
const dayLabel = (d) => `${MONTHS[d.getMonth()]} ${d.getDate()}`;

function localTime(text) {
  const d = parseDate(text);
  if (Number.isNaN(d.getTime())) return String(text);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A round upper bound for the y axis (1, 2, 5 × 10ⁿ). */
function niceMax(n) {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const HOUR = 3600 * 1000;

/** The hourly request counts as an SVG bar chart (built element by element) and a text summary. */
function chart(box, text, stats) {
  const points = (stats || []).map((s) => ({ t: parseDate(s.date).getTime(), total: Number(s.total) || 0 })).filter((p) => !Number.isNaN(p.t));
  if (!points.length) {
    mount(box);
    text.textContent = "No requests match this filter, so there is nothing to chart.";
    return;
  }
  points.sort((a, b) => a.t - b.t);
  // Every hour between the first and the last, empty hours as zero.
  const first = points[0].t;
  const last = points[points.length - 1].t;
  const byHour = new Map(points.map((p) => [p.t, p.total]));
  const hours = [];
  for (let t = first; t <= last; t += HOUR) hours.push({ t, total: byHour.get(t) || 0 });

  const width = Math.max(300, Math.round(box.clientWidth || 800));
  const height = 180;
  const m = { left: 52, right: 12, top: 10, bottom: 40 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const max = Math.max(...hours.map((x) => x.total));
  const yMax = niceMax(max);
  const slot = plotW / hours.length;
  const barW = Math.max(1, Math.min(slot * 0.8, 48));
  const y = (v) => m.top + plotH - (v / yMax) * plotH;

  const grid = svg("g", { class: "chart-grid" });
  for (const v of [0, yMax / 2, yMax]) {
    if (v !== Math.round(v)) continue;
    grid.append(
      svg("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }),
      svg("text", { x: m.left - 6, y: y(v) + 4, "text-anchor": "end" }, String(v)),
    );
  }
  const bars = svg("g", { class: "chart-bars" });
  hours.forEach((hr, i) => {
    const d = new Date(hr.t);
    const barH = (hr.total / yMax) * plotH;
    const rect = svg("rect", {
      x: (m.left + i * slot + (slot - barW) / 2).toFixed(2),
      y: (m.top + plotH - barH).toFixed(2),
      width: barW.toFixed(2),
      height: barH.toFixed(2),
      "data-total": hr.total,
      "data-date": d.toISOString(),
    });
    rect.append(svg("title", {}, `${dayLabel(d)} ${hourLabel(d)}: ${hr.total} ${hr.total === 1 ? "request" : "requests"}`));
    bars.append(rect);
  });
  // At most one x label per ~90 px; the day under the first label and wherever it changes.
  const step = Math.max(1, Math.ceil(hours.length / Math.max(1, Math.floor(plotW / 90))));
  const xAxis = svg("g", { class: "chart-axis" });
  xAxis.append(svg("line", { x1: m.left, x2: width - m.right, y1: m.top + plotH, y2: m.top + plotH }));
  let lastDay = "";
  for (let i = 0; i < hours.length; i += step) {
    const d = new Date(hours[i].t);
    const x = m.left + i * slot + slot / 2;
    const day = dayLabel(d);
    const label = svg("text", { x, y: m.top + plotH + 16, "text-anchor": "middle" }, hourLabel(d));
    xAxis.append(label);
    if (day !== lastDay) {
      xAxis.append(svg("text", { x, y: m.top + plotH + 32, "text-anchor": "middle", class: "chart-day" }, day));
      lastDay = day;
    }
  }
  const total = hours.reduce((sum, x) => sum + x.total, 0);
  const busiest = hours.reduce((a, b) => (b.total > a.total ? b : a));
  const from = new Date(first);
  const to = new Date(last);
  text.textContent =
    `${total} ${total === 1 ? "request" : "requests"} between ${dayLabel(from)} ${hourLabel(from)} and ` +
    `${dayLabel(to)} ${hourLabel(new Date(last + HOUR))} (local time, ${hours.length} hourly ${hours.length === 1 ? "bar" : "bars"}); ` +
    `the busiest hour, ${dayLabel(new Date(busiest.t))} ${hourLabel(new Date(busiest.t))}, had ${busiest.total}.`;
  const el = svg(
    "svg",
    { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": text.id },
    grid,
    bars,
    xAxis,
    svg("text", { x: 12, y: m.top + plotH / 2, class: "chart-unit", "text-anchor": "middle", transform: `rotate(-90 12 ${m.top + plotH / 2})` }, "requests"),
  );
  mount(box, el);
}

function levelBadge(level) {
  const name = LEVELS[level] || "LEVEL";
  return h("span", { class: `badge level-${name.toLowerCase()}` }, `${name} (${level})`);
}

function entryTitle(entry) {
  const d = entry.data || {};
  if (d.type === "request" && d.method) return `${d.method} ${d.url || ""}`;
  return entry.message || "(no message)";
}

function chips(entry) {
  const d = entry.data || {};
  const out = [];
  const chip = (label, value, cls = "") => out.push(h("span", { class: `chip ${cls}` }, `${label}: ${value}`));
  if (d.status !== undefined) chip("status", d.status);
  if (typeof d.execTime === "number") chip("execTime", `${d.execTime.toFixed(3)}ms`);
  if (d.auth !== undefined) chip("auth", d.auth || "N/A");
  if (d.userIP) chip("userIP", d.userIP);
  if (d.error) chip("error", typeof d.error === "string" ? d.error : JSON.stringify(d.error), "chip-error");
  if (d.details) chip("details", typeof d.details === "string" ? d.details : JSON.stringify(d.details), "chip-warn");
  return out;
}

function logsTable(items, open) {
  if (!items.length) return h("p", { class: "empty muted" }, "No logs found.");
  const rows = items.map((entry) => {
    const title = h("button", { type: "button", class: "link-button", onclick: (e) => { e.stopPropagation(); open(entry); } }, entryTitle(entry));
    const tr = h(
      "tr",
      { class: "log-row", "data-id": entry.id, "data-level": entry.level, "data-status": (entry.data && entry.data.status) ?? "" },
      h("td", {}, levelBadge(entry.level)),
      h("td", { class: "log-message" }, title, h("div", { class: "chips" }, chips(entry))),
      h("td", { class: "log-time" }, h("div", {}, localTime(entry.created)), h("div", { class: "muted" }, entry.created)),
    );
    tr.addEventListener("click", () => open(entry));
    return tr;
  });
  return h(
    "table",
    { class: "list logs-list", "aria-label": "Logs" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Level"), h("th", { scope: "col" }, "Message"), h("th", { scope: "col" }, "Created"))),
    h("tbody", {}, rows),
  );
}

function valueText(value) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "N/A");
  if (typeof value === "object") return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
  return String(value);
}

/** An entry's every field, as text, in a drawer; its JSON can be copied or downloaded. */
function logDetail(entry) {
  const rows = [
    ["id", entry.id],
    ["level", levelBadge(entry.level)],
    ["created", h("span", {}, localTime(entry.created), h("br"), h("span", { class: "muted" }, entry.created))],
    ["message", entry.message],
    ...Object.entries(entry.data || {}).map(([k, v]) => [`data.${k}`, v]),
  ];
  const table = h(
    "table",
    { class: "detail-table", "aria-label": "Log entry" },
    h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, v instanceof Node ? v : valueText(v))))),
  );
  const json = JSON.stringify(entry, null, 2);
  const copied = h("span", { class: "muted", role: "status" });
  const copy = h("button", { type: "button", class: "btn" }, "Copy JSON");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(json);
      copied.textContent = "Copied.";
    } catch {
      copied.textContent = "The browser did not allow copying.";
    }
  });
  const download = h("button", { type: "button", class: "btn" }, "Download JSON");
  download.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    const a = h("a", { href: url, download: `log_${entry.id}.json` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  const close = h("button", { type: "button", class: "btn" }, "Close");
  const dlg = openDialog("Log details", table, [close, copied, copy, download], "drawer");
  close.addEventListener("click", () => dlg.close());
  close.focus();
}

/** Per-field messages of a settings section from an SDK error (`data.logs.maxDays.message`). */
function sectionErrors(err, section) {
  const data = (err && err.response && err.response.data && err.response.data[section]) || {};
  const out = {};
  for (const [k, v] of Object.entries(data)) if (v && typeof v.message === "string") out[k] = v.message;
  return out;
}

let fieldIds = 0;
function numberField(label, value, hint, attrs = {}) {
  const id = `logs-set-${++fieldIds}`;
  const input = h("input", { id, type: "number", step: "1", value: String(value), "aria-describedby": `${id}-hint ${id}-error`, ...attrs });
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  input.addEventListener("input", () => {
    error.hidden = true;
    input.removeAttribute("aria-invalid");
  });
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, h("p", { class: "hint", id: `${id}-hint` }, hint), error);
  return { wrap, input, error };
}

function checkField(label, checked) {
  const id = `logs-set-${++fieldIds}`;
  const input = h("input", { id, type: "checkbox", checked: Boolean(checked) });
  return { wrap: h("label", { class: "switch", for: id }, input, label), input };
}

/** The logs settings dialog: retention, minimum level, data size, IP and auth id logging. */
async function logsSettings(pb, pageStatus) {
  let logs;
  try {
    logs = (await pb.settings.getAll()).logs || {};
  } catch (err) {
    pageStatus.replaceChildren(notice("error", apiError(err).message));
    return;
  }
  const maxDays = numberField("Max days retention", logs.maxDays ?? 5, "0 deletes all logs and turns their storage off.", { min: "0", required: true });
  const minLevel = numberField("Min log level", logs.minLevel ?? 0, "Entries below it are not kept. Levels: -4 DEBUG, 0 INFO, 4 WARN, 8 ERROR.", { required: true });
  const maxDataSize = numberField("Max data size (bytes)", logs.maxDataSize ?? 0, "0: the default (about 16 KB); larger data is truncated.", { min: "0" });
  const logIP = checkField("Enable IP logging", logs.logIP);
  const logAuthId = checkField("Enable auth id logging", logs.logAuthId);
  const numbers = { maxDays, minLevel, maxDataSize };
  const status = h("div", { class: "status" });
  const form = h("form", { id: "logs-settings-form", novalidate: true }, maxDays.wrap, minLevel.wrap, maxDataSize.wrap, logIP.wrap, logAuthId.wrap, status);
  const cancel = h("button", { type: "button", class: "btn" }, "Close");
  const save = h("button", { type: "submit", class: "btn btn-primary", form: "logs-settings-form" }, "Save changes");
  const dlg = openDialog("Logs settings", form, [cancel, save]);
  cancel.addEventListener("click", () => dlg.close());
  form.addEventListener("input", () => status.replaceChildren());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    save.disabled = true;
    const num = (f) => (f.input.value.trim() === "" ? NaN : Number(f.input.value));
    const body = {
      maxDays: num(maxDays),
      minLevel: num(minLevel),
      maxDataSize: maxDataSize.input.value.trim() === "" ? 0 : Number(maxDataSize.input.value),
      logIP: logIP.input.checked,
      logAuthId: logAuthId.input.checked,
    };
    const local = {};
    for (const [k, f] of Object.entries(numbers)) if (!Number.isInteger(body[k])) local[k] = "A whole number is required.";
    try {
      if (Object.keys(local).length) throw Object.assign(new Error("Check the fields."), { local });
      await pb.settings.update({ logs: body });
      dlg.close();
      pageStatus.replaceChildren(notice("success", "The logs settings were saved."));
    } catch (err) {
      const fields = err.local || sectionErrors(err, "logs");
      for (const [k, f] of Object.entries(numbers)) {
        f.error.hidden = !fields[k];
        f.error.textContent = fields[k] || "";
        if (fields[k]) f.input.setAttribute("aria-invalid", "true");
        else f.input.removeAttribute("aria-invalid");
      }
      status.append(notice("error", err.local ? err.message : apiError(err).message));
    } finally {
      save.disabled = false;
    }
  });
  maxDays.input.focus();
}
