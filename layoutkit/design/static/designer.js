// layoutkit designer: plain JavaScript, no build step, no dependency.
// The server draws every picture with the package's renderer; this file keeps the body
// being built, draws the SVG overlay (outlines, labels, handles) and sends edits.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const DECIMALS = 6;
const round6 = (v) => Math.round(v * 1e6) / 1e6;
const MODE_NAMES = { 0: "floating", 1: "best fit", 2: "vertical", 3: "custom" };
// The page's token (written into the page by the server): sent with every API call and
// picture, so that no other page can drive the designer.
const TOKEN = document.querySelector('meta[name="layoutkit-token"]').content;
const MAX_IMAGE_BYTES = 6 * 1024 * 1024;  // the cloud's image limit (uploads above it are refused)
function api(url, options) {
  const headers = { ...((options && options.headers) || {}), "X-Layoutkit-Token": TOKEN };
  return fetch(url, { ...(options || {}), headers });
}

const S = {
  mode: "request",          // "request" | "scenario"
  body: null,               // the start / updateLayout body (object)
  requestText: null,        // last request body, kept while a scenario is shown
  usersCount: 4,
  usersList: "",
  previewCanvas: [640, 360],  // an updateLayout body has no canvas
  selected: null,
  undo: [], redo: [],
  regions: [], canvas: [1280, 720],
  seq: 0, inFlight: false, pending: false,
  scenarioText: null, scenario: null, t: 0, playing: null,
  lastMessages: [],
};

// ------------------------------------------------------------------ the body
// The body may be a whole start / updateLayout body or a bare clientRequest (as validate
// takes it).  Reading never changes it; only edits create missing objects.
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
function client() {
  return isObject(S.body.clientRequest) ? S.body.clientRequest : S.body;
}
function isStart() {
  return !!(S.body && isObject(client()) && client().recordingConfig !== undefined);
}
function holder(create) {  // the object with mixedVideoLayout, layoutConfig, ...
  const cr = client();
  if (!isStart()) return cr;
  const rc = cr.recordingConfig;
  if (!isObject(rc)) return {};
  if (!isObject(rc.transcodingConfig)) {
    if (!create) return {};
    rc.transcodingConfig = {};
  }
  return rc.transcodingConfig;
}
function layoutConfig() {
  const h = holder();
  return Array.isArray(h.layoutConfig) ? h.layoutConfig : [];
}
function canvasWH() {
  if (isStart()) {
    const h = holder();
    return [Number(h.width) || 360, Number(h.height) || 640];
  }
  return S.previewCanvas;
}
function uids() {
  const list = S.usersList.split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length) return list;
  const n = Math.max(1, Math.min(17, S.usersCount | 0));
  return Array.from({ length: n }, (_, i) => String(i + 1));
}
// An imported text is sent as it is (duplicate keys, 15.0, ... judged as validate would)
// until the first edit.
function bodyText() { return S.rawText ?? JSON.stringify(S.body, null, 2); }

// ------------------------------------------------------------------ undo / redo
function snapshot() {
  return JSON.stringify({ body: S.body, rawText: S.rawText ?? null, usersCount: S.usersCount, usersList: S.usersList,
                          previewCanvas: S.previewCanvas, selected: S.selected });
}
function restore(text) {
  const s = JSON.parse(text);
  Object.assign(S, s);
}
function pushUndo() {
  S.undo.push(snapshot());
  if (S.undo.length > 200) S.undo.shift();
  S.redo = [];
  updateUndoButtons();
}
function undo() {
  if (!S.undo.length || S.mode !== "request") return;
  S.redo.push(snapshot());
  restore(S.undo.pop());
  changed();
}
function redo() {
  if (!S.redo.length || S.mode !== "request") return;
  S.undo.push(snapshot());
  restore(S.redo.pop());
  changed();
}
function updateUndoButtons() {
  $("undo").disabled = !S.undo.length || S.mode !== "request";
  $("redo").disabled = !S.redo.length || S.mode !== "request";
}
// An edit: remember the state before it, apply it, show and render the result.
function edit(fn) {
  pushUndo();
  S.rawText = null;
  fn();
  changed();
}

// ------------------------------------------------------------------ server calls
async function post(url, data) {
  try {
    const response = await api(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                       body: JSON.stringify(data) });
    const answer = await response.json();
    return answer;
  } catch (err) {
    return { ok: false, messages: [{ severity: "error",
             text: `the designer server did not answer (${err.message}); is layoutkit design still running?` }] };
  }
}

function showMessages(messages, okText) {
  const box = $("messages");
  box.textContent = "";
  S.lastMessages = messages || [];
  for (const m of S.lastMessages) {
    const div = document.createElement("div");
    div.className = `msg ${m.severity}`;
    div.textContent = m.text;
    box.appendChild(div);
  }
  if (!S.lastMessages.length && okText) {
    const div = document.createElement("div");
    div.className = "msg ok";
    div.textContent = okText;
    box.appendChild(div);
  }
  const errors = S.lastMessages.filter((m) => m.severity === "error").length;
  const warns = S.lastMessages.length - errors;
  const status = $("json-status");
  status.className = "badge " + (errors ? "bad" : warns ? "warn" : "good");
  status.textContent = errors ? `${errors} error${errors > 1 ? "s" : ""}` :
                       warns ? `valid, ${warns} warning${warns > 1 ? "s" : ""}` : "valid";
}

