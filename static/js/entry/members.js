/* Data-entry page — member entries (表3/表4 成员单位): compact cards whose body is built from the one
 * <template id="member-template"> when the card is first opened (or needed), adding and removing entries. */

import { S, root, data, editable, keyOf, splitKey, cssEscape, randomKey, valueOf, persist } from "./store.js";
import {
  writeInput, markUnsaved, setFieldError, applyConditions, updateProgress, renderViolations, renderConflicts,
  renderComments, setState
} from "./render.js";
import { scheduleSave } from "./sync.js";

export function memberCards() { return root.querySelectorAll("#member-list .member-card"); }

export function memberCard(key) {
  return root.querySelector('.member-card[data-member-key="' + cssEscape(key) + '"]');
}

function templateBody(key) {
  const tpl = document.getElementById("member-template");
  if (!tpl) return null;
  const holder = document.createElement("div");
  holder.innerHTML = tpl.innerHTML.split("__KEY__").join(key);
  return holder.firstElementChild;
}

/** Give a card its field rows (once): from the template, filled with what the page holds for that entry. */
export function materialize(card) {
  if (!card || card.dataset.filled === "1") return card;
  const key = card.dataset.memberKey;
  const full = templateBody(key);
  if (!full) return card;
  const body = card.querySelector(".member-body");
  body.replaceWith(full.querySelector(".member-body"));
  card.dataset.filled = "1";
  card.querySelectorAll(".field-input").forEach((el) => {
    const k = el.dataset.key;
    writeInput(k, valueOf(k));
    const p = S.local.pending[k];
    if (p) {
      markUnsaved(k, true);
      if (p.error) setFieldError(k, p.error);
    }
  });
  applyConditions(key);
  renderComments(key);
  renderViolations();  // the check result's marks and 填写说明 boxes for the new rows
  updateProgress();
  return card;
}

export function materializeAll() { memberCards().forEach((c) => materialize(c)); }

export function memberName(key) {
  const card = memberCard(key);
  return card ? card.querySelector(".member-title").textContent : data.member_label;
}

export function updateMemberTitle(member) {
  const card = memberCard(member);
  if (!card) return;
  const raw = valueOf(keyOf(member, "hospital_name"));
  const name = raw === null || raw === undefined ? "" : String(raw).trim();
  const index = Array.prototype.indexOf.call(memberCards(), card) + 1;
  card.querySelector(".member-title").textContent = name && name !== "--" ? name : data.member_label + index;
}

function updateMemberCount() {
  const n = memberCards().length;
  const c = document.getElementById("member-count");
  if (c) c.textContent = n;
  const nav = document.getElementById("nav-member-count");
  if (nav) nav.textContent = n;
  const empty = document.getElementById("member-empty");
  if (empty) empty.classList.toggle("d-none", n > 0);
}

export function bindCard(card) {
  const remove = card.querySelector(".member-remove");
  if (remove) {
    remove.addEventListener("click", (e) => {
      e.preventDefault();
      e.stopPropagation();
      removeMember(card.dataset.memberKey);
    });
  }
  card.addEventListener("toggle", () => {
    if (card.open && card.dataset.filled !== "1") materialize(card);
  });
}

function renderMemberCard(key, opts) {
  const card = templateBody(key);
  if (!card) return null;
  card.dataset.filled = "1";
  card.open = opts.open !== false;
  if (opts.unit) card.dataset.unit = opts.unit;
  document.getElementById("member-list").appendChild(card);
  bindCard(card);
  updateMemberCount();
  return card;
}

function setServer(key, value) {
  S.server[key] = value;
  writeInput(key, value);
}

export function addMember() {
  const sel = document.getElementById("member-unit");
  const opt = sel && sel.selectedOptions ? sel.selectedOptions[0] : null;
  const unit = opt ? opt.value : "";
  const key = randomKey();
  S.local.ops.push({ op: "add", key, unit, name: unit ? opt.dataset.name : "", org: unit ? opt.dataset.org : "" });
  const card = renderMemberCard(key, { unit, open: true });
  if (unit) {
    setServer(keyOf(key, "hospital_name"), opt.dataset.name);
    if (opt.dataset.org) setServer(keyOf(key, "org_code"), opt.dataset.org);
    opt.remove();
  }
  updateMemberTitle(key);
  applyConditions(key);
  persist();
  setState();
  updateProgress();
  const first = card && card.querySelector(".field-input:not([readonly])");
  if (first && !unit) first.focus();
  scheduleSave(0);
}

export function removeMember(key) {
  const local = S.local;
  const card = memberCard(key);
  const title = card ? card.querySelector(".member-title").textContent : "";
  if (!window.confirm("删除“" + title + "”及其已填写的全部数据？")) return;
  const queuedAdd = local.ops.findIndex((op) => op.op === "add" && op.key === key);
  if (queuedAdd >= 0 && !local.ops[queuedAdd].tried) local.ops.splice(queuedAdd, 1);  // never reached the server
  else local.ops.push({ op: "remove", key });
  Object.keys(local.expl).forEach((k) => { if (k.slice(-key.length - 1) === "@" + key) delete local.expl[k]; });
  Object.keys(local.pending).forEach((k) => { if (splitKey(k).member === key) delete local.pending[k]; });
  Object.keys(S.conflicts).forEach((k) => { if (splitKey(k).member === key) delete S.conflicts[k]; });
  if (card) {
    const unit = card.dataset.unit;
    const sel = document.getElementById("member-unit");
    if (unit && sel) {
      const opt = document.createElement("option");
      opt.value = unit;
      opt.textContent = title;
      opt.dataset.name = title;
      sel.insertBefore(opt, sel.firstChild);
    }
    card.remove();
  }
  memberCards().forEach((c) => updateMemberTitle(c.dataset.memberKey));
  updateMemberCount();
  persist();
  renderConflicts();
  setState();
  updateProgress();
  scheduleSave(0);
}

/** Replay queued member operations of an earlier visit on the page as the server sent it. */
export function restoreOps() {
  S.local.ops.forEach((op) => {
    const card = memberCard(op.key);
    if (op.op === "add" && !card) {
      renderMemberCard(op.key, { unit: op.unit, open: true });
      if (op.name) setServer(keyOf(op.key, "hospital_name"), op.name);
      if (op.org) setServer(keyOf(op.key, "org_code"), op.org);
      const sel = document.getElementById("member-unit");
      if (op.unit && sel) {
        Array.prototype.forEach.call(sel.options, (o) => { if (o.value === op.unit) o.remove(); });
      }
    } else if (op.op === "remove" && card) {
      card.remove();
    }
  });
  updateMemberCount();
}

export { editable };
