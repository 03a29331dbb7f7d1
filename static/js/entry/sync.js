/* Data-entry page — talking to the server: debounced autosave of pending edits with per-field bases (the server
 * reports conflicts), member operations in order, retries with backoff, the 审核 check. Every answer carries the
 * server-rendered live panel, swapped in by render.js. */

import {
  S, data, editable, LOAD_REVISION, DEBOUNCE_MS, MAX_RETRY_MS, REQUEST_TIMEOUT_MS, keyOf, splitKey, fieldSpec,
  same, getCookie, reading, persist, unsentCount
} from "./store.js";
import {
  inputOf, writeInput, readInput, setState, setFieldError, markUnsaved, flashSaved, renderConflicts,
  applyConditions, updateProgress, renderViolations, renderPanel, updateStatus
} from "./render.js";
import { updateMemberTitle } from "./members.js";

export function scheduleSave(ms) {
  if (!editable) return;
  clearTimeout(S.timer);
  S.timer = setTimeout(flush, ms);
}

function scheduleRetry() {
  clearTimeout(S.retryTimer);
  S.retryTimer = setTimeout(flush, S.retryDelay);
  S.retryDelay = Math.min(S.retryDelay * 2, MAX_RETRY_MS);
}

export function request(method, url, body) {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const opts = {
    method,
    credentials: "same-origin",
    headers: { "Accept": "application/json", "X-CSRFToken": getCookie("csrftoken"), "X-Requested-With": "XMLHttpRequest" },
    signal: controller.signal
  };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  return fetch(url, opts).then((resp) => {
    clearTimeout(timeout);
    return resp.text().then((text) => {
      let payload = null;
      try { payload = JSON.parse(text); } catch (e) { payload = null; }
      if (resp.ok && payload !== null && !resp.redirected) return payload;
      const err = { kind: "http", status: resp.status, payload };
      if (payload === null && resp.ok) err.status = 401;  // redirected to a login/password page
      throw err;
    });
  }, () => {
    clearTimeout(timeout);
    throw { kind: "network" };
  });
}

export function classify(err) {
  if (!err || err.kind === "network" || err.status >= 500 || err.status === 0 || err.status === 429) {
    return { kind: "offline", message: "网络中断" };
  }
  const msg = err.payload && err.payload.error ? err.payload.error : "";
  if (err.status === 401 || (err.status === 403 && !(err.payload && err.payload.refused))) {
    return { kind: "login", message: msg || "登录已过期" };
  }
  return { kind: "refused", message: msg || "服务器拒绝了请求（" + err.status + "）" };
}

function fail(err) {
  S.lastError = classify(err);
  if (S.lastError.kind === "offline") scheduleRetry();
  else if (S.lastError.kind === "login") { S.retryDelay = 15000; scheduleRetry(); }
  setState();
}

function sendableKeys() {
  return Object.keys(S.local.pending).filter((k) => !S.conflicts[k] && !S.local.pending[k].error);
}

export function flush() {
  clearTimeout(S.timer);
  if (!editable) return Promise.resolve();
  if (S.busy) { S.again = true; return Promise.resolve(); }
  S.busy = true;
  setState();
  const local = S.local;
  return runOps().then(() => {
    const keys = sendableKeys();
    const expl = Object.assign({}, local.expl);
    if (!keys.length && !Object.keys(expl).length) return null;
    const sent = {};
    const changes = keys.map((key) => {
      const p = local.pending[key];
      const k = splitKey(key);
      sent[key] = p.value;
      const tried = local.sent[key] || (local.sent[key] = []);
      if (!tried.some((x) => same(x, p.value))) tried.push(p.value);
      return { field: k.code, member: k.member, value: p.value, base: p.base === undefined ? null : p.base };
    });
    persist();
    return request("POST", data.urls.save, { base_revision: LOAD_REVISION, changes, explanations: expl })
      .then((res) => applySaveResponse(res, sent, expl));
  }).then(() => {
    S.lastError = null;
    S.retryDelay = 1000;
  }, (err) => {
    fail(err);
  }).then(() => {
    S.busy = false;
    setState();
    if (S.again) { S.again = false; scheduleSave(0); }
    else if (!S.lastError && sendableKeys().length) scheduleSave(DEBOUNCE_MS);
  });
}