function showPicture(token, ok) {
  $("stale-note").hidden = ok;
  const img = $("picture");
  if (token) {
    img.src = `/picture/${token}.png?token=${encodeURIComponent(TOKEN)}`;
    img.dataset.token = token;
  }
  img.classList.toggle("stale", !ok);
}

// One render request in flight at a time; the latest edit wins.
async function render() {
  if (S.mode !== "request") return;
  if (S.inFlight) { S.pending = true; return; }
  S.inFlight = true;
  const seq = ++S.seq;
  const answer = await post("/api/render", { text: bodyText(), users: uids(),
                                             canvas: isStart() ? null : S.previewCanvas });
  S.inFlight = false;
  if (S.pending) { S.pending = false; render(); return; }
  applyRender(answer, seq);
}
function applyRender(answer, seq) {
  if (answer.ok) {
    S.regions = answer.regions;
    S.canvas = answer.canvas;
    $("render-ms").textContent = `drawn in ${answer.ms} ms`;
    document.body.dataset.rendered = String(seq);
  }
  syncRegions();
  showPicture(answer.picture, answer.ok);
  showMessages(answer.messages, `valid ${answer.kind || "body"}: no problem found (same checks as layoutkit validate)`);
  document.body.dataset.state = answer.ok ? "ok" : "error";
  drawOverlay();
  document.body.dataset.done = String(seq);
}

// ------------------------------------------------------------------ controls <-> body
// A field the user is typing in is left as it is (a render answer arriving meanwhile must
// not put a value back under the caret: delete-then-type gives what was typed); an emptied
// field shows the body's value greyed (its placeholder).
function setField(id, value) {
  $(id).placeholder = String(value);
  if (document.activeElement !== $(id)) $(id).value = value;
}

