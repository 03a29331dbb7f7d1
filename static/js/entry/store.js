/* Data-entry page — the store: what the server confirmed, what this browser still has to send, and the local
 * copy in localStorage that survives a closed tab, a lost network or an expired login.
 *
 * Every edit goes into localStorage first (per submission, user and tab), then a debounced autosave (sync.js)
 * POSTs it. A field leaves the local copy only when the server confirms it.
 */

const dataNode = document.getElementById("entry-data");
export const root = document.getElementById("entry");
export const data = dataNode && root ? JSON.parse(dataNode.textContent) : null;
export const editable = !!(data && data.editable);
export const LOAD_REVISION = data ? data.revision : 0;
export const DEBOUNCE_MS = 800;
export const MAX_RETRY_MS = 30000;
export const REQUEST_TIMEOUT_MS = 30000;

const PREFIX = data ? "fjzl.entry." + data.id + "." + data.user : "";
const TAB_ID = randomKey().slice(0, 8);
const STORAGE_KEY = PREFIX + "." + TAB_ID;

// The page's mutable state, shared by the modules.
export const S = {
  server: {},          // field key ("code" or "memberkey/code") -> last value the server confirmed
  serverExpl: Object.assign({}, (data && data.explanations) || {}),
  // pending: key -> {value, base, error}; expl: explanation key -> text; ops: member add/remove queue;
  // sent: key -> raw values sent in requests whose answer never arrived (to recognise our own value later).
  local: { pending: {}, expl: {}, ops: [], sent: {}, savedAt: 0 },
  conflicts: {},       // key -> conflict from the server
  result: (data && data.result) || {},
  timer: null,
  retryTimer: null,
  retryDelay: 1000,
  busy: false,
  again: false,
  lastError: null,     // null | {kind: "offline"|"login"|"refused", message}
  lastSavedAt: null,
  storageBroken: false
};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

export function randomKey() {
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.prototype.map.call(bytes, (b) => ("0" + b.toString(16)).slice(-2)).join("");
}

export function keyOf(member, code) { return member ? member + "/" + code : code; }

export function splitKey(key) {
  const i = key.lastIndexOf("/");
  return i < 0 ? { member: "", code: key } : { member: key.slice(0, i), code: key.slice(i + 1) };
}

export function fieldSpec(key) {
  const k = splitKey(key);
  return (k.member ? data.member_fields : data.fields)[k.code] || { label: k.code, type: "text" };
}

export function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

export function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

export function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"); }

export function getCookie(name) {
  const m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
  return m ? decodeURIComponent(m[1]) : "";
}

export function show(value) {
  if (value === null || value === undefined || value === "") return "（空）";
  if (value === true) return "是";
  if (value === false) return "否";
  return String(value);
}

export function toDisplay(value, type) {
  if (value === null || value === undefined) return "";
  if (type === "yesno") {
    if (value === true) return "true";
    if (value === false) return "false";
  }
  return String(value);
}

function fold(raw) {
  let s = String(raw);
  if (s.normalize) s = s.normalize("NFKC");
  return s.replace(/，/g, ",").replace(/[。．]/g, ".").replace(/[\s\u3000\u00a0]+/g, "");
}

// A rough client-side reading of a raw input, used for conditions and to recognise our own earlier value.
export function reading(raw, type) {
  if (raw === null || raw === undefined) return null;
  if (raw === true || raw === false) return raw;
  const s = fold(raw);
  if (s === "") return null;
  if (/^[-－—–_]{2,}$/.test(s)) return "--";
  if (type === "count" || type === "decimal" || type === "percent") {
    const n = Number(s.replace(/,/g, "").replace(/%$/, ""));
    return isNaN(n) ? s : n;
  }
  if (type === "yesno") {
    if (s === "true") return true;
    if (s === "false") return false;
  }
  return String(raw).trim();
}

/** The value the page holds for a field: what is being typed (not yet saved) or what the server confirmed. */
export function valueOf(key) {
  const p = S.local.pending[key];
  if (p) return p.value;
  return Object.prototype.hasOwnProperty.call(S.server, key) ? S.server[key] : null;
}

export function initServer() {
  Object.keys(data.values || {}).forEach((code) => { S.server[code] = data.values[code]; });
  (data.members || []).forEach((m) => {
    Object.keys(m.values || {}).forEach((code) => { S.server[keyOf(m.key, code)] = m.values[code]; });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Local copy
// ---------------------------------------------------------------------------------------------------------

export function storageKeys() {
  const keys = [];
  try {
    for (let i = 0; i < localStorage.length; i++) {
      const k = localStorage.key(i);
      if (k && k.indexOf(PREFIX + ".") === 0) keys.push(k);
    }
  } catch (e) { S.storageBroken = true; }
  return keys;
}

/** Merge what earlier tabs/sessions left (oldest first, later edits win) into this tab's copy. */
export function adoptLocal() {
  const local = S.local;
  const entries = [];
  storageKeys().forEach((k) => {
    try {
      const obj = JSON.parse(localStorage.getItem(k));
      if (obj && typeof obj === "object") entries.push({ k, obj });
    } catch (e) { /* a broken entry is ignored */ }
  });
  entries.sort((a, b) => (a.obj.savedAt || 0) - (b.obj.savedAt || 0));
  entries.forEach((e) => {
    const o = e.obj;
    Object.keys(o.pending || {}).forEach((key) => {
      const prev = local.pending[key];
      const p = o.pending[key];
      local.pending[key] = { value: p.value, base: prev ? prev.base : p.base, error: p.error || null };
    });
    Object.assign(local.expl, o.expl || {});
    Object.keys(o.sent || {}).forEach((key) => {
      local.sent[key] = (local.sent[key] || []).concat(o.sent[key]).slice(-20);
    });
    (o.ops || []).forEach((op) => {
      if (!local.ops.some((x) => x.op === op.op && x.key === op.key)) local.ops.push(op);
    });
  });
  if (editable) {
    entries.forEach((e) => { try { localStorage.removeItem(e.k); } catch (err) { /* ignore */ } });
    persist();
  }
  return entries.length > 0;
}

export function persist() {
  if (!editable) return;
  S.local.savedAt = Date.now();
  try {
    if (unsentCount() === 0) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, JSON.stringify(S.local));
    S.storageBroken = false;
  } catch (e) {
    S.storageBroken = true;
  }
}

export function unsentCount() {
  return Object.keys(S.local.pending).length + Object.keys(S.local.expl).length + S.local.ops.length;
}