/** Send everything that can be sent now; resolves when nothing more is in flight. */
export function settle(tries) {
  tries = tries || 0;
  if (S.busy) return new Promise((r) => setTimeout(r, 100)).then(() => settle(tries));
  if (!sendableKeys().length && !S.local.ops.length && !Object.keys(S.local.expl).length) return Promise.resolve();
  if (tries > 3 || (S.lastError && tries > 0)) return Promise.resolve();
  return flush().then(() => settle(tries + 1));
}

function runOps() {
  const local = S.local;
  if (!local.ops.length) return Promise.resolve();
  const op = local.ops[0];
  op.tried = true;
  persist();
  const p = op.op === "add"
    ? request("POST", data.urls.member_add, { key: op.key, unit: op.unit || "" }).then((res) => {
      Object.keys(res.values || {}).forEach((code) => {
        const key = keyOf(op.key, code);
        S.server[key] = res.values[code];
        if (!local.pending[key]) writeInput(key, res.values[code]);
      });
      updateMemberTitle(op.key);
      renderPanel(res.panel);
    })
    : request("POST", data.urls.member_remove.replace("__KEY__", encodeURIComponent(op.key)), {})
      .then((res) => {
        if (res.result) { S.result = res.result; renderViolations(); }
        renderPanel(res.panel);
      });
  return p.then(() => {
    local.ops.shift();
    persist();
    return runOps();
  }, (err) => {
    if (err && err.kind === "http" && err.status === 400) {
      // The server will never accept this operation as sent: drop it, say so, go on.
      local.ops.shift();
      persist();
      window.alert((err.payload && err.payload.error) || "无法完成成员单位操作。");
      return runOps();
    }
    throw err;
  });
}

function currentServerValue(res, key) {
  const k = splitKey(key);
  if (!k.member) return (res.values || {})[k.code];
  const m = (res.members || []).filter((x) => x.key === k.member)[0];
  return m ? (m.values || {})[k.code] : undefined;
}

/** Values others saved meanwhile: show them where nothing is being typed. */
function refreshFromServer(res) {
  const fresh = {};
  Object.keys(res.values || {}).forEach((code) => { fresh[code] = res.values[code]; });
  (res.members || []).forEach((m) => {
    Object.keys(m.values || {}).forEach((code) => { fresh[keyOf(m.key, code)] = m.values[code]; });
  });
  const keys = Object.keys(fresh).concat(Object.keys(S.server).filter((k) => !(k in fresh)));
  const changed = {};
  keys.forEach((key) => {
    const v = key in fresh ? fresh[key] : null;
    if (same(S.server[key] === undefined ? null : S.server[key], v)) return;
    const member = splitKey(key).member;
    if (member && !(res.members || []).some((m) => m.key === member)) return;
    S.server[key] = v;
    if (S.local.pending[key]) return;
    const el = inputOf(key);
    if (!el || document.activeElement !== el) {
      writeInput(key, v);
      changed[member] = true;
    }
  });
  Object.keys(changed).forEach((m) => { applyConditions(m); if (m) updateMemberTitle(m); });
}