function syncControls() {
  const h = holder();
  const [w, hh] = canvasWH();
  setField("canvas-w", w);
  setField("canvas-h", hh);
  setField("fps", isStart() ? (h.fps ?? 15) : "");
  $("fps").disabled = !isStart();
  $("canvas-note").textContent = isStart() ? "" :
    "updateLayout cannot change the canvas: this size is for the preview only.";
  $("layout-mode").value = String(h.mixedVideoLayout ?? 0);
  $("max-uid").value = h.maxResolutionUid ?? "";
  const colour = typeof h.backgroundColor === "string" ? h.backgroundColor : "#000000";
  $("bg-color-text").value = colour;
  if (/^#[0-9a-fA-F]{6}$/.test(colour)) $("bg-color").value = colour.toLowerCase();
  $("bg-image").value = h.backgroundImage ?? "";
  $("default-user-image").value = h.defaultUserBackgroundImage ?? "";
  setField("users-count", S.usersCount);
  $("users-list").value = S.usersList;
  if (document.activeElement !== $("json")) $("json").value = bodyText();
  $("json").dataset.raw = S.rawText !== null && S.rawText !== undefined ? "1" : "";
  syncUserImages();
  syncRegions();
  updateUndoButtons();
}

function setOrDelete(obj, key, value) {
  if (value === "" || value === null || value === undefined) delete obj[key];
  else obj[key] = value;
}

// A whole-number field: an edit only when it holds a number (an emptied field, on its way
// to the next value, changes nothing and shows the body's value as its placeholder).
function onInteger(id, fn) {
  $(id).addEventListener("change", () => {
    const v = parseInt($(id).value, 10);
    if (Number.isFinite(v)) edit(() => fn(v));
  });
}

function bindControls() {
  const onChange = (id, fn) => $(id).addEventListener("change", () => edit(fn));
  onInteger("canvas-w", (v) => {
    if (isStart()) holder(true).width = v; else S.previewCanvas = [v, S.previewCanvas[1]];
  });
  onInteger("canvas-h", (v) => {
    if (isStart()) holder(true).height = v; else S.previewCanvas = [S.previewCanvas[0], v];
  });
  onInteger("fps", (v) => { holder(true).fps = v; });
  onChange("layout-mode", () => {
    const mode = parseInt($("layout-mode").value, 10);
    const h = holder(true);
    h.mixedVideoLayout = mode;
    if (mode === 3 && !layoutConfig().length) h.layoutConfig = regionsAsConfig();
  });
  onChange("max-uid", () => setOrDelete(holder(true), "maxResolutionUid", $("max-uid").value.trim()));
  $("bg-color").addEventListener("input", () => {
    $("bg-color-text").value = $("bg-color").value.toUpperCase();
  });
  onChange("bg-color", () => { holder(true).backgroundColor = $("bg-color").value.toUpperCase(); });
  onChange("bg-color-text", () => { holder(true).backgroundColor = $("bg-color-text").value.trim(); });
  onChange("bg-image", () => setOrDelete(holder(true), "backgroundImage", $("bg-image").value.trim()));
  onChange("default-user-image", () =>
    setOrDelete(holder(true), "defaultUserBackgroundImage", $("default-user-image").value.trim()));
  onInteger("users-count", (v) => { S.usersCount = Math.max(1, v); });
  onChange("users-list", () => { S.usersList = $("users-list").value; });
  $("bg-upload").addEventListener("change", () =>
    upload($("bg-upload"), (path) => setOrDelete(holder(true), "backgroundImage", path)));
  $("default-user-upload").addEventListener("change", () =>
    upload($("default-user-upload"), (path) => setOrDelete(holder(true), "defaultUserBackgroundImage", path)));
}

async function upload(input, use) {
  const file = input.files[0];
  if (!file) return;
  if (file.size > MAX_IMAGE_BYTES) {  // the server refuses it too; say so without sending it
    input.value = "";
    const text = `warning: image ${file.name}: larger than 6 MB; ignored, as the cloud does`;
    showMessages([{ severity: "warning", text }]);
    document.body.dataset.upload = text;
    return;
  }
  const form = new FormData();
  form.append("file", file);
  let answer;
  try {
    const response = await api("/api/upload", { method: "POST", body: form });
    answer = await response.json();
  } catch (err) {
    answer = { ok: false, messages: [{ severity: "error", text: `upload failed: ${err.message}` }] };
  }
  input.value = "";
  if (answer.path) edit(() => use(answer.path));  // kept in the body: the cloud would ignore it too
  else showMessages(answer.messages);
  if (answer.messages && answer.messages.length) {
    document.body.dataset.upload = answer.messages.map((m) => m.text).join("\n");
  }
}

function syncUserImages() {
  const tbody = $("user-images").querySelector("tbody");
  tbody.textContent = "";
  const h = holder();
  const config = Array.isArray(h.backgroundConfig) ? h.backgroundConfig : [];
  const shown = new Set(uids());
  const rows = [...new Set([...uids(), ...config.map((e) => String(e.uid))])].slice(0, 17);
  for (const uid of rows) {
    const entry = config.find((e) => String(e.uid) === uid);
    const tr = document.createElement("tr");
    tr.innerHTML = `<td class="mono">${escapeHtml(uid)}${shown.has(uid) ? "" : " <span class='muted'>(not shown)</span>"}</td>
      <td><span class="file-row"><input type="text" placeholder="path or URL">
      <label class="upload" title="upload an image">&#8679;<input type="file" accept="image/*"></label></span></td>
      <td><select title="render_mode"><option value="0">crop</option><option value="1">fit</option></select></td>`;
    const [text, file] = tr.querySelectorAll("input");
    const select = tr.querySelector("select");
    text.value = entry ? entry.image_url ?? "" : "";
    select.value = String(entry ? entry.render_mode ?? 0 : 0);
    const setEntry = (url) => {
      const h = holder(true);
      const list = Array.isArray(h.backgroundConfig) ? h.backgroundConfig : [];
      const others = list.filter((e) => String(e.uid) !== uid);
      if (url) others.push({ uid, image_url: url, render_mode: parseInt(select.value, 10) });
      if (others.length) h.backgroundConfig = others; else delete h.backgroundConfig;
    };
    text.addEventListener("change", () => edit(() => setEntry(text.value.trim())));
    select.addEventListener("change", () => edit(() => setEntry(text.value.trim())));
    file.addEventListener("change", () => upload(file, (path) => setEntry(path)));
    tbody.appendChild(tr);
  }
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// The drawn regions of the current (non-custom) layout as layoutConfig entries.
function regionsAsConfig() {
  const [W, H] = S.canvas;
  return S.regions.map((r) => ({
    x_axis: round6(r.x / W), y_axis: round6(r.y / H), width: round6(r.w / W),
    height: round6(r.h / H), alpha: round6(r.alpha), render_mode: r.render_mode,
  }));
}

// ------------------------------------------------------------------ regions panel
function isCustom() { return S.mode === "request" && Number(holder().mixedVideoLayout) === 3; }

function syncRegions() {
  const custom = isCustom();
  $("custom-tools").hidden = !custom;
  $("snap-tools").hidden = !custom;
  $("to-custom").hidden = custom || S.mode !== "request";
  const list = $("region-list");
  list.textContent = "";
  const [W, H] = canvasWH();
  const entries = custom ? layoutConfig().map((e, i) => ({
      index: i, named: e.uid !== undefined,
      uid: e.uid !== undefined && S.regions[i] && S.regions[i].uid === null ? `${e.uid} absent`
        : e.uid ?? (S.regions[i] && S.regions[i].uid) ?? null,
      x: Math.round(e.x_axis * W), y: Math.round(e.y_axis * H),
      w: Math.round((e.x_axis + e.width) * W) - Math.round(e.x_axis * W),
      h: Math.round((e.y_axis + e.height) * H) - Math.round(e.y_axis * H),
      render_mode: e.render_mode ?? 0, alpha: e.alpha ?? 1 }))
    : S.regions;
  for (const r of entries) {
    const li = document.createElement("li");
    li.dataset.index = r.index;
    li.className = S.selected === r.index && custom ? "selected" : "";
    const auto = custom && !r.named && r.uid ? " <span class='muted' title='no uid: the next user in join order'>auto</span>" : "";
    li.innerHTML = `<span class="idx">${r.index}</span><span>uid ${escapeHtml(r.uid ?? "—")}${auto}</span>
      <span class="muted">${r.x},${r.y} ${r.w}×${r.h} ${r.render_mode ? "fit" : "crop"}${r.alpha < 1 ? " α" + r.alpha : ""}</span>`;
    if (custom) li.addEventListener("click", () => select(r.index));
    list.appendChild(li);
  }
  syncInspector();
}

function select(index) {
  S.selected = index;
  syncRegions();
  drawOverlay();
}

function syncInspector() {
  const entry = isCustom() && S.selected !== null ? layoutConfig()[S.selected] : null;
  $("inspector").hidden = !entry;
  if (!entry) return;
  const [W, H] = canvasWH();
  $("insp-index").textContent = `#${S.selected}`;
  const set = (id, v) => { if (document.activeElement !== $(id)) $(id).value = v; };
  set("insp-uid", entry.uid ?? "");
  set("insp-mode", String(entry.render_mode ?? 0));
  set("insp-x", entry.x_axis);
  set("insp-y", entry.y_axis);
  set("insp-w", entry.width);
  set("insp-h", entry.height);
  set("insp-alpha", entry.alpha ?? 1);
  set("insp-alpha-n", entry.alpha ?? 1);
  const x0 = Math.round(entry.x_axis * W), y0 = Math.round(entry.y_axis * H);
  const x1 = Math.round((entry.x_axis + entry.width) * W), y1 = Math.round((entry.y_axis + entry.height) * H);
  $("insp-px").textContent = `pixels: x ${x0}, y ${y0}, w ${x1 - x0}, h ${y1 - y0} on ${W}×${H}`;
}

function bindRegionTools() {
  const entry = () => layoutConfig()[S.selected];
  const num = (id, key) => $(id).addEventListener("change", () => {
    const v = parseFloat($(id).value);
    if (Number.isFinite(v) && entry()) edit(() => { entry()[key] = round6(v); });
  });
  num("insp-x", "x_axis"); num("insp-y", "y_axis"); num("insp-w", "width"); num("insp-h", "height");
  num("insp-alpha-n", "alpha");
  $("insp-alpha").addEventListener("change", () => {
    if (entry()) edit(() => { entry().alpha = round6(parseFloat($("insp-alpha").value)); });
  });
  $("insp-mode").addEventListener("change", () => {
    if (entry()) edit(() => { entry().render_mode = parseInt($("insp-mode").value, 10); });
  });
  $("insp-uid").addEventListener("change", () => {
    if (entry()) edit(() => setOrDelete(entry(), "uid", $("insp-uid").value.trim()));
  });
  $("add-region").addEventListener("click", () => edit(() => {
    const h = holder(true);
    if (!Array.isArray(h.layoutConfig)) h.layoutConfig = [];
    const n = h.layoutConfig.length;
    h.layoutConfig.push({ x_axis: round6(0.05 + 0.03 * (n % 8)), y_axis: round6(0.05 + 0.03 * (n % 8)),
                          width: 0.3, height: 0.3, alpha: 1, render_mode: 0 });
    S.selected = n;
  }));
  $("delete-region").addEventListener("click", deleteSelected);
  $("raise-region").addEventListener("click", () => move(+1));
  $("lower-region").addEventListener("click", () => move(-1));
  $("to-custom").addEventListener("click", () => edit(() => {
    const h = holder(true);
    h.layoutConfig = regionsAsConfig();
    h.mixedVideoLayout = 3;
  }));
  for (const id of ["snap-grid", "grid-size", "snap-regions", "show-labels"]) {
    $(id).addEventListener("change", drawOverlay);
  }
}

function deleteSelected() {
  if (!isCustom() || S.selected === null) return;
  edit(() => {
    layoutConfig().splice(S.selected, 1);
    S.selected = layoutConfig().length ? Math.min(S.selected, layoutConfig().length - 1) : null;
  });
}
function move(step) {  // paint order: later entries are drawn on top
  if (!isCustom() || S.selected === null) return;
  const list = layoutConfig(), i = S.selected, j = i + step;
  if (j < 0 || j >= list.length) return;
  edit(() => { [list[i], list[j]] = [list[j], list[i]]; S.selected = j; });
}

// ------------------------------------------------------------------ overlay (SVG)
function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function pxBox(entry, W, H) {
  const x0 = Math.round(entry.x_axis * W), y0 = Math.round(entry.y_axis * H);
  return { x: x0, y: y0, w: Math.round((entry.x_axis + entry.width) * W) - x0,
           h: Math.round((entry.y_axis + entry.height) * H) - y0 };
}

// Show the canvas as large as the stage allows (small canvases are scaled up, tall ones fit
// 72 % of the window's height); the overlay follows the image's box.
function fitStage() {
  const img = $("picture");
  const [W, H] = S.mode === "request" ? canvasWH() : S.canvas;
  const wrap = $("stage-wrap");
  const availW = Math.max(200, wrap.clientWidth - 38);
  const availH = Math.max(200, window.innerHeight * 0.72);
  img.style.width = `${Math.floor(Math.min(availW, (availH * W) / H))}px`;
}

function drawOverlay(guides) {
  fitStage();
  const svg = $("overlay");
  const [W, H] = S.mode === "request" ? canvasWH() : S.canvas;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.textContent = "";
  const img = $("picture");
  const k = W / Math.max(1, img.clientWidth || W);  // canvas pixels per screen pixel
  const custom = isCustom();
  if (custom && $("snap-grid").checked) {
    const g = Math.max(2, parseInt($("grid-size").value, 10) || 20);
    for (let x = g; x < W; x += g) el("line", { class: "gridline", x1: x, y1: 0, x2: x, y2: H }, svg);
    for (let y = g; y < H; y += g) el("line", { class: "gridline", x1: 0, y1: y, x2: W, y2: y }, svg);
  }
  const labels = $("show-labels").checked;
  const items = custom ? layoutConfig().map((e, i) => {
      const b = pxBox(e, W, H);
      const server = S.regions[i];
      const uid = e.uid !== undefined && server && server.uid === null ? `${e.uid} absent`
        : e.uid ?? (server ? server.uid : null);
      return { index: i, uid, ...b,
               render_mode: e.render_mode ?? 0, alpha: e.alpha ?? 1,
               off: e.x_axis < 0 || e.y_axis < 0 || e.x_axis + e.width > 1 + 1e-9 || e.y_axis + e.height > 1 + 1e-9 };
    }) : S.regions;
  for (const r of items) {
    const g = el("g", { class: `region${custom ? " custom" : ""}${custom && S.selected === r.index ? " selected" : ""}${r.off ? " off" : ""}`,
                        "data-index": r.index }, svg);
    el("rect", { class: "box", x: r.x, y: r.y, width: Math.max(0, r.w), height: Math.max(0, r.h) }, g);
    if (labels) {  // index, uid (and state), x,y w×h, crop/fit; shrunk to fit small regions
      const lines = [`#${r.index} uid ${r.uid ?? "—"}${r.state ? " " + r.state : ""}`,
                     `${r.x},${r.y} ${r.w}×${r.h} ${r.render_mode ? "fit" : "crop"}${r.alpha < 1 ? " α " + r.alpha : ""}`];
      const longest = Math.max(...lines.map((l) => l.length));
      const size = Math.max(8 * k, Math.min(12 * k, (r.w - 8 * k) / (0.62 * longest)));
      lines.forEach((line, i) => {
        const t = el("text", { x: r.x + 4 * k, y: r.y + 3 * k + size * 1.15 * (i + 1),
                               "font-size": size, "stroke-width": size / 4 }, g);
        t.textContent = line;
      });
    }
    if (custom && S.selected === r.index) {
      const s = 9 * k;
      for (const [name, hx, hy] of [["nw", r.x, r.y], ["ne", r.x + r.w, r.y],
                                   ["sw", r.x, r.y + r.h], ["se", r.x + r.w, r.y + r.h]]) {
        el("rect", { class: `handle ${name}`, "data-handle": name, x: hx - s / 2, y: hy - s / 2,
                     width: s, height: s }, g);
      }
    }
  }
  for (const gd of guides || []) {
    if (gd.x !== undefined) el("line", { class: "guide", x1: gd.x, y1: -10 * k, x2: gd.x, y2: H + 10 * k }, svg);
    else el("line", { class: "guide", x1: -10 * k, y1: gd.y, x2: W + 10 * k, y2: gd.y }, svg);
  }
}

// ------------------------------------------------------------------ drag and resize
function svgPoint(event) {
  const svg = $("overlay");
  const pt = svg.createSVGPoint();
  pt.x = event.clientX; pt.y = event.clientY;
  return pt.matrixTransform(svg.getScreenCTM().inverse());
}

// Snap one coordinate: to other regions' edges and the canvas edges (within a few screen
// pixels), else to the grid.  Returns [value, guide or null].
function snap1(value, targets, grid, tol) {
  let best = null;
  for (const t of targets) {
    if (Math.abs(t - value) <= tol && (best === null || Math.abs(t - value) < Math.abs(best - value))) best = t;
  }
  if (best !== null) return [best, best];
  if (grid) return [Math.round(value / grid) * grid, null];
  return [Math.round(value), null];
}

function bindDrag() {
  const svg = $("overlay");
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (!isCustom()) return;
    const g = event.target.closest(".region");
    if (!g) { return; }
    const index = parseInt(g.dataset.index, 10);
    event.preventDefault();
    if (S.selected !== index) select(index);
    const entry = layoutConfig()[index];
    const [W, H] = canvasWH();
    drag = { index, handle: event.target.dataset.handle || null, start: svgPoint(event),
             box: pxBox(entry, W, H), entry: { ...entry }, before: snapshot(), moved: false };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const p = svgPoint(event);
    const dx = p.x - drag.start.x, dy = p.y - drag.start.y;
    if (!drag.moved && Math.abs(dx) < 1 && Math.abs(dy) < 1) return;
    drag.moved = true;
    S.rawText = null;
    const [W, H] = canvasWH();
    const k = W / Math.max(1, $("picture").clientWidth || W);
    const grid = $("snap-grid").checked ? Math.max(2, parseInt($("grid-size").value, 10) || 20) : 0;
    const tol = 7 * k;
    const xs = [0, W], ys = [0, H];
    if ($("snap-regions").checked) {
      layoutConfig().forEach((e, i) => {
        if (i === drag.index) return;
        const b = pxBox(e, W, H);
        xs.push(b.x, b.x + b.w); ys.push(b.y, b.y + b.h);
      });
    }
    const b = drag.box, guides = [];
    let x0 = b.x, y0 = b.y, x1 = b.x + b.w, y1 = b.y + b.h;
    if (!drag.handle) {  // move: snap whichever edge is nearer a target
      const [sx0, gx0] = snap1(b.x + dx, xs, grid, tol), [sx1, gx1] = snap1(b.x + b.w + dx, xs, 0, tol);
      if (gx1 !== null && gx0 === null) { x1 = sx1; x0 = sx1 - b.w; guides.push({ x: gx1 }); }
      else { x0 = sx0; x1 = sx0 + b.w; if (gx0 !== null) guides.push({ x: gx0 }); }
      const [sy0, gy0] = snap1(b.y + dy, ys, grid, tol), [sy1, gy1] = snap1(b.y + b.h + dy, ys, 0, tol);
      if (gy1 !== null && gy0 === null) { y1 = sy1; y0 = sy1 - b.h; guides.push({ y: gy1 }); }
      else { y0 = sy0; y1 = sy0 + b.h; if (gy0 !== null) guides.push({ y: gy0 }); }
    } else {
      const h = drag.handle;
      const snapX = (v) => { const [s, gd] = snap1(v, xs, grid, tol); if (gd !== null) guides.push({ x: gd }); return s; };
      const snapY = (v) => { const [s, gd] = snap1(v, ys, grid, tol); if (gd !== null) guides.push({ y: gd }); return s; };
      if (h.includes("w")) x0 = Math.min(snapX(b.x + dx), x1 - 2);
      if (h.includes("e")) x1 = Math.max(snapX(b.x + b.w + dx), x0 + 2);
      if (h.includes("n")) y0 = Math.min(snapY(b.y + dy), y1 - 2);
      if (h.includes("s")) y1 = Math.max(snapY(b.y + b.h + dy), y0 + 2);
    }
    // an edge that stays on its pixel keeps its fraction as written; a move keeps the size
    const entry = layoutConfig()[drag.index], e0 = drag.entry;
    const sameX = x0 === b.x, sameY = y0 === b.y;
    entry.x_axis = sameX ? e0.x_axis : round6(x0 / W);
    entry.y_axis = sameY ? e0.y_axis : round6(y0 / H);
    if (drag.handle) {
      entry.width = sameX && x1 === b.x + b.w ? e0.width : round6((x1 - x0) / W);
      entry.height = sameY && y1 === b.y + b.h ? e0.height : round6((y1 - y0) / H);
    }
    drawOverlay(guides);
    syncInspector();
    render();
  });
  const end = () => {
    if (!drag) return;
    if (drag.moved) {
      S.undo.push(drag.before);
      S.redo = [];
      changed();
    }
    drag = null;
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  svg.addEventListener("pointerdown", (event) => {  // a click outside every region deselects
    if (isCustom() && !event.target.closest(".region") && S.selected !== null) select(null);
  });
}

// ------------------------------------------------------------------ keyboard
function bindKeys() {
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key.toLowerCase() === "z" && !typing) {
      event.preventDefault();
      if (event.shiftKey) redo(); else undo();
      return;
    }
    if (mod && event.key.toLowerCase() === "y" && !typing) { event.preventDefault(); redo(); return; }
    if (typing) return;
    if (S.mode === "scenario" && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      event.preventDefault();
      const step = event.shiftKey ? 1 : 1 / (S.scenario ? S.scenario.fps : 15);
      scrubTo(S.t + (event.key === "ArrowRight" ? step : -step));
      return;
    }
    if (!isCustom() || S.selected === null) return;
    const arrows = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (arrows[event.key]) {
      event.preventDefault();
      const [ax, ay] = arrows[event.key];
      const n = event.shiftKey ? 10 : 1;
      const [W, H] = canvasWH();
      const entry = layoutConfig()[S.selected];
      edit(() => {
        const b = pxBox(entry, W, H);
        if (event.altKey) {
          if (ax) entry.width = round6(Math.max(2, b.w + ax * n) / W);
          if (ay) entry.height = round6(Math.max(2, b.h + ay * n) / H);
        } else {
          entry.x_axis = round6((b.x + ax * n) / W); entry.y_axis = round6((b.y + ay * n) / H);
        }
      });
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault(); deleteSelected();
    } else if (event.key === "]") { move(+1); }
    else if (event.key === "[") { move(-1); }
    else if (event.key === "Escape") { select(null); }
  });
}

