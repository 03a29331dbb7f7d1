/* Data-entry page — wiring: restores what this browser kept, binds the inputs, buttons and member cards.
 * Native ES modules, no build step: store.js (state and the local copy), sync.js (autosave and check),
 * members.js (member cards), render.js (everything drawn), conditions.js (when a field is shown). */

import { S, root, data, editable, DEBOUNCE_MS, splitKey, initServer, adoptLocal, persist, storageKeys, unsentCount } from "./store.js";
import {
  stateNode, inputOf, writeInput, markUnsaved, setFieldError, setState, applyConditions, updateProgress,
  renderViolations, renderComments, gotoField, showLeftover, releaseHeldPanel
} from "./render.js";
import { memberCards, memberCard, materialize, materializeAll, bindCard, addMember, restoreOps } from "./members.js";
import { flush, settle, scheduleSave, onEdit, resolveConflict, runCheck } from "./sync.js";

// Highlight in the navigator the section being read.
function followSections() {
  const links = {};
  root.querySelectorAll(".nav-tree a[data-anchor]").forEach((a) => { links[a.dataset.anchor] = a; });
  const headings = Array.prototype.filter.call(root.querySelectorAll("#entry-form .section-heading[id], #members"),
    (h) => links[h.id]);
  if (!headings.length) return;
  let queued = false;
  function update() {
    queued = false;
    let current = headings[0];
    for (let i = 0; i < headings.length; i++) {
      if (headings[i].getBoundingClientRect().top <= 120) current = headings[i];
      else break;
    }
    Object.keys(links).forEach((k) => links[k].classList.toggle("active", k === current.id));
  }
  window.addEventListener("scroll", () => {
    if (!queued) { queued = true; requestAnimationFrame(update); }
  }, { passive: true });
  update();
}

function restorePending() {
  const local = S.local;
  Object.keys(local.pending).forEach((key) => {
    const p = local.pending[key];
    const member = splitKey(key).member;
    if (member) {
      const card = memberCard(member);
      if (!card) {
        // The member entry is gone (removed elsewhere): keep the value only if an add is still queued.
        if (!local.ops.some((op) => op.op === "add" && op.key === member)) delete local.pending[key];
        return;
      }
      materialize(card);  // show the kept value where it belongs
    } else if (!inputOf(key)) {
      delete local.pending[key];
      return;
    }
    writeInput(key, p.value);
    markUnsaved(key, true);
    if (p.error) setFieldError(key, p.error);
  });
  persist();
}

function bindEditing() {
  root.addEventListener("input", (e) => {
    const t = e.target;
    if (t.classList.contains("field-input") && t.tagName !== "SELECT") onEdit(t);
    else if (t.classList.contains("explanation")) {
      S.local.expl[t.dataset.explanation] = t.value;
      persist();
      setState();
      scheduleSave(DEBOUNCE_MS);
    }
  });
  root.addEventListener("change", (e) => {
    if (e.target.classList.contains("field-input") && e.target.tagName === "SELECT") {
      onEdit(e.target);
      scheduleSave(0);
    }
  });
  root.addEventListener("focusout", (e) => {
    const t = e.target;
    if ((t.classList.contains("field-input") || t.classList.contains("explanation")) && unsentCount()) scheduleSave(0);
  });
  root.addEventListener("click", (e) => {
    const quick = e.target.closest(".quick");
    if (quick) {
      const el = quick.closest(".field-row").querySelector(".field-input");
      el.value = quick.dataset.quick;
      onEdit(el);
      scheduleSave(0);
      return;
    }
    const resolve = e.target.closest("[data-resolve]");
    if (resolve) resolveConflict(resolve.dataset.key, resolve.dataset.resolve);
  });
  const saveButton = document.getElementById("save-button");
  if (saveButton) {
    saveButton.addEventListener("click", () => {
      S.retryDelay = 1000;
      Object.keys(S.local.pending).forEach((k) => { S.local.pending[k].error = null; });
      flush();
    });
  }
  const addButton = document.getElementById("member-add");
  if (addButton) addButton.addEventListener("click", addMember);
  window.addEventListener("online", () => { S.retryDelay = 1000; scheduleSave(0); });
  window.addEventListener("offline", () => {
    if (unsentCount()) { S.lastError = { kind: "offline", message: "网络中断" }; setState(); }
  });
  window.addEventListener("beforeunload", (e) => {
    persist();
    if (unsentCount()) {
      e.preventDefault();
      e.returnValue = "";
      return "";
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") { persist(); if (unsentCount()) flush(); }
  });
}

function init() {
  initServer();
  const restored = adoptLocal();
  if (editable) {
    restoreOps();
    restorePending();
  } else if (restored) {
    showLeftover(() => storageKeys().forEach((k) => { try { localStorage.removeItem(k); } catch (e) { /* ignore */ } }));
  }
  memberCards().forEach((card) => bindCard(card));
  applyConditions("");
  memberCards().forEach((card) => { if (card.dataset.filled === "1") applyConditions(card.dataset.memberKey); });
  renderComments("");
  renderViolations();
  updateProgress();
  setState();
  if (editable) {
    bindEditing();
    if (unsentCount()) scheduleSave(0);
  }
  document.getElementById("entry-form").addEventListener("submit", (e) => e.preventDefault());
  // 上报: send every unsent edit first, so what is submitted is what was typed.
  root.addEventListener("submit", (e) => {
    const form = e.target;
    if (!editable || !form.classList.contains("submit-form") || !unsentCount()) return;
    e.preventDefault();
    settle().then(() => {
      // the save's answer may have swapped the live panel (and this form) for a fresh one
      const current = form.isConnected ? form : document.getElementById("submit-form");
      if (!unsentCount() && current) current.submit();
      else window.alert("尚有" + unsentCount() + "项修改未能保存（" + stateNode.textContent + "），请处理后再上报。");
    });
  }, true);
  // Links of the live panel and the comment list go to their field.
  root.addEventListener("click", (e) => {
    const link = e.target.closest("[data-goto-field], [data-goto-member]");
    if (!link) return;
    e.preventDefault();
    gotoField(link.dataset.gotoMember || "", link.dataset.gotoField || "");
  });
  root.addEventListener("focusout", () => setTimeout(releaseHeldPanel, 0));
  const checkButton = document.getElementById("check-button");
  if (checkButton) checkButton.addEventListener("click", runCheck);
  const expand = document.getElementById("members-expand");
  if (expand) expand.addEventListener("click", () => {
    materializeAll();
    memberCards().forEach((c) => { c.open = true; });
  });
  const collapse = document.getElementById("members-collapse");
  if (collapse) collapse.addEventListener("click", () => memberCards().forEach((c) => { c.open = false; }));
  followSections();
  root.dataset.ready = "1";
}

if (data && root) {
  // Exposed for tests and debugging only.
  window.fjzlEntry = {
    unsent: unsentCount,
    flush,
    state: () => (stateNode ? stateNode.dataset.state : "")
  };
  init();
}
