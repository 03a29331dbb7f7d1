/* Data-entry page — rendering: inputs, the save-state badge, messages at the fields (input errors, conflicts,
 * check results, reviewers' comments), conditions and progress, and the live panel (the 上报 card and the
 * results list), which the server renders and every save / check answer carries. */

import {
  S, root, data, editable, keyOf, splitKey, fieldSpec, esc, cssEscape, show, toDisplay, reading, valueOf
} from "./store.js";
import { unsentCount } from "./store.js";
import { conditionHolds } from "./conditions.js";
import { materialize, memberCard, memberName } from "./members.js";

// ---------------------------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------------------------

export function rowOf(key) { return root.querySelector('.field-row[data-key="' + cssEscape(key) + '"]'); }
export function inputOf(key) { return root.querySelector('.field-input[data-key="' + cssEscape(key) + '"]'); }

export function readInput(el) {
  const type = el.closest(".field-row").dataset.type;
  const v = el.value;
  if (el.tagName === "SELECT") {
    if (v === "") return null;
    if (type === "yesno") return v === "true" ? true : v === "false" ? false : v;
    return v;
  }
  return v;
}

export function writeInput(key, value) {
  const el = inputOf(key);
  if (!el) return;
  const text = toDisplay(value, el.closest(".field-row").dataset.type);
  if (el.tagName === "SELECT" && text !== "" && !Array.prototype.some.call(el.options, (o) => o.value === text)) {
    const opt = document.createElement("option");
    opt.value = text;
    opt.textContent = text;
    el.appendChild(opt);
  }
  el.value = text;
}

// ---------------------------------------------------------------------------------------------------------
// Save state indicator
// ---------------------------------------------------------------------------------------------------------

export const stateNode = document.getElementById("save-state");

export function setState() {
  if (!stateNode) return;
  const n = unsentCount();
  const nConflicts = Object.keys(S.conflicts).length;
  const lastError = S.lastError;
  let text, cls;
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
  } else if (S.busy) {
    text = "保存中…"; cls = "text-bg-info";
  } else if (n) {
    const errs = Object.keys(S.local.pending).filter((k) => S.local.pending[k].error).length;
    text = errs ? errs + "项填写有误，未保存" : "有" + n + "项修改待保存";
    cls = errs ? "text-bg-danger" : "text-bg-light border";
  } else {
    text = "已保存"; cls = "text-bg-success";
  }
  if (S.storageBroken && n) text += "（本机存储不可用，请勿关闭页面）";
  stateNode.textContent = text;
  stateNode.className = "save-state badge " + cls;
  stateNode.dataset.state = !editable ? "readonly" : nConflicts ? "conflict" : (lastError && n) ? lastError.kind
    : S.busy ? "saving" : n ? "pending" : "saved";
  stateNode.title = S.lastSavedAt ? "最后保存：" + S.lastSavedAt.toLocaleTimeString() : "";
  let login = document.getElementById("login-link");
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

// ---------------------------------------------------------------------------------------------------------
// Field messages (errors, conflicts)
// ---------------------------------------------------------------------------------------------------------

function msgBox(key) {
  const row = rowOf(key);
  return row ? row.querySelector(".field-msg") : null;
}

