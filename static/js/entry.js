/* Data-entry page: autosave that never loses typed input, check results, member entries.
 *
 * Every edit goes into localStorage first (per submission, user and tab), then a debounced autosave POSTs
 * {base_revision, changes: [{field, member, value, base}], explanations} to the save endpoint. A field is
 * dropped from the local copy only when the server confirms it. Network errors and 5xx are retried with
 * backoff; on the next page load unsent edits are restored over the server values and sent again.
 * No framework, no build step.
 */
(function () {
  "use strict";

  var dataNode = document.getElementById("entry-data");
  var root = document.getElementById("entry");
  if (!dataNode || !root) return;
  var data = JSON.parse(dataNode.textContent);
  var editable = !!data.editable;
  var LOAD_REVISION = data.revision;
  var PREFIX = "fjzl.entry." + data.id + "." + data.user;
  var TAB_ID = randomKey().slice(0, 8);
  var STORAGE_KEY = PREFIX + "." + TAB_ID;
  var DEBOUNCE_MS = 800;
  var MAX_RETRY_MS = 30000;
  var REQUEST_TIMEOUT_MS = 30000;

  var server = {};          // field key ("code" or "memberkey/code") -> last value the server confirmed
  var serverExpl = Object.assign({}, data.explanations || {});
  // pending: key -> {value, base, error}; expl: explanation key -> text; ops: member add/remove queue;
  // sent: key -> raw values sent in requests whose answer never arrived (to recognise our own value later).
  var local = { pending: {}, expl: {}, ops: [], sent: {}, savedAt: 0 };
  var conflicts = {};       // key -> conflict from the server
  var result = data.result || {};
  var timer = null;
  var retryTimer = null;
  var retryDelay = 1000;
  var busy = false;
  var again = false;
  var lastError = null;     // null | {kind: "offline"|"login"|"refused", message}
  var lastSavedAt = null;
  var storageBroken = false;

  // ---------------------------------------------------------------------------------------------------
  // Helpers
  // ---------------------------------------------------------------------------------------------------

  function randomKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function keyOf(member, code) { return member ? member + "/" + code : code; }

  function splitKey(key) {
    var i = key.lastIndexOf("/");
    return i < 0 ? { member: "", code: key } : { member: key.slice(0, i), code: key.slice(i + 1) };
  }

  function fieldSpec(key) {
    var k = splitKey(key);
    return (k.member ? data.member_fields : data.fields)[k.code] || { label: k.code, type: "text" };
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function cssEscape(s) { return window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"); }

  function getCookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }

  function show(value) {
    if (value === null || value === undefined || value === "") return "（空）";
    if (value === true) return "是";
    if (value === false) return "否";
    return String(value);
  }

  function toDisplay(value, type) {
    if (value === null || value === undefined) return "";
    if (type === "yesno") {
      if (value === true) return "true";
      if (value === false) return "false";
    }
    return String(value);
  }

  function fold(raw) {
    var s = String(raw);
    if (s.normalize) s = s.normalize("NFKC");
    return s.replace(/，/g, ",").replace(/[。．]/g, ".").replace(/[\s\u3000\u00a0]+/g, "");
  }

  // A rough client-side reading of a raw input, used for conditions and to recognise our own earlier value.
  function reading(raw, type) {
    if (raw === null || raw === undefined) return null;
    if (raw === true || raw === false) return raw;
    var s = fold(raw);
    if (s === "") return null;
    if (/^[-－—–_]{2,}$/.test(s)) return "--";
    if (type === "count" || type === "decimal" || type === "percent") {
      var n = Number(s.replace(/,/g, "").replace(/%$/, ""));
      return isNaN(n) ? s : n;
    }
    if (type === "yesno") {
      if (s === "true") return true;
      if (s === "false") return false;
    }
    return String(raw).trim();
  }

  // ---------------------------------------------------------------------------------------------------
  // Inputs
  // ---------------------------------------------------------------------------------------------------

  function rowOf(key) { return root.querySelector('.field-row[data-key="' + cssEscape(key) + '"]'); }
  function inputOf(key) { return root.querySelector('.field-input[data-key="' + cssEscape(key) + '"]'); }

  function readInput(el) {
    var type = el.closest(".field-row").dataset.type;
    var v = el.value;
    if (el.tagName === "SELECT") {
      if (v === "") return null;
      if (type === "yesno") return v === "true" ? true : v === "false" ? false : v;
      return v;
    }
    return v;
  }

  function writeInput(key, value) {
    var el = inputOf(key);
    if (!el) return;
    var text = toDisplay(value, el.closest(".field-row").dataset.type);
    if (el.tagName === "SELECT" && text !== "" &&
        !Array.prototype.some.call(el.options, function (o) { return o.value === text; })) {
      var opt = document.createElement("option");
      opt.value = text;
      opt.textContent = text;
      el.appendChild(opt);
    }
    el.value = text;
  }

  function initServer() {
    Object.keys(data.values || {}).forEach(function (code) { server[code] = data.values[code]; });
    (data.members || []).forEach(function (m) {
      Object.keys(m.values || {}).forEach(function (code) { server[keyOf(m.key, code)] = m.values[code]; });
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Local copy
  // ---------------------------------------------------------------------------------------------------

  function storageKeys() {
    var keys = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var k = localStorage.key(i);
        if (k && k.indexOf(PREFIX + ".") === 0) keys.push(k);
      }
    } catch (e) { storageBroken = true; }
    return keys;
  }

  function adoptLocal() {
    // Merge what earlier tabs/sessions left (oldest first, later edits win) into this tab's copy.
    var entries = [];
    storageKeys().forEach(function (k) {
      try {
        var obj = JSON.parse(localStorage.getItem(k));
        if (obj && typeof obj === "object") entries.push({ k: k, obj: obj });
      } catch (e) { /* a broken entry is ignored */ }
    });
    entries.sort(function (a, b) { return (a.obj.savedAt || 0) - (b.obj.savedAt || 0); });
    entries.forEach(function (e) {
      var o = e.obj;
      Object.keys(o.pending || {}).forEach(function (key) {
        var prev = local.pending[key];
        var p = o.pending[key];
        local.pending[key] = { value: p.value, base: prev ? prev.base : p.base, error: p.error || null };
      });
      Object.assign(local.expl, o.expl || {});
      Object.keys(o.sent || {}).forEach(function (key) {
        local.sent[key] = (local.sent[key] || []).concat(o.sent[key]).slice(-20);
      });
      (o.ops || []).forEach(function (op) {
        if (!local.ops.some(function (x) { return x.op === op.op && x.key === op.key; })) local.ops.push(op);
      });
    });
    if (editable) {
      entries.forEach(function (e) { try { localStorage.removeItem(e.k); } catch (err) { /* ignore */ } });
      persist();
    }
    return entries.length > 0;
  }

  function persist() {
    if (!editable) return;
    local.savedAt = Date.now();
    try {
      if (unsentCount() === 0) localStorage.removeItem(STORAGE_KEY);
      else localStorage.setItem(STORAGE_KEY, JSON.stringify(local));
      storageBroken = false;
    } catch (e) {
      storageBroken = true;
    }
  }

  function unsentCount() {
    return Object.keys(local.pending).length + Object.keys(local.expl).length + local.ops.length;
  }

  // ---------------------------------------------------------------------------------------------------
  // Save state indicator
  // ---------------------------------------------------------------------------------------------------

  var stateNode = document.getElementById("save-state");

  function setState() {
    if (!stateNode) return;
    var n = unsentCount();
    var nConflicts = Object.keys(conflicts).length;
    var text, cls;
    if (!editable) {
      text = "只读"; cls = "text-bg-light border";
    } else if (nConflicts) {
      text = "冲突：" + nConflicts + "项修改与他人保存的值不一致，请处理"; cls = "text-bg-danger";
    } else if (lastError && lastError.kind === "offline" && n) {
      text = "离线，已在本地保留" + n + "项修改"; cls = "text-bg-warning";
    } else if (lastError && lastError.kind === "login" && n) {
      text = "登录已过期，已在本地保留" + n + "项修改"; cls = "text-bg-warning";
    } else if (lastError && lastError.kind === "refused" && n) {
      text = "未能保存（" + lastError.message + "），已在本地保留" + n + "项修改"; cls = "text-bg-danger";
    } else if (busy) {
      text = "保存中…"; cls = "text-bg-info";
    } else if (n) {
      var errs = Object.keys(local.pending).filter(function (k) { return local.pending[k].error; }).length;
      text = errs ? errs + "项填写有误，未保存" : "有" + n + "项修改待保存";
      cls = errs ? "text-bg-danger" : "text-bg-light border";
    } else {
      text = "已保存"; cls = "text-bg-success";
    }
    if (storageBroken && n) text += "（本机存储不可用，请勿关闭页面）";
    stateNode.textContent = text;
    stateNode.className = "save-state badge " + cls;
    stateNode.dataset.state = !editable ? "readonly" : nConflicts ? "conflict" : (lastError && n) ? lastError.kind
      : busy ? "saving" : n ? "pending" : "saved";
    stateNode.title = lastSavedAt ? "最后保存：" + lastSavedAt.toLocaleTimeString() : "";
    var login = document.getElementById("login-link");
    if (lastError && lastError.kind === "login" && n) {
      if (!login) {
        login = document.createElement("a");
        login.id = "login-link";
        login.className = "small d-block mt-1";
        login.target = "_blank";
        login.href = data.urls.login;
        login.textContent = "在新窗口重新登录后将自动继续保存";
        stateNode.parentNode.parentNode.appendChild(login);
      }
    } else if (login) {
      login.remove();
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Field messages (errors, conflicts, violations)
  // ---------------------------------------------------------------------------------------------------

  function msgBox(key) {
    var row = rowOf(key);
    return row ? row.querySelector(".field-msg") : null;
  }

  function setFieldError(key, message) {
    var box = msgBox(key);
    if (!box) return;
    var node = box.querySelector(".msg-error");
    var row = rowOf(key);
    if (!message) {
      if (node) node.remove();
      row.classList.remove("has-input-error");
      return;
    }
    if (!node) {
      node = document.createElement("div");
      node.className = "msg-error text-danger";
      box.insertBefore(node, box.firstChild);
    }
    node.textContent = message + "（未保存，已在本机保留您输入的内容）";
    row.classList.add("has-input-error");
  }

  function markUnsaved(key, on) {
    var row = rowOf(key);
    if (row) row.classList.toggle("is-unsaved", !!on);
  }

  function flashSaved(key) {
    var row = rowOf(key);
    if (!row) return;
    row.classList.add("just-saved");
    setTimeout(function () { row.classList.remove("just-saved"); }, 1200);
  }

  function renderConflicts() {
    var panel = document.getElementById("conflicts");
    root.querySelectorAll(".field-msg .msg-conflict").forEach(function (n) { n.remove(); });
    if (panel) panel.innerHTML = "";
    Object.keys(conflicts).forEach(function (key) {
      var c = conflicts[key];
      var who = (c.by ? c.by : "他人") + (c.at ? "，" + c.at : "");
      var pending = local.pending[key];
      var html =
        '<div class="fw-semibold">' + esc(c.label || fieldSpec(key).label) + " 已被他人修改</div>" +
        "<div>您的值：<strong class=\"conflict-yours\">" + esc(show(pending ? pending.value : c.yours)) + "</strong></div>" +
        "<div>他人已保存的值：<strong class=\"conflict-theirs\">" + esc(show(c.theirs)) + "</strong>（" + esc(who) + "）</div>" +
        '<div class="mt-1 d-flex gap-1"><button type="button" class="btn btn-sm btn-danger" data-resolve="mine" data-key="' +
        esc(key) + '">使用我的值</button><button type="button" class="btn btn-sm btn-outline-secondary" data-resolve="theirs" data-key="' +
        esc(key) + '">使用对方的值</button></div>';
      var box = msgBox(key);
      if (box) {
        var node = document.createElement("div");
        node.className = "msg-conflict alert alert-danger p-2 mb-1 small";
        node.innerHTML = html;
        box.insertBefore(node, box.firstChild);
      }
      if (panel) {
        var p = document.createElement("div");
        p.className = "alert alert-danger p-2 mb-1 small";
        p.innerHTML = html;
        panel.appendChild(p);
      }
    });
  }

  function resolveConflict(key, how) {
    var c = conflicts[key];
    if (!c) return;
    delete conflicts[key];
    if (how === "mine") {
      if (local.pending[key]) local.pending[key].base = c.theirs;
      else local.pending[key] = { value: c.yours, base: c.theirs, error: null };
      persist();
      renderConflicts();
      scheduleSave(0);
    } else {
      delete local.pending[key];
      server[key] = c.theirs;
      writeInput(key, c.theirs);
      markUnsaved(key, false);
      persist();
      renderConflicts();
      afterValueChange(key);
    }
    setState();
  }

  // ---------------------------------------------------------------------------------------------------
  // Conditions and progress
  // ---------------------------------------------------------------------------------------------------

  // Conditions are compiled by the engine into JSON trees (data.fields[code].condition_tree) and evaluated by
  // static/js/condition.js, the engine's semantics; until it is loaded the server-rendered visibility stays.
  var evaluateCondition = null;
  import(data.condition_js).then(function (m) {
    evaluateCondition = m.evaluateCondition;
    applyConditions("");
    memberCards().forEach(function (card) { applyConditions(card.dataset.memberKey); });
  });

  function conditionHolds(code, member) {
    var specs = member ? data.member_fields : data.fields;
    var tree = (specs[code] || {}).condition_tree;
    if (!tree) return true;
    var values = new Proxy({}, { get: function (_, name) {
      var el = inputOf(keyOf(member, name));
      return el ? reading(readInput(el), (specs[name] || {}).type) : null;
    } });
    return evaluateCondition(tree, values) === true;
  }

  function applyConditions(member) {
    var scope = member ? root.querySelector('.member-card[data-member-key="' + cssEscape(member) + '"]')
      : document.getElementById("entry-form");
    if (!scope || !evaluateCondition) return;
    scope.querySelectorAll(".field-row[data-condition]").forEach(function (row) {
      row.classList.toggle("d-none", !conditionHolds(row.dataset.field, row.dataset.member || ""));
    });
  }

  function isFilled(row) {
    var el = row.querySelector(".field-input");
    return !!el && el.value !== "";
  }

  var progressQueued = false;

  function updateProgress() {
    if (progressQueued) return;
    progressQueued = true;
    requestAnimationFrame(function () {
      progressQueued = false;
      var counts = {};
      var filled = 0, required = 0;
      var form = document.getElementById("entry-form");
      form.querySelectorAll(".field-row").forEach(function (row) {
        if (row.dataset.optional || row.classList.contains("d-none")) return;
        var f = isFilled(row) ? 1 : 0;
        required += 1;
        filled += f;
        (row.dataset.sections || "").split(" ").forEach(function (a) {
          if (!a) return;
          var c = counts[a] || (counts[a] = [0, 0]);
          c[0] += f;
          c[1] += 1;
        });
      });
      root.querySelectorAll("[data-progress]").forEach(function (n) {
        var c = counts[n.dataset.progress] || [0, 0];
        n.textContent = c[0] + "/" + c[1];
        n.classList.toggle("is-complete", c[1] > 0 && c[0] === c[1]);
      });
      var total = document.getElementById("progress-total");
      if (total) total.textContent = filled + "/" + required;
      var bar = document.getElementById("progress-bar");
      if (bar) bar.style.width = (required ? Math.round(filled * 100 / required) : 100) + "%";
      root.querySelectorAll(".member-card").forEach(function (card) {
        var mf = 0, mr = 0;
        card.querySelectorAll(".field-row").forEach(function (row) {
          if (row.dataset.optional || row.classList.contains("d-none")) return;
          mr += 1;
          mf += isFilled(row) ? 1 : 0;
        });
        var badge = card.querySelector(".member-progress");
        if (badge) {
          badge.textContent = mf + "/" + mr;
          badge.classList.toggle("is-complete", mr > 0 && mf === mr);
        }
      });
    });
  }

  function afterValueChange(key) {
    var k = splitKey(key);
    applyConditions(k.member);
    if (k.member && k.code === "hospital_name") updateMemberTitle(k.member);
    updateProgress();
  }

  // ---------------------------------------------------------------------------------------------------
  // Editing and autosave
  // ---------------------------------------------------------------------------------------------------

  function onEdit(el) {
    var key = el.dataset.key;
    var raw = readInput(el);
    var p = local.pending[key];
    if (p) {
      p.value = raw;
      p.error = null;
    } else {
      local.pending[key] = { value: raw, base: Object.prototype.hasOwnProperty.call(server, key) ? server[key] : null, error: null };
    }
    setFieldError(key, null);
    markUnsaved(key, true);
    persist();
    afterValueChange(key);
    setState();
    scheduleSave(DEBOUNCE_MS);
  }

  function scheduleSave(ms) {
    if (!editable) return;
    clearTimeout(timer);
    timer = setTimeout(flush, ms);
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  function request(method, url, body) {
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (controller) controller.abort(); }, REQUEST_TIMEOUT_MS);
    var opts = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": getCookie("csrftoken"), "X-Requested-With": "XMLHttpRequest" },
      signal: controller ? controller.signal : undefined
    };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (resp) {
      clearTimeout(timeout);
      return resp.text().then(function (text) {
        var payload = null;
        try { payload = JSON.parse(text); } catch (e) { payload = null; }
        if (resp.ok && payload !== null && !resp.redirected) return payload;
        var err = { kind: "http", status: resp.status, payload: payload };
        if (payload === null && resp.ok) err.status = 401;  // redirected to a login/password page
        throw err;
      });
    }, function () {
      clearTimeout(timeout);
      throw { kind: "network" };
    });
  }

  function classify(err) {
    if (!err || err.kind === "network" || err.status >= 500 || err.status === 0 || err.status === 429) {
      return { kind: "offline", message: "网络中断" };
    }
    var msg = err.payload && err.payload.error ? err.payload.error : "";
    if (err.status === 401 || (err.status === 403 && !(err.payload && err.payload.refused))) {
      return { kind: "login", message: msg || "登录已过期" };
    }
    return { kind: "refused", message: msg || "服务器拒绝了请求（" + err.status + "）" };
  }

  function fail(err) {
    lastError = classify(err);
    if (lastError.kind === "offline") scheduleRetry();
    else if (lastError.kind === "login") { retryDelay = 15000; scheduleRetry(); }
    setState();
  }

  function sendableKeys() {
    return Object.keys(local.pending).filter(function (k) {
      return !conflicts[k] && !local.pending[k].error;
    });
  }

  function flush() {
    clearTimeout(timer);
    if (!editable) return Promise.resolve();
    if (busy) { again = true; return Promise.resolve(); }
    busy = true;
    setState();
    return runOps().then(function () {
      var keys = sendableKeys();
      var expl = Object.assign({}, local.expl);
      if (!keys.length && !Object.keys(expl).length) return null;
      var sent = {};
      var changes = keys.map(function (key) {
        var p = local.pending[key];
        var k = splitKey(key);
        sent[key] = p.value;
        var tried = local.sent[key] || (local.sent[key] = []);
        if (!tried.some(function (x) { return same(x, p.value); })) tried.push(p.value);
        return { field: k.code, member: k.member, value: p.value, base: p.base === undefined ? null : p.base };
      });
      persist();
      return request("POST", data.urls.save, { base_revision: LOAD_REVISION, changes: changes, explanations: expl })
        .then(function (res) { applySaveResponse(res, sent, expl); });
    }).then(function () {
      lastError = null;
      retryDelay = 1000;
    }, function (err) {
      fail(err);
    }).then(function () {
      busy = false;
      setState();
      if (again) { again = false; scheduleSave(0); }
      else if (!lastError && sendableKeys().length) scheduleSave(DEBOUNCE_MS);
    });
  }

  // Send everything that can be sent now; resolves when nothing more is in flight.
  function settle(tries) {
    tries = tries || 0;
    if (busy) return new Promise(function (r) { setTimeout(r, 100); }).then(function () { return settle(tries); });
    if (!sendableKeys().length && !local.ops.length && !Object.keys(local.expl).length) return Promise.resolve();
    if (tries > 3 || (lastError && tries > 0)) return Promise.resolve();
    return flush().then(function () { return settle(tries + 1); });
  }

  function runOps() {
    if (!local.ops.length) return Promise.resolve();
    var op = local.ops[0];
    op.tried = true;
    persist();
    var p = op.op === "add"
      ? request("POST", data.urls.member_add, { key: op.key, unit: op.unit || "" }).then(function (res) {
        Object.keys(res.values || {}).forEach(function (code) {
          var key = keyOf(op.key, code);
          server[key] = res.values[code];
          if (!local.pending[key]) writeInput(key, res.values[code]);
        });
        updateMemberTitle(op.key);
      })
      : request("POST", data.urls.member_remove.replace("__KEY__", encodeURIComponent(op.key)), {})
        .then(function (res) { if (res.result) { result = res.result; renderResult(); } });
    return p.then(function () {
      local.ops.shift();
      persist();
      return runOps();
    }, function (err) {
      if (err && err.kind === "http" && err.status === 400) {
        // The server will never accept this operation as sent: drop it, say so, go on.
        local.ops.shift();
        persist();
        alert((err.payload && err.payload.error) || "无法完成成员单位操作。");
        return runOps();
      }
      throw err;
    });
  }

  function applySaveResponse(res, sent, expl) {
    lastSavedAt = new Date();
    var errors = res.errors || {};
    var saved = {};
    (res.saved || []).forEach(function (k) { saved[k] = true; });
    var conflictKeys = {};
    (res.conflicts || []).forEach(function (c) {
      var key = keyOf(c.member, c.field);
      conflictKeys[key] = true;
      var mine = (local.sent[key] || []).some(function (raw) {
        return same(reading(raw, fieldSpec(key).type), c.theirs);
      });
      if (mine) {
        // The server holds a value this page sent earlier (its answer was lost): not someone else's edit.
        if (local.pending[key]) local.pending[key].base = c.theirs;
        again = true;
      } else {
        conflicts[key] = c;
      }
    });
    Object.keys(sent).forEach(function (key) {
      var p = local.pending[key];
      if (errors[key]) {
        if (p && same(p.value, sent[key])) p.error = errors[key];
        setFieldError(key, p && same(p.value, sent[key]) ? errors[key] : null);
        return;
      }
      if (conflictKeys[key]) return;
      // Saved, or the server already had exactly this value.
      var stored = saved[key] ? res.stored[key] : undefined;
      if (stored === undefined) stored = currentServerValue(res, key);
      server[key] = stored === undefined ? null : stored;
      if (p && same(p.value, sent[key])) {
        delete local.pending[key];
        markUnsaved(key, false);
        var el = inputOf(key);
        if (el && document.activeElement !== el) writeInput(key, server[key]);
        flashSaved(key);
      } else if (p) {
        p.base = server[key];
      }
    });
    // This request was answered: the fate of every value sent for these fields is known now.
    Object.keys(sent).forEach(function (key) { delete local.sent[key]; });
    Object.keys(expl).forEach(function (k) {
      if (local.expl[k] === expl[k]) delete local.expl[k];
    });
    serverExpl = Object.assign({}, res.explanations || {});
    // Values others saved meanwhile: show them where nothing is being typed.
    refreshFromServer(res);
    if (res.result) result = res.result;
    updateStatus(res);
    persist();
    renderConflicts();
    renderResult();
    updateProgress();
  }

  function currentServerValue(res, key) {
    var k = splitKey(key);
    if (!k.member) return (res.values || {})[k.code];
    var m = (res.members || []).filter(function (x) { return x.key === k.member; })[0];
    return m ? (m.values || {})[k.code] : undefined;
  }

  function refreshFromServer(res) {
    var fresh = {};
    Object.keys(res.values || {}).forEach(function (code) { fresh[code] = res.values[code]; });
    (res.members || []).forEach(function (m) {
      Object.keys(m.values || {}).forEach(function (code) { fresh[keyOf(m.key, code)] = m.values[code]; });
    });
    var keys = Object.keys(fresh).concat(Object.keys(server).filter(function (k) { return !(k in fresh); }));
    var changed = {};
    keys.forEach(function (key) {
      var v = key in fresh ? fresh[key] : null;
      if (same(server[key] === undefined ? null : server[key], v)) return;
      if (splitKey(key).member && !(res.members || []).some(function (m) { return m.key === splitKey(key).member; })) return;
      server[key] = v;
      if (local.pending[key]) return;
      var el = inputOf(key);
      if (el && document.activeElement !== el) {
        writeInput(key, v);
        changed[splitKey(key).member] = true;
      }
    });
    Object.keys(changed).forEach(function (m) { applyConditions(m); if (m) updateMemberTitle(m); });
  }

  function updateStatus(res) {
    var badge = document.getElementById("status-badge");
    if (badge && res.status) {
      badge.textContent = res.status_display;
      badge.className = "badge status-badge status-" + res.status;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // Member entries
  // ---------------------------------------------------------------------------------------------------

  function memberCards() { return root.querySelectorAll("#member-list .member-card"); }

  function updateMemberTitle(member) {
    var card = root.querySelector('.member-card[data-member-key="' + cssEscape(member) + '"]');
    if (!card) return;
    var el = inputOf(keyOf(member, "hospital_name"));
    var name = el ? el.value.trim() : "";
    var index = Array.prototype.indexOf.call(memberCards(), card) + 1;
    card.querySelector(".member-title").textContent = name && name !== "--" ? name : data.member_label + index;
  }

  function updateMemberCount() {
    var n = memberCards().length;
    var c = document.getElementById("member-count");
    if (c) c.textContent = n;
    var nav = document.getElementById("nav-member-count");
    if (nav) nav.textContent = n;
    var empty = document.getElementById("member-empty");
    if (empty) empty.classList.toggle("d-none", n > 0);
  }

  function renderMemberCard(key, opts) {
    var tpl = document.getElementById("member-template");
    if (!tpl) return null;
    var html = tpl.innerHTML.split("__KEY__").join(key);
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var card = holder.firstElementChild;
    card.open = opts.open !== false;
    if (opts.unit) card.dataset.unit = opts.unit;
    document.getElementById("member-list").appendChild(card);
    bindCard(card);
    updateMemberCount();
    return card;
  }

  function addMember() {
    var sel = document.getElementById("member-unit");
    var opt = sel && sel.selectedOptions ? sel.selectedOptions[0] : null;
    var unit = opt ? opt.value : "";
    var key = randomKey();
    local.ops.push({ op: "add", key: key, unit: unit, name: unit ? opt.dataset.name : "", org: unit ? opt.dataset.org : "" });
    var card = renderMemberCard(key, { unit: unit, open: true });
    if (unit) {
      server[keyOf(key, "hospital_name")] = opt.dataset.name;
      writeInput(keyOf(key, "hospital_name"), opt.dataset.name);
      if (opt.dataset.org) {
        server[keyOf(key, "org_code")] = opt.dataset.org;
        writeInput(keyOf(key, "org_code"), opt.dataset.org);
      }
      opt.remove();
    }
    updateMemberTitle(key);
    applyConditions(key);
    persist();
    setState();
    updateProgress();
    var first = card && card.querySelector(".field-input:not([readonly])");
    if (first && !unit) first.focus();
    scheduleSave(0);
  }

  function removeMember(key) {
    var card = root.querySelector('.member-card[data-member-key="' + cssEscape(key) + '"]');
    var title = card ? card.querySelector(".member-title").textContent : "";
    if (!window.confirm("删除“" + title + "”及其已填写的全部数据？")) return;
    var queuedAdd = local.ops.findIndex(function (op) { return op.op === "add" && op.key === key; });
    if (queuedAdd >= 0 && !local.ops[queuedAdd].tried) local.ops.splice(queuedAdd, 1);  // never reached the server
    else local.ops.push({ op: "remove", key: key });
    Object.keys(local.expl).forEach(function (k) { if (k.slice(-key.length - 1) === "@" + key) delete local.expl[k]; });
    Object.keys(local.pending).forEach(function (k) { if (splitKey(k).member === key) delete local.pending[k]; });
    Object.keys(conflicts).forEach(function (k) { if (splitKey(k).member === key) delete conflicts[k]; });
    if (card) {
      var unit = card.dataset.unit;
      var sel = document.getElementById("member-unit");
      if (unit && sel) {
        var opt = document.createElement("option");
        opt.value = unit;
        opt.textContent = title;
        opt.dataset.name = title;
        sel.insertBefore(opt, sel.firstChild);
      }
      card.remove();
    }
    memberCards().forEach(function (c) { updateMemberTitle(c.dataset.memberKey); });
    updateMemberCount();
    persist();
    renderConflicts();
    setState();
    updateProgress();
    scheduleSave(0);
  }

  function restoreOps() {
    local.ops.forEach(function (op) {
      var card = root.querySelector('.member-card[data-member-key="' + cssEscape(op.key) + '"]');
      if (op.op === "add" && !card) {
        renderMemberCard(op.key, { unit: op.unit, open: true });
        if (op.name) {
          server[keyOf(op.key, "hospital_name")] = op.name;
          writeInput(keyOf(op.key, "hospital_name"), op.name);
        }
        if (op.org) {
          server[keyOf(op.key, "org_code")] = op.org;
          writeInput(keyOf(op.key, "org_code"), op.org);
        }
        var sel = document.getElementById("member-unit");
        if (op.unit && sel) {
          Array.prototype.forEach.call(sel.options, function (o) { if (o.value === op.unit) o.remove(); });
        }
      } else if (op.op === "remove" && card) {
        card.remove();
      }
    });
    updateMemberCount();
  }

  // ---------------------------------------------------------------------------------------------------
  // Check results
  // ---------------------------------------------------------------------------------------------------

  function explanationKey(v) {
    if (v.explanation_key) return v.explanation_key;
    return v.member ? v.check + "@" + v.member : v.check;
  }

  function explanationText(k) {
    if (Object.prototype.hasOwnProperty.call(local.expl, k)) return local.expl[k];
    return serverExpl[k] || "";
  }

  function openAndScroll(row) {
    var details = row.closest("details");
    if (details) details.open = true;
    row.scrollIntoView({ block: "center" });
    var el = row.querySelector(".field-input");
    if (el) el.focus({ preventScroll: true });
  }

  function announce() {
    // Other scripts on the page (the submit box) can follow the latest check result.
    try {
      document.dispatchEvent(new CustomEvent("fjzl:result", { detail: { submission: data.id, result: result } }));
    } catch (e) { /* old browsers: nothing listens anyway */ }
  }

  function renderResult() {
    var violations = (result && result.violations) || [];
    var wanted = {};
    var summary = [];
    var perMember = {};
    violations.forEach(function (v, index) {
      var member = typeof v.member === "string" ? v.member : "";
      var fields = v.fields || [];
      var rows = fields.map(function (code) { return rowOf(keyOf(member, code)); }).filter(Boolean);
      var ekey = explanationKey(v);
      if (member) {
        var pm = perMember[member] || (perMember[member] = { hard: 0, soft: 0 });
        pm[v.severity === "hard" ? "hard" : "soft"] += 1;
      }
      summary.push({ v: v, row: rows[0] || null, ekey: ekey });
      rows.forEach(function (row, i) {
        var vid = v.check + "|" + member + "|" + row.dataset.key;
        wanted[vid] = true;
        var box = row.querySelector(".field-msg");
        var node = box.querySelector('.violation[data-vid="' + cssEscape(vid) + '"]');
        if (!node) {
          node = document.createElement("div");
          node.dataset.vid = vid;
          node.innerHTML = '<div class="violation-text"></div>';
          box.appendChild(node);
        }
        var hard = v.severity === "hard";
        node.className = "violation " + (hard ? "violation-hard" : "violation-soft") + (v.explained ? " is-explained" : "");
        node.querySelector(".violation-text").innerHTML =
          '<span class="badge ' + (hard ? "text-bg-danger" : "text-bg-warning") + '">' + (hard ? "审核" : "合理性审核") + "</span> " +
          esc(v.message) + (hard ? '<span class="text-danger small">（须修改）</span>' : v.explained ? '<span class="text-success small">（已说明）</span>' : '<span class="small">（请核实或填写说明）</span>');
        var area = node.querySelector("textarea");
        if (!hard && i === 0) {
          if (!area) {
            var wrap = document.createElement("div");
            wrap.className = "mt-1";
            var id = "ex-" + index + "-" + row.dataset.key.replace(/[^A-Za-z0-9_-]/g, "-");
            wrap.innerHTML = '<label class="form-label small mb-0" for="' + id + '">填写说明</label>' +
              '<textarea class="form-control form-control-sm explanation" rows="2" maxlength="2000" id="' + id + '"></textarea>';
            node.appendChild(wrap);
            area = wrap.querySelector("textarea");
            area.value = explanationText(ekey);
            if (!editable) area.readOnly = true;
          }
          area.dataset.explanation = ekey;
          if (document.activeElement !== area && !Object.prototype.hasOwnProperty.call(local.expl, ekey)) {
            area.value = explanationText(ekey);
          }
        } else if (area) {
          area.parentNode.remove();
        }
        row.classList.toggle("has-error", hard || row.classList.contains("has-error"));
      });
    });
    root.querySelectorAll(".field-msg .violation").forEach(function (node) {
      if (!wanted[node.dataset.vid]) node.remove();
    });
    root.querySelectorAll(".field-row").forEach(function (row) {
      var hard = !!row.querySelector(".violation-hard");
      var soft = !!row.querySelector(".violation-soft:not(.is-explained)");
      row.classList.toggle("has-error", hard);
      row.classList.toggle("has-warning", !hard && soft);
    });
    root.querySelectorAll(".member-card").forEach(function (card) {
      var pm = perMember[card.dataset.memberKey];
      var box = card.querySelector(".member-violations");
      if (!box) return;
      box.innerHTML = pm ? (pm.hard ? '<span class="badge text-bg-danger">审核 ' + pm.hard + "</span> " : "") +
        (pm.soft ? '<span class="badge text-bg-warning">合理性 ' + pm.soft + "</span>" : "") : "";
    });
    renderSummary(summary);
    renderIndicators();
    announce();
  }

  function renderSummary(items) {
    var box = document.getElementById("check-summary");
    if (!box) return;
    if (!result || !result.violations) {
      box.innerHTML = '<span class="text-muted small">尚未审核。</span>';
      return;
    }
    var hard = items.filter(function (x) { return x.v.severity === "hard"; });
    var soft = items.filter(function (x) { return x.v.severity !== "hard"; });
    var explained = soft.filter(function (x) { return x.v.explained; }).length;
    var unfilled = (result.unfilled || []).length;
    Object.keys(result.member_unfilled || {}).forEach(function (i) { unfilled += result.member_unfilled[i].length; });
    var todo = unfilled ? '<div class="small text-muted">尚有 ' + unfilled + " 项必填内容未填写。</div>" : "";
    if (!items.length) {
      box.innerHTML = '<div class="text-success small check-ok">已填内容未发现审核问题。</div>' + todo;
      return;
    }
    var html = '<div class="small mb-1">' +
      '<span class="badge text-bg-danger">审核 ' + hard.length + " 项须修改</span> " +
      '<span class="badge text-bg-warning">合理性审核 ' + soft.length + " 项</span>" +
      (soft.length ? ' <span class="text-muted">已说明 ' + explained + "</span>" : "") + "</div>" +
      '<ol class="small ps-3 mb-0 violation-list">';
    items.forEach(function (x, i) {
      var where = x.v.member ? memberName(x.v.member) + "：" : "";
      html += '<li class="' + (x.v.severity === "hard" ? "text-danger" : "text-warning-emphasis") + '"><a href="#" data-goto="' + i + '">' +
        esc(where + x.v.message) + "</a></li>";
    });
    html += "</ol>" + todo;
    box.innerHTML = html;
    box.querySelectorAll("[data-goto]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        var item = items[Number(a.dataset.goto)];
        if (item && item.row) openAndScroll(item.row);
      });
    });
  }

  function memberName(key) {
    var card = root.querySelector('.member-card[data-member-key="' + cssEscape(key) + '"]');
    return card ? card.querySelector(".member-title").textContent : data.member_label;
  }

  function fmtNumber(x) {
    if (x === null || x === undefined) return "—";
    if (typeof x !== "number") return String(x);
    return Math.abs(x - Math.round(x)) < 1e-9 ? String(Math.round(x)) : x.toFixed(2);
  }

  function renderIndicators() {
    var body = document.getElementById("indicator-rows");
    if (!body) return;
    var values = (result && result.indicators) || {};
    var reasons = (result && result.reasons) || {};
    var attainment = (result && result.attainment) || {};
    var html = "";
    (data.indicators || []).forEach(function (ind) {
      var v = values[ind.code];
      var t = ind.target;
      var att = attainment[ind.code];
      var target = t ? esc(t.op + " " + t.value) : "";
      var badge = att === true ? ' <span class="badge text-bg-success">达标</span>'
        : att === false ? ' <span class="badge text-bg-danger">未达标</span>' : "";
      var value = v === null || v === undefined
        ? '<span class="text-muted" title="' + esc(reasons[ind.code] || "尚未计算") + '">—</span>'
        : esc(fmtNumber(v)) + (ind.unit === "%" ? "%" : ind.unit ? '<span class="text-muted"> ' + esc(ind.unit) + "</span>" : "");
      html += '<tr data-indicator="' + esc(ind.code) + '"><td class="small">' + esc(ind.label) +
        (v === null && reasons[ind.code] ? '<div class="text-muted indicator-reason">' + esc(reasons[ind.code]) + "</div>" : "") +
        '</td><td class="text-end small text-nowrap">' + value + badge + '</td><td class="text-end small text-nowrap">' + target + "</td></tr>";
    });
    body.innerHTML = html || '<tr><td colspan="3" class="text-muted small">本表没有计算指标。</td></tr>';
  }

  function runCheck() {
    var button = document.getElementById("check-button");
    var box = document.getElementById("check-summary");
    if (button) button.disabled = true;
    var before = editable && unsentCount() ? settle() : Promise.resolve();
    return before.then(function () {
      return request("POST", data.urls.check, {});
    }).then(function (res) {
      result = res.result || {};
      renderResult();
      var note = document.createElement("div");
      note.className = "text-muted small mt-1 check-time";
      note.textContent = "审核时间：" + new Date().toLocaleTimeString() +
        (editable && unsentCount() ? "（本机尚有未保存的修改未参与审核）" : "");
      box.appendChild(note);
    }, function (err) {
      var c = classify(err);
      box.insertAdjacentHTML("afterbegin", '<div class="text-danger small">' +
        esc(c.kind === "offline" ? "网络中断，暂时无法审核；已保存的审核结果如下。" : c.message) + "</div>");
    }).then(function () {
      if (button) button.disabled = false;
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------------------

  // Highlight in the navigator the section being read.
  function followSections() {
    var links = {};
    root.querySelectorAll(".nav-tree a[data-anchor]").forEach(function (a) { links[a.dataset.anchor] = a; });
    var headings = Array.prototype.filter.call(root.querySelectorAll("#entry-form .section-heading[id], #members"),
      function (h) { return links[h.id]; });
    if (!headings.length || !window.requestAnimationFrame) return;
    var queued = false;
    function update() {
      queued = false;
      var current = headings[0];
      for (var i = 0; i < headings.length; i++) {
        if (headings[i].getBoundingClientRect().top <= 120) current = headings[i];
        else break;
      }
      Object.keys(links).forEach(function (k) { links[k].classList.toggle("active", k === current.id); });
    }
    window.addEventListener("scroll", function () {
      if (!queued) { queued = true; requestAnimationFrame(update); }
    }, { passive: true });
    update();
  }

  function bindCard(card) {
    var remove = card.querySelector(".member-remove");
    if (remove) {
      remove.addEventListener("click", function (e) {
        e.preventDefault();
        e.stopPropagation();
        removeMember(card.dataset.memberKey);
      });
    }
  }

  function showLeftover() {
    // Edits kept on this computer that can no longer be saved (the form is locked): show, never drop silently.
    var keys = Object.keys(local.pending);
    var box = document.getElementById("local-leftover");
    if (!box || (!keys.length && !Object.keys(local.expl).length)) return;
    var items = keys.map(function (k) {
      return "<li>" + esc(fieldSpec(k).label) + "：" + esc(show(local.pending[k].value)) + "</li>";
    }).join("");
    box.innerHTML = "<div><strong>本机保留有 " + (keys.length + Object.keys(local.expl).length) +
      " 项未能保存的修改</strong>，报表当前不能修改。请记录后联系上级单位。</div><ul class=\"small mb-1\">" + items +
      '</ul><button type="button" class="btn btn-sm btn-outline-secondary" id="leftover-drop">已记录，丢弃本机修改</button>';
    box.classList.remove("d-none");
    document.getElementById("leftover-drop").addEventListener("click", function () {
      storageKeys().forEach(function (k) { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } });
      box.classList.add("d-none");
    });
  }

  function init() {
    initServer();
    var restored = adoptLocal();
    if (editable) {
      restoreOps();
      Object.keys(local.pending).forEach(function (key) {
        var p = local.pending[key];
        if (!inputOf(key)) {
          // The member entry is gone (removed elsewhere): keep the value only if an add is still queued.
          if (!local.ops.some(function (op) { return op.op === "add" && op.key === splitKey(key).member; })) {
            delete local.pending[key];
          }
          return;
        }
        writeInput(key, p.value);
        markUnsaved(key, true);
        if (p.error) setFieldError(key, p.error);
      });
      persist();
    } else if (restored) {
      showLeftover();
    }
    memberCards().forEach(function (card) { bindCard(card); });
    applyConditions("");
    memberCards().forEach(function (card) { applyConditions(card.dataset.memberKey); });
    renderResult();
    updateProgress();
    setState();

    if (editable) {
      root.addEventListener("input", function (e) {
        var t = e.target;
        if (t.classList.contains("field-input") && t.tagName !== "SELECT") onEdit(t);
        else if (t.classList.contains("explanation")) {
          local.expl[t.dataset.explanation] = t.value;
          persist();
          setState();
          scheduleSave(DEBOUNCE_MS);
        }
      });
      root.addEventListener("change", function (e) {
        if (e.target.classList.contains("field-input") && e.target.tagName === "SELECT") {
          onEdit(e.target);
          scheduleSave(0);
        }
      });
      root.addEventListener("focusout", function (e) {
        var t = e.target;
        if ((t.classList.contains("field-input") || t.classList.contains("explanation")) && unsentCount()) scheduleSave(0);
      });
      root.addEventListener("click", function (e) {
        var quick = e.target.closest(".quick");
        if (quick) {
          var el = quick.closest(".field-row").querySelector(".field-input");
          el.value = quick.dataset.quick;
          onEdit(el);
          scheduleSave(0);
          return;
        }
        var resolve = e.target.closest("[data-resolve]");
        if (resolve) resolveConflict(resolve.dataset.key, resolve.dataset.resolve);
      });
      var saveButton = document.getElementById("save-button");
      if (saveButton) {
        saveButton.addEventListener("click", function () {
          retryDelay = 1000;
          Object.keys(local.pending).forEach(function (k) { local.pending[k].error = null; });
          flush();
        });
      }
      var addButton = document.getElementById("member-add");
      if (addButton) addButton.addEventListener("click", addMember);
      window.addEventListener("online", function () { retryDelay = 1000; scheduleSave(0); });
      window.addEventListener("offline", function () {
        if (unsentCount()) { lastError = { kind: "offline", message: "网络中断" }; setState(); }
      });
      window.addEventListener("beforeunload", function (e) {
        persist();
        if (unsentCount()) {
          e.preventDefault();
          e.returnValue = "";
          return "";
        }
      });
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden") { persist(); if (unsentCount()) flush(); }
      });
      if (unsentCount()) scheduleSave(0);
    }
    // 上报 (review/_submit_box.html): send every unsent edit first, so what is submitted is what was typed.
    root.addEventListener("submit", function (e) {
      var form = e.target;
      if (!editable || !form.classList.contains("submit-form") || !unsentCount()) return;
      e.preventDefault();
      settle().then(function () {
        if (!unsentCount()) form.submit();
        else window.alert("尚有" + unsentCount() + "项修改未能保存（" + stateNode.textContent + "），请处理后再上报。");
      });
    }, true);
    var checkButton = document.getElementById("check-button");
    if (checkButton) checkButton.addEventListener("click", runCheck);
    var expand = document.getElementById("members-expand");
    if (expand) expand.addEventListener("click", function () { memberCards().forEach(function (c) { c.open = true; }); });
    var collapse = document.getElementById("members-collapse");
    if (collapse) collapse.addEventListener("click", function () { memberCards().forEach(function (c) { c.open = false; }); });
    followSections();
    root.dataset.ready = "1";
  }

  // Exposed for tests and debugging only.
  window.fjzlEntry = {
    unsent: unsentCount,
    flush: flush,
    state: function () { return stateNode ? stateNode.dataset.state : ""; }
  };

  init();
})();