// ------------------------------------------------------------------ JSON panel
async function importText(text) {
  let doc = null;
  try { doc = JSON.parse(text); } catch (err) { doc = null; }
  if (doc && typeof doc === "object" && !Array.isArray(doc) && "users" in doc && !("clientRequest" in doc)) {
    return openScenario(text);
  }
  if (doc && typeof doc === "object" && !Array.isArray(doc)) {
    if (S.mode === "scenario") leaveScenario();
    pushUndo();
    $("file-name").textContent = "imported body";
    S.body = doc;
    S.rawText = text;
    S.selected = null;
    changed();
    return;
  }
  // not a JSON object: the server says why, in validate's words; the body is unchanged
  const answer = await post("/api/render", { text, users: uids(), canvas: null });
  showMessages(answer.messages);
  showPicture(null, false);
  document.body.dataset.state = "error";
  document.body.dataset.done = String(++S.seq);
}

async function exportText() {
  const answer = await post("/api/export", { text: S.mode === "scenario" ? S.scenarioText : bodyText() });
  showMessages(answer.messages, "exported: valid, six-decimal fractions");
  return answer.text || null;
}

function bindJson() {
  $("import").addEventListener("click", () => importText($("json").value));
  // typing in the panel is checked live too (half a second after the last key)
  let typing = null;
  $("json").addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => importText($("json").value), 500);
  });
  $("copy").addEventListener("click", async () => {
    const text = await exportText();
    if (text === null) return;
    try { await navigator.clipboard.writeText(text); }
    catch (err) { $("json").value = text; $("json").select(); document.execCommand("copy"); }
    if (/"(accessKey|secretKey|token|secret)"\s*:\s*"\*\*\*"/.test(text)) {
      showMessages([{ severity: "warning", text: "copied with the secrets masked (\"***\"): " +
                      "Download writes the file with the opened file's own values" }]);
    }
  });
  // The file is made by the server: it puts the opened file's secrets back where the page
  // shows "***" (the page never holds them), and the browser saves the answer.
  $("download").addEventListener("click", async () => {
    const text = await exportText();
    if (text === null) return;
    const form = document.createElement("form");
    form.method = "POST";
    form.action = "/api/download";
    form.target = "download-frame";
    const name = S.mode === "scenario" ? "scenario.json" : (isStart() ? "start.json" : "updateLayout.json");
    for (const [key, value] of [["token", TOKEN], ["text", text], ["name", name]]) {
      const field = document.createElement("input");
      field.type = "hidden"; field.name = key; field.value = value;
      form.appendChild(field);
    }
    document.body.appendChild(form); form.submit(); form.remove();
  });
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("new-request").addEventListener("click", () => importText(S.defaultText));
}

