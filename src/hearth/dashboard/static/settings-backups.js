// Backups (`#/settings/backups`): the list (download, restore, delete), a new backup, an upload and
// the backups options (auto-backup cron, how many to keep, S3); and crons (`#/settings/crons`): the
// registered jobs with a button that runs one now.
import { apiError, field, h, mount, notice, openDialog } from "./dom.js";

const CRON_PRESETS = [
  ["", "Presets…"],
  ["0 0 * * *", "Every day at 00:00"],
  ["0 0 * * 0", "Every Sunday at 00:00"],
  ["0 0 * * 3,0", "Every Wednesday and Sunday at 00:00"],
  ["0 0 1 * *", "The first day of every month at 00:00"],
];

function formatSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(2)} ${units[i]}`;
}

/** Per-field messages under `section` of a settings error, flattened to dotted names (`s3.bucket`). */
function nestedErrors(err, section) {
  const out = {};
  const walk = (node, prefix) => {
    for (const [k, v] of Object.entries(node || {})) {
      if (v && typeof v.message === "string") out[prefix + k] = v.message;
      else if (v && typeof v === "object") walk(v, `${prefix}${k}.`);
    }
  };
  walk(err && err.response && err.response.data && err.response.data[section], "");
  return out;
}

function showErrors(byName, fields) {
  for (const [name, f] of Object.entries(byName)) {
    const msg = fields[name];
    f.error.hidden = !msg;
    f.error.textContent = msg || "";
    if (msg) f.input.setAttribute("aria-invalid", "true");
    else f.input.removeAttribute("aria-invalid");
  }
}

let ids = 0;
function checkbox(label, checked) {
  const id = `bk-check-${++ids}`;
  const input = h("input", { id, type: "checkbox", checked: Boolean(checked) });
  return { wrap: h("label", { class: "switch", for: id }, input, label), input };
}

function withHint(f, text) {
  const hint = h("p", { class: "hint", id: `${f.input.id}-hint` }, text);
  f.wrap.insertBefore(hint, f.error);
  f.input.setAttribute("aria-describedby", `${hint.id} ${f.error.id}`);
  return f;
}

export function backupsPage(pb, ctx) {
  const status = h("div", { class: "status" });
  const list = h("ul", { class: "panel-list", "aria-label": "Backups" });
  const say = (kind, text) => status.replaceChildren(notice(kind, text));

  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const items = await pb.backups.getFullList();
      items.sort((a, b) => String(b.modified).localeCompare(String(a.modified)));
      if (!items.length) mount(list, h("li", { class: "muted" }, "No backups yet."));
      else mount(list, items.map((b) => backupRow(b)));
    } catch (err) {
      mount(list);
      say("error", `Could not load the backups: ${apiError(err).message}`);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  function backupRow(b) {
    const download = h("button", { type: "button", class: "btn", "aria-label": `Download ${b.key}` }, "Download");
    download.addEventListener("click", async () => {
      download.disabled = true;
      try {
        const token = await pb.files.getToken();
        const a = h("a", { href: pb.backups.getDownloadURL(token, b.key), download: b.key });
        document.body.append(a);
        a.click();
        a.remove();
      } catch (err) {
        say("error", apiError(err).message);
      } finally {
        download.disabled = false;
      }
    });
    const restore = h("button", { type: "button", class: "btn", "aria-label": `Restore ${b.key}` }, "Restore");
    restore.addEventListener("click", () => restoreDialog(b.key));
    const del = h("button", { type: "button", class: "btn btn-danger", "aria-label": `Delete ${b.key}` }, "Delete");
    del.addEventListener("click", () => deleteDialog(b.key));
    return h(
      "li",
      { "data-key": b.key },
      h("span", { class: "name" }, b.key),
      h("span", { class: "muted" }, `${formatSize(b.size)} · ${b.modified}`),
      h("span", { class: "actions" }, download, restore, del),
    );
  }

  function newBackupDialog() {
    const name = withHint(field("Backup name", { name: "name", autocomplete: "off", placeholder: "Leave empty to autogenerate" }), "Optional; letters, digits, _ and -, ending in .zip.");
    const formStatus = h("div", { class: "status" });
    const form = h("form", { id: "new-backup-form", novalidate: true }, name.wrap, formStatus);
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const create = h("button", { type: "submit", class: "btn btn-primary", form: "new-backup-form" }, "Start backup");
    const dlg = openDialog("Initialize new backup", form, [cancel, create]);
    cancel.addEventListener("click", () => dlg.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      create.disabled = true;
      create.textContent = "Creating…";
      formStatus.replaceChildren();
      try {
        await pb.backups.create(name.input.value.trim());
        dlg.close();
        say("success", "The backup was created.");
        load();
      } catch (err) {
        const e = apiError(err);
        showErrors({ name }, e.fields);
        formStatus.append(notice("error", e.message));
        create.disabled = false;
        create.textContent = "Start backup";
      }
    });
    name.input.focus();
  }

  function deleteDialog(key) {
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const yes = h("button", { type: "button", class: "btn btn-primary btn-danger" }, "Delete");
    const dlgStatus = h("div", { class: "status" });
    const dlg = openDialog(["Delete backup ", h("span", { class: "mono" }, key), "?"], [h("p", {}, "The archive is removed for good."), dlgStatus], [cancel, yes]);
    cancel.addEventListener("click", () => dlg.close());
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        await pb.backups.delete(key);
        dlg.close();
        say("success", `Deleted ${key}.`);
        load();
      } catch (err) {
        dlgStatus.replaceChildren(notice("error", apiError(err).message));
        yes.disabled = false;
      }
    });
    cancel.focus();
  }

  // Restoring replaces all the data: the name must be typed out, and the button stays disabled
  // until it matches exactly. Cancel, Escape or a mismatch restores nothing.
  function restoreDialog(key) {
    const warning = h(
      "div",
      { class: "warning-box" },
      h("p", {}, h("strong", {}, "Only restore backups you trust.")),
      h("p", {}, "All the current data (settings, collections, records, superusers, files) is replaced with the backup's."),
      h("p", {}, "The server restarts to finish the restore: open connections (this page, realtime subscriptions, requests under way) drop, and the dashboard reloads when it is back."),
      h("p", {}, "If the archive is not a valid backup, the current data is kept."),
    );
    const confirmName = field("Backup name", { name: "confirm", autocomplete: "off", spellcheck: "false" });
    const prompt = h("p", {}, "Type the backup name ", h("code", {}, key), " to confirm:");
    const dlgStatus = h("div", { class: "status" });
    const form = h("form", { id: "restore-form", novalidate: true }, warning, prompt, confirmName.wrap, dlgStatus);
    const cancel = h("button", { type: "button", class: "btn" }, "Cancel");
    const go = h("button", { type: "submit", class: "btn btn-primary btn-danger", form: "restore-form", disabled: true }, "Restore backup");
    const dlg = openDialog(["Restore ", h("span", { class: "mono" }, key)], form, [cancel, go]);
    confirmName.input.addEventListener("input", () => {
      go.disabled = confirmName.input.value !== key;
    });
    cancel.addEventListener("click", () => dlg.close());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (confirmName.input.value !== key) return;
      go.disabled = true;
      cancel.disabled = true;
      try {
        await pb.backups.restore(key);
        dlgStatus.replaceChildren(notice("info", "Restoring: the server is restarting. This page reloads when it answers again."));
        await waitForRestart(pb);
        window.location.reload();
      } catch (err) {
        dlgStatus.replaceChildren(notice("error", apiError(err).message));
        cancel.disabled = false;
        go.disabled = confirmName.input.value !== key;
      }
    });
    confirmName.input.focus();
  }

  const uploadInput = h("input", { type: "file", id: "backup-upload", class: "visually-hidden", accept: ".zip,application/zip" });
  uploadInput.addEventListener("change", async () => {
    const file = uploadInput.files && uploadInput.files[0];
    if (!file) return;
    say("info", `Uploading ${file.name}…`);
    try {
      await pb.backups.upload({ file });
      say("success", `Uploaded ${file.name}.`);
      load();
    } catch (err) {
      say("error", `Upload failed: ${apiError(err).message}`);
    } finally {
      uploadInput.value = "";
    }
  });
  const uploadLabel = h("label", { class: "btn upload-label", for: "backup-upload" }, "Upload backup", uploadInput);
  const newBtn = h("button", { type: "button", class: "btn" }, "New backup");
  newBtn.addEventListener("click", newBackupDialog);
  const refresh = h("button", { type: "button", class: "btn" }, "Refresh");
  refresh.addEventListener("click", () => {
    status.replaceChildren();
    load();
  });

  load();
  return h(
    "section",
    { class: "backups-page" },
    h("div", { class: "toolbar" }, h("h1", {}, "Backups"), newBtn, uploadLabel, refresh),
    h("p", { class: "muted" }, "Backup and restore your Hearth data."),
    status,
    list,
    backupOptions(pb),
  );
}

/** Ask /api/health until the server answers again after a restore (at most about a minute). */
async function waitForRestart(pb) {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  for (let i = 0; i < 60; i += 1) {
    try {
      await pb.health.check({ requestKey: null });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

/** Auto backups (cron, how many to keep) and storing backups in S3, saved with `pb.settings`. */
function backupOptions(pb) {
  const box = h("fieldset", { class: "options" }, h("legend", {}, "Backup options"), h("p", { class: "muted" }, "Loading…"));
  pb.settings
    .getAll()
    .then((settings) => mount(box, h("legend", {}, "Backup options"), optionsForm(pb, settings.backups || {})))
    .catch((err) => mount(box, h("legend", {}, "Backup options"), notice("error", apiError(err).message)));
  return box;
}

function optionsForm(pb, backups) {
  const s3 = backups.s3 || {};
  const auto = checkbox("Enable auto backups", Boolean(backups.cron));
  const cron = withHint(field("Cron expression", { name: "cron", autocomplete: "off", spellcheck: "false", value: backups.cron || "0 0 * * *" }), "Five fields: minute hour day month weekday (UTC).");
  const presetId = `bk-preset-${++ids}`;
  const preset = h("select", { id: presetId }, CRON_PRESETS.map(([value, label]) => h("option", { value }, label)));
  preset.addEventListener("change", () => {
    if (preset.value) cron.input.value = preset.value;
    preset.value = "";
  });
  const keep = withHint(field("Max auto backups to keep", { name: "cronMaxKeep", type: "number", min: "1", step: "1", value: String(backups.cronMaxKeep ?? 3) }), "The oldest automatic backups beyond this number are deleted.");
  const autoBox = h("div", { class: "sub-options" }, cron.wrap, h("div", { class: "field" }, h("label", { for: presetId }, "Cron presets"), preset), keep.wrap);

  const useS3 = checkbox("Store backups in S3 storage", s3.enabled);
  const endpoint = field("Endpoint", { name: "endpoint", autocomplete: "off", value: s3.endpoint || "" });
  const bucket = field("Bucket", { name: "bucket", autocomplete: "off", value: s3.bucket || "" });
  const region = field("Region", { name: "region", autocomplete: "off", value: s3.region || "" });
  const accessKey = field("Access key", { name: "accessKey", autocomplete: "off", value: s3.accessKey || "" });
  const secret = withHint(field("Secret", { name: "secret", type: "password", autocomplete: "new-password" }), "Leave empty to keep the stored secret.");
  const pathStyle = checkbox("Force path-style addressing", s3.forcePathStyle);
  const s3Box = h("div", { class: "sub-options" }, endpoint.wrap, bucket.wrap, region.wrap, accessKey.wrap, secret.wrap, pathStyle.wrap);

  const sync = () => {
    autoBox.hidden = !auto.input.checked;
    s3Box.hidden = !useS3.input.checked;
  };
  auto.input.addEventListener("change", sync);
  useS3.input.addEventListener("change", sync);
  sync();

  const byName = { cron, cronMaxKeep: keep, "s3.endpoint": endpoint, "s3.bucket": bucket, "s3.region": region, "s3.accessKey": accessKey, "s3.secret": secret };
  const status = h("div", { class: "status" });
  const save = h("button", { type: "submit", class: "btn btn-primary save" }, "Save changes");
  const form = h("form", { novalidate: true, "aria-label": "Backup options" }, auto.wrap, autoBox, useS3.wrap, s3Box, status, save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.replaceChildren();
    save.disabled = true;
    const s3Body = {
      enabled: useS3.input.checked,
      endpoint: endpoint.input.value.trim(),
      bucket: bucket.input.value.trim(),
      region: region.input.value.trim(),
      accessKey: accessKey.input.value.trim(),
      forcePathStyle: pathStyle.input.checked,
    };
    if (secret.input.value) s3Body.secret = secret.input.value;
    const body = {
      cron: auto.input.checked ? cron.input.value.trim() : "",
      cronMaxKeep: Number(keep.input.value),
      s3: s3Body,
    };
    try {
      await pb.settings.update({ backups: body });
      showErrors(byName, {});
      secret.input.value = "";
      status.append(notice("success", "The backup options were saved."));
    } catch (err) {
      showErrors(byName, nestedErrors(err, "backups"));
      status.append(notice("error", apiError(err).message));
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

export function cronsPage(pb, ctx) {
  const status = h("div", { class: "status" });
  const list = h("ul", { class: "panel-list", "aria-label": "Cron jobs" });
  async function load() {
    list.setAttribute("aria-busy", "true");
    try {
      const crons = await pb.crons.getFullList();
      if (!crons.length) mount(list, h("li", { class: "muted" }, "No cron jobs are registered."));
      else mount(list, crons.map((c) => cronRow(c)));
    } catch (err) {
      mount(list);
      status.replaceChildren(notice("error", `Could not load the cron jobs: ${apiError(err).message}`));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }
  function cronRow(c) {
    const run = h("button", { type: "button", class: "btn", "aria-label": `Run ${c.id}` }, "Run");
    run.addEventListener("click", async () => {
      run.disabled = true;
      status.replaceChildren();
      try {
        await pb.crons.run(c.id);
        status.append(notice("success", `Ran ${c.id}.`));
      } catch (err) {
        status.append(notice("error", `${c.id}: ${apiError(err).message}`));
      } finally {
        run.disabled = false;
      }
    });
    return h(
      "li",
      { "data-id": c.id },
      h("span", { class: "name mono" }, c.id),
      h("span", { class: "actions" }, h("span", { class: "mono muted", title: "Cron expression" }, c.expression), run),
    );
  }
  const refresh = h("button", { type: "button", class: "btn" }, "Refresh");
  refresh.addEventListener("click", () => {
    status.replaceChildren();
    load();
  });
  load();
  return h(
    "section",
    { class: "crons-page" },
    h("div", { class: "toolbar" }, h("h1", {}, "Crons"), refresh),
    h("p", { class: "muted" }, "The registered cron jobs. They are added in code (hooks), not here; Run starts one now."),
    status,
    list,
  );
}