function applySaveResponse(res, sent, expl) {
  const local = S.local;
  S.lastSavedAt = new Date();
  const errors = res.errors || {};
  const saved = {};
  (res.saved || []).forEach((k) => { saved[k] = true; });
  const conflictKeys = {};
  (res.conflicts || []).forEach((c) => {
    const key = keyOf(c.member, c.field);
    conflictKeys[key] = true;
    const mine = (local.sent[key] || []).some((raw) => same(reading(raw, fieldSpec(key).type), c.theirs));
    if (mine) {
      // The server holds a value this page sent earlier (its answer was lost): not someone else's edit.
      if (local.pending[key]) local.pending[key].base = c.theirs;
      S.again = true;
    } else {
      S.conflicts[key] = c;
    }
  });
  Object.keys(sent).forEach((key) => {
    const p = local.pending[key];
    if (errors[key]) {
      if (p && same(p.value, sent[key])) p.error = errors[key];
      setFieldError(key, p && same(p.value, sent[key]) ? errors[key] : null);
      return;
    }
    if (conflictKeys[key]) return;
    // Saved, or the server already had exactly this value.
    let stored = saved[key] ? res.stored[key] : undefined;
    if (stored === undefined) stored = currentServerValue(res, key);
    S.server[key] = stored === undefined ? null : stored;
    if (p && same(p.value, sent[key])) {
      delete local.pending[key];
      markUnsaved(key, false);
      const el = inputOf(key);
      if (el && document.activeElement !== el) writeInput(key, S.server[key]);
      flashSaved(key);
    } else if (p) {
      p.base = S.server[key];
    }
  });
  // This request was answered: the fate of every value sent for these fields is known now.
  Object.keys(sent).forEach((key) => { delete local.sent[key]; });
  Object.keys(expl).forEach((k) => { if (local.expl[k] === expl[k]) delete local.expl[k]; });
  S.serverExpl = Object.assign({}, res.explanations || {});
  refreshFromServer(res);
  if (res.result) S.result = res.result;
  updateStatus(res);
  persist();
  renderConflicts();
  renderViolations();
  renderPanel(res.panel);
  updateProgress();
}

// ---------------------------------------------------------------------------------------------------------
// Editing
// ---------------------------------------------------------------------------------------------------------

export function afterValueChange(key) {
  const k = splitKey(key);
  applyConditions(k.member);
  if (k.member && k.code === "hospital_name") updateMemberTitle(k.member);
  updateProgress();
}

export function onEdit(el) {
  const key = el.dataset.key;
  const raw = readInput(el);
  const p = S.local.pending[key];
  if (p) {
    p.value = raw;
    p.error = null;
  } else {
    S.local.pending[key] = {
      value: raw, base: Object.prototype.hasOwnProperty.call(S.server, key) ? S.server[key] : null, error: null
    };
  }
  setFieldError(key, null);
  markUnsaved(key, true);
  persist();
  afterValueChange(key);
  setState();
  scheduleSave(DEBOUNCE_MS);
}

export function resolveConflict(key, how) {
  const c = S.conflicts[key];
  if (!c) return;
  delete S.conflicts[key];
  if (how === "mine") {
    if (S.local.pending[key]) S.local.pending[key].base = c.theirs;
    else S.local.pending[key] = { value: c.yours, base: c.theirs, error: null };
    persist();
    renderConflicts();
    scheduleSave(0);
  } else {
    delete S.local.pending[key];
    S.server[key] = c.theirs;
    writeInput(key, c.theirs);
    markUnsaved(key, false);
    persist();
    renderConflicts();
    afterValueChange(key);
  }
  setState();
}

/** 审核: send what is unsent, then evaluate the saved values on the server and show its verdict. */
export function runCheck() {
  const button = document.getElementById("check-button");
  const errorBox = document.getElementById("check-error");
  if (button) button.disabled = true;
  if (errorBox) errorBox.textContent = "";
  const before = editable && unsentCount() ? settle() : Promise.resolve();
  return before.then(() => request("POST", data.urls.check, {})).then((res) => {
    S.result = res.result || {};
    renderViolations();
    renderPanel(res.panel);
    if (errorBox && editable && unsentCount()) errorBox.textContent = "本机尚有未保存的修改未参与审核。";
  }, (err) => {
    const c = classify(err);
    if (errorBox) errorBox.textContent = c.kind === "offline" ? "网络中断，暂时无法审核；已保存的审核结果如下。" : c.message;
  }).then(() => {
    if (button) button.disabled = false;
  });
}