// ------------------------------------------------------------------ scenario mode
function leaveScenario() {
  S.mode = "request";
  stopPlaying();
  $("scenario-controls").hidden = true;
  $("request-controls").hidden = false;
  $("timeline").hidden = true;
  $("regions-panel").hidden = false;
  $("side").hidden = false;
  document.querySelector("main").classList.remove("scenario");
  $("mode-badge").textContent = "request";
}

async function openScenario(text) {
  const answer = await post("/api/scenario", { text });
  if (!answer.ok) {
    showMessages(answer.messages);
    showPicture(null, false);
    document.body.dataset.state = "error";
    document.body.dataset.done = String(++S.seq);
    return;
  }
  S.mode = "scenario";
  if (S.scenarioText !== null || S.body) $("file-name").textContent = "imported scenario";
  S.scenarioText = text;
  S.scenario = answer;
  S.canvas = answer.canvas;
  if ($("json").value !== text) $("json").value = text;
  $("request-controls").hidden = true;
  $("scenario-controls").hidden = false;
  $("timeline").hidden = false;
  $("regions-panel").hidden = true;
  $("side").hidden = true;
  document.querySelector("main").classList.add("scenario");
  $("mode-badge").textContent = "scenario";
  updateUndoButtons();
  $("scenario-summary").textContent =
    `${answer.duration} s at ${answer.fps} fps, canvas ${answer.canvas[0]}×${answer.canvas[1]}, ` +
    `${answer.users.length} users, ${answer.events.length} events`;
  const users = $("scenario-users").querySelector("tbody");
  users.textContent = "";
  for (const u of answer.users) {
    const tr = document.createElement("tr");
    tr.innerHTML = `<td class="mono">${escapeHtml(u.uid)}</td><td><span class="platform ${escapeHtml(u.platform)}">${escapeHtml(u.platform)}</span>${u.role === "audience" ? " audience" : ""}</td>
      <td class="mono">${escapeHtml(u.source)}</td><td>${u.join} s</td>`;
    users.appendChild(tr);
  }
  const events = $("scenario-events");
  events.textContent = "";
  const marks = $("marks");
  marks.textContent = "";
  const colours = { leave: "#b91c1c", join: "#15803d", update_layout: "#7c3aed", mute_video: "#d97706",
                    unmute_video: "#0891b2", unpublish_video: "#b45309", publish_video: "#0e7490" };
  const rowEnds = [];  // labels in rows, so that close events do not overlap
  const width = Math.max(200, marks.clientWidth || 600);
  for (const e of answer.events) {
    const li = document.createElement("li");
    li.textContent = `${e.t} s  ${e.action}${e.uid ? " " + e.uid : ""}`;
    li.addEventListener("click", () => scrubTo(e.t));
    events.appendChild(li);
    const mark = document.createElement("div");
    mark.className = "mark";
    mark.style.left = `${(100 * e.t) / answer.duration}%`;
    mark.style.setProperty("--c", colours[e.action] || "#2563eb");
    mark.title = li.textContent;
    const left = (width * e.t) / answer.duration;
    const label = `${e.action.replace("_video", "").replace("_audio", " audio").replace("update_layout", "layout")}${e.uid ? " " + e.uid : ""}`;
    let row = rowEnds.findIndex((end) => end < left);
    if (row < 0) { row = rowEnds.length; rowEnds.push(0); }
    rowEnds[row] = left + 6.2 * label.length + 8;
    mark.style.setProperty("--row", row);
    mark.innerHTML = `<span>${escapeHtml(e.action.replace("_video", "").replace("_audio", " audio").replace("update_layout", "layout"))}${e.uid ? " " + escapeHtml(e.uid) : ""}</span>`;
    marks.appendChild(mark);
  }
  marks.style.height = `${14 * Math.max(1, rowEnds.length)}px`;
  $("scrub-wrap").style.paddingTop = `${14 * Math.max(1, rowEnds.length) + 2}px`;
  const scrub = $("scrub");
  scrub.max = String(answer.duration - 1 / answer.fps);
  scrub.step = String(1 / answer.fps);
  await scrubTo(Math.min(S.t, answer.duration - 1 / answer.fps));
}