export function setFieldError(key, message) {
  const box = msgBox(key);
  if (!box) return;
  let node = box.querySelector(".msg-error");
  const row = rowOf(key);
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

export function markUnsaved(key, on) {
  const row = rowOf(key);
  if (row) row.classList.toggle("is-unsaved", !!on);
}

export function flashSaved(key) {
  const row = rowOf(key);
  if (!row) return;
  row.classList.add("just-saved");
  setTimeout(() => row.classList.remove("just-saved"), 1200);
}

function conflictNode(key, c) {
  const who = (c.by ? c.by : "他人") + (c.at ? "，" + c.at : "");
  const pending = S.local.pending[key];
  const node = document.createElement("div");
  node.innerHTML =
    '<div class="fw-semibold">' + esc(c.label || fieldSpec(key).label) + " 已被他人修改</div>" +
    "<div>您的值：<strong class=\"conflict-yours\">" + esc(show(pending ? pending.value : c.yours)) + "</strong></div>" +
    "<div>他人已保存的值：<strong class=\"conflict-theirs\">" + esc(show(c.theirs)) + "</strong>（" + esc(who) + "）</div>" +
    '<div class="mt-1 d-flex gap-1"><button type="button" class="btn btn-sm btn-danger" data-resolve="mine" data-key="' +
    esc(key) + '">使用我的值</button><button type="button" class="btn btn-sm btn-outline-secondary" data-resolve="theirs" data-key="' +
    esc(key) + '">使用对方的值</button></div>';
  return node;
}

export function renderConflicts() {
  const panel = document.getElementById("conflicts");
  root.querySelectorAll(".field-msg .msg-conflict").forEach((n) => n.remove());
  if (panel) panel.textContent = "";
  Object.keys(S.conflicts).forEach((key) => {
    const c = S.conflicts[key];
    const { member } = splitKey(key);
    if (member) materialize(memberCard(member));
    const box = msgBox(key);
    if (box) {
      const node = conflictNode(key, c);
      node.className = "msg-conflict alert alert-danger p-2 mb-1 small";
      box.insertBefore(node, box.firstChild);
    }
    if (panel) {
      const p = conflictNode(key, c);
      p.className = "alert alert-danger p-2 mb-1 small";
      panel.appendChild(p);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Conditions and progress
// ---------------------------------------------------------------------------------------------------------

function visible(field, member) {
  const specs = member ? data.member_fields : data.fields;
  const tree = (specs[field] || {}).condition_tree;
  return conditionHolds(tree, (code) => reading(valueOf(keyOf(member, code)), (specs[code] || {}).type));
}

export function applyConditions(member) {
  const scope = member ? memberCard(member) : document.getElementById("entry-form");
  if (!scope) return;
  scope.querySelectorAll(".field-row[data-condition]").forEach((row) => {
    row.classList.toggle("d-none", !visible(row.dataset.field, row.dataset.member || ""));
  });
}

function isFilled(row) {
  const el = row.querySelector(".field-input");
  return !!el && el.value !== "";
}

let progressQueued = false;

export function updateProgress() {
  if (progressQueued) return;
  progressQueued = true;
  requestAnimationFrame(() => {
    progressQueued = false;
    const counts = {};
    let filled = 0, required = 0;
    document.getElementById("entry-form").querySelectorAll(".field-row").forEach((row) => {
      if (row.dataset.optional || row.classList.contains("d-none")) return;
      const f = isFilled(row) ? 1 : 0;
      required += 1;
      filled += f;
      (row.dataset.sections || "").split(" ").forEach((a) => {
        if (!a) return;
        const c = counts[a] || (counts[a] = [0, 0]);
        c[0] += f;
        c[1] += 1;
      });
    });
    root.querySelectorAll("[data-progress]").forEach((n) => {
      const c = counts[n.dataset.progress] || [0, 0];
      n.textContent = c[0] + "/" + c[1];
      n.classList.toggle("is-complete", c[1] > 0 && c[0] === c[1]);
    });
    const total = document.getElementById("progress-total");
    if (total) total.textContent = filled + "/" + required;
    const bar = document.getElementById("progress-bar");
    if (bar) { bar.max = required || 1; bar.value = required ? filled : 1; }
    root.querySelectorAll(".member-card[data-filled='1']").forEach((card) => {
      let mf = 0, mr = 0;
      card.querySelectorAll(".field-row").forEach((row) => {
        if (row.dataset.optional || row.classList.contains("d-none")) return;
        mr += 1;
        mf += isFilled(row) ? 1 : 0;
      });
      const badge = card.querySelector(".member-progress");
      if (badge) {
        badge.textContent = mf + "/" + mr;
        badge.classList.toggle("is-complete", mr > 0 && mf === mr);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Check results at the fields, and the live panel
// ---------------------------------------------------------------------------------------------------------

function explanationKey(v) {
  if (v.explanation_key) return v.explanation_key;
  return v.member ? v.check + "@" + v.member : v.check;
}

function explanationText(k) {
  if (Object.prototype.hasOwnProperty.call(S.local.expl, k)) return S.local.expl[k];
  return S.serverExpl[k] || "";
}

export function openAndScroll(row) {
  const details = row.closest("details");
  if (details) details.open = true;
  row.scrollIntoView({ block: "center" });
  const el = row.querySelector(".field-input");
  if (el) el.focus({ preventScroll: true });
}

/** Go to a field named by the live panel or a comment (materialising its member card first). */
export function gotoField(member, code) {
  if (member) {
    const card = memberCard(member);
    if (!card) return;
    materialize(card);
    card.open = true;
  }
  const row = code ? rowOf(keyOf(member, code)) : null;
  if (row) openAndScroll(row);
  else if (member) memberCard(member).scrollIntoView({ block: "start" });
}

function violationHtml(v, hard) {
  return '<span class="badge ' + (hard ? "text-bg-danger" : "text-bg-warning") + '">' + (hard ? "审核" : "合理性审核") + "</span> " +
    esc(v.message) + (hard ? '<span class="text-danger small">（须修改）</span>' : v.explained
      ? '<span class="text-success small">（已说明）</span>' : '<span class="small">（请核实或填写说明）</span>');
}

/** The check result at each field shown (violations with the 填写说明 box) and the per-member badges. */
export function renderViolations() {
  const violations = (S.result && S.result.violations) || [];
  const wanted = {};
  const perMember = {};
  violations.forEach((v, index) => {
    const member = typeof v.member === "string" ? v.member : "";
    const rows = (v.fields || []).map((code) => rowOf(keyOf(member, code))).filter(Boolean);
    const ekey = explanationKey(v);
    const hard = v.severity === "hard";
    if (member) {
      const pm = perMember[member] || (perMember[member] = { hard: 0, soft: 0 });
      pm[hard ? "hard" : "soft"] += 1;
    }
    rows.forEach((row, i) => {
      const vid = v.check + "|" + member + "|" + row.dataset.key;
      wanted[vid] = true;
      const box = row.querySelector(".field-msg");
      let node = box.querySelector('.violation[data-vid="' + cssEscape(vid) + '"]');
      if (!node) {
        node = document.createElement("div");
        node.dataset.vid = vid;
        node.innerHTML = '<div class="violation-text"></div>';
        box.appendChild(node);
      }
      node.className = "violation " + (hard ? "violation-hard" : "violation-soft") + (v.explained ? " is-explained" : "");
      node.querySelector(".violation-text").innerHTML = violationHtml(v, hard);
      let area = node.querySelector("textarea");
      if (!hard && i === 0) {
        if (!area) {
          const wrap = document.createElement("div");
          wrap.className = "mt-1";
          const id = "ex-" + index + "-" + row.dataset.key.replace(/[^A-Za-z0-9_-]/g, "-");
          wrap.innerHTML = '<label class="form-label small mb-0" for="' + id + '">填写说明</label>' +
            '<textarea class="form-control form-control-sm explanation" rows="2" maxlength="2000" id="' + id + '"></textarea>';
          node.appendChild(wrap);
          area = wrap.querySelector("textarea");
          area.value = explanationText(ekey);
          if (!editable) area.readOnly = true;
        }
        area.dataset.explanation = ekey;
        if (document.activeElement !== area && !Object.prototype.hasOwnProperty.call(S.local.expl, ekey)) {
          area.value = explanationText(ekey);
        }
      } else if (area) {
        area.parentNode.remove();
      }
    });
  });
  root.querySelectorAll(".field-msg .violation").forEach((node) => {
    if (!wanted[node.dataset.vid]) node.remove();
  });
  root.querySelectorAll(".field-row").forEach((row) => {
    const hard = !!row.querySelector(".violation-hard");
    const soft = !!row.querySelector(".violation-soft:not(.is-explained)");
    row.classList.toggle("has-error", hard);
    row.classList.toggle("has-warning", !hard && soft);
  });
  root.querySelectorAll(".member-card").forEach((card) => {
    const pm = perMember[card.dataset.memberKey];
    const box = card.querySelector(".member-violations");
    if (!box) return;
    box.innerHTML = pm ? (pm.hard ? '<span class="badge text-bg-danger">审核 ' + pm.hard + "</span> " : "") +
      (pm.soft ? '<span class="badge text-bg-warning">合理性 ' + pm.soft + "</span>" : "") : "";
  });
  announce();
}

function announce() {
  // Other scripts on the page can follow the latest check result.
  document.dispatchEvent(new CustomEvent("fjzl:result", { detail: { submission: data.id, result: S.result } }));
}

let heldPanel = null;

/** Swap in the server-rendered live panel: the 上报 card's verdict and the results list, one evaluation. */
export function renderPanel(panel) {
  if (!panel) return;
  const verdict = document.getElementById("live-verdict-slot");
  const details = document.getElementById("live-details");
  if (verdict && typeof panel.verdict === "string") verdict.innerHTML = panel.verdict;
  if (details && typeof panel.details === "string") {
    const active = document.activeElement;
    if (active && details.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) {
      heldPanel = panel.details;  // never replace a box someone is typing in; swap when they leave it
    } else {
      details.innerHTML = panel.details;
      heldPanel = null;
    }
  }
}

export function releaseHeldPanel() {
  const details = document.getElementById("live-details");
  if (heldPanel !== null && details && !details.contains(document.activeElement)) {
    details.innerHTML = heldPanel;
    heldPanel = null;
  }
}

/** Reviewers' comments at their fields: a marker on the row and the text under it. */
export function renderComments(member) {
  (data.comments || []).forEach((c, i) => {
    if (member !== undefined && splitKey(c.key).member !== member) return;
    const row = rowOf(c.key);
    if (!row || row.querySelector('.field-comment-note[data-comment="' + i + '"]')) return;
    row.classList.add("has-comment");
    const label = row.querySelector(".field-label");
    if (label && !label.querySelector(".comment-marker")) {
      const marker = document.createElement("span");
      marker.className = "badge comment-marker ms-1";
      marker.title = "审核批注";
      marker.textContent = "批注";
      label.appendChild(marker);
    }
    const note = document.createElement("div");
    note.className = "field-comment-note small";
    note.dataset.comment = String(i);
    note.innerHTML = '<span class="fw-semibold">审核批注</span>（' + esc(c.author) + "，" + esc(c.at) + "）：" + esc(c.text) +
      (c.answer ? '<div class="text-success">回复：' + esc(c.answer) + "</div>" : "");
    row.querySelector(".field-msg").appendChild(note);
  });
}

export function updateStatus(res) {
  const badge = document.getElementById("status-badge");
  if (badge && res.status) {
    badge.textContent = res.status_display;
    badge.className = "badge status-badge status-" + res.status;
  }
}

/** Edits kept on this computer that can no longer be saved (the form is locked): shown, never dropped silently. */
export function showLeftover(dropAll) {
  const keys = Object.keys(S.local.pending);
  const box = document.getElementById("local-leftover");
  if (!box || (!keys.length && !Object.keys(S.local.expl).length)) return;
  const items = keys.map((k) => "<li>" + esc(fieldSpec(k).label) + "：" + esc(show(S.local.pending[k].value)) + "</li>").join("");
  box.innerHTML = "<div><strong>本机保留有 " + (keys.length + Object.keys(S.local.expl).length) +
    " 项未能保存的修改</strong>，报表当前不能修改。请记录后联系上级单位。</div><ul class=\"small mb-1\">" + items +
    '</ul><button type="button" class="btn btn-sm btn-outline-secondary" id="leftover-drop">已记录，丢弃本机修改</button>';
  box.classList.remove("d-none");
  document.getElementById("leftover-drop").addEventListener("click", () => {
    dropAll();
    box.classList.add("d-none");
  });
}

export { memberName };