async function scrubTo(t) {
  if (!S.scenario) return;
  const fps = S.scenario.fps;
  const frame = Math.max(0, Math.min(Math.round(t * fps), Math.round(S.scenario.duration * fps) - 1));
  S.t = frame / fps;
  $("scrub").value = String(S.t);
  $("time-label").textContent = `${S.t.toFixed(3)} s  frame ${frame}`;
  const seq = ++S.seq;
  const answer = await post("/api/frame", { text: S.scenarioText, t: S.t });
  if (seq !== S.seq) return;
  if (answer.ok) {
    S.regions = answer.regions;
    S.canvas = answer.canvas;
    $("render-ms").textContent = `drawn in ${answer.ms} ms`;
    const tbody = $("states").querySelector("tbody");
    tbody.textContent = "";
    for (const r of [...answer.regions, ...answer.others]) {
      const tr = document.createElement("tr");
      const box = r.x === undefined ? "—" : `${r.x},${r.y} ${r.w}×${r.h}`;
      tr.innerHTML = `<td>${r.index ?? ""}</td><td class="mono">${escapeHtml(r.uid ?? "—")}</td>
        <td>${r.platform ? `<span class="platform ${escapeHtml(r.platform)}">${escapeHtml(r.platform)}</span>` : ""}</td>
        <td class="state-${escapeHtml(r.state)}">${escapeHtml(r.state)}</td><td class="mono">${box}</td>`;
      tbody.appendChild(tr);
    }
    document.body.dataset.frameT = String(answer.t);
  }
  showPicture(answer.picture, answer.ok);
  const layout = answer.layout ? `layout ${answer.layout.mixedVideoLayout} (${MODE_NAMES[answer.layout.mixedVideoLayout]}), background ${answer.layout.backgroundColor}` : "";
  showMessages(answer.messages, `the frame the recorder writes at ${S.t.toFixed(3)} s; ${layout}`);
  drawOverlay();
  document.body.dataset.state = answer.ok ? "ok" : "error";
  document.body.dataset.done = String(seq);
}

function stopPlaying() {
  if (S.playing) { clearInterval(S.playing); S.playing = null; $("play").innerHTML = "&#9654;"; }
}
function bindTimeline() {
  $("scrub").addEventListener("input", () => scrubTo(parseFloat($("scrub").value)));
  $("play").addEventListener("click", () => {
    if (S.playing) { stopPlaying(); return; }
    $("play").innerHTML = "&#10073;&#10073;";
    S.playing = setInterval(() => {
      if (!S.scenario) return stopPlaying();
      let t = S.t + 0.2;
      if (t >= S.scenario.duration) t = 0;
      scrubTo(t);
    }, 200);
  });
}

// ------------------------------------------------------------------ start
function changed() {
  syncControls();
  drawOverlay();
  render();
}

async function main() {
  bindControls(); bindRegionTools(); bindDrag(); bindKeys(); bindJson(); bindTimeline();
  window.addEventListener("resize", () => drawOverlay());
  $("picture").addEventListener("load", () => drawOverlay());
  let start;
  try {
    start = await (await api("/api/start")).json();
  } catch (err) {
    showMessages([{ severity: "error", text: `the designer server did not answer (${err.message})` }]);
    return;
  }
  $("file-name").textContent = start.name ? start.name.split(/[\\/]/).pop() : "new start body";
  $("file-name").title = start.name || "";
  S.defaultText = JSON.stringify({ cname: "design", uid: "999", clientRequest: {} });
  try { S.defaultText = (await (await api("/api/start?fresh=1")).json()).text; } catch (err) { /* keep */ }
  if (start.scenario) {
    await openScenario(start.text);
  } else {
    try { S.body = JSON.parse(start.text); } catch (err) { S.body = null; }
    if (!S.body || typeof S.body !== "object" || Array.isArray(S.body)) {
      S.body = JSON.parse(S.defaultText);
      changed();
      await importText(start.text);
    } else {
      changed();
    }
  }
  if (start.messages) showMessages(start.messages);
}

main();
