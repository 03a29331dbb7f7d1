/* Self-assessment report editor: contenteditable sections, autosave with an offline copy, facts insertion,
 * evidence uploads. A native ES module, no inline script; the page passes its data as data- attributes.
 *
 * Every edit is copied to localStorage first ({base, sections}); a debounced PATCH sends the changed
 * sections with the revision the page was loaded at. A section is dropped from the local copy only when the
 * server confirmed exactly that text. Network failures retry with backoff; on the next load, unsent sections
 * are restored into the editors and sent again. A section someone else changed meanwhile comes back as a
 * conflict with both texts; the writer chooses.
 */

const root = document.getElementById("report");

function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function textOf(html) {
  const div = document.createElement("div");
  div.innerHTML = html;
  return (div.textContent || "").trim();
}

export class ReportEditor {
  constructor(node) {
    this.root = node;
    this.api = node.dataset.api;
    this.uploadUrl = node.dataset.upload;
    this.editable = node.dataset.editable === "1";
    this.revision = Number(node.dataset.revision);
    this.storageKey = `fjzl.report.${node.dataset.id}.${node.dataset.user}`;
    this.editors = new Map();
    node.querySelectorAll(".report-editor").forEach((el) => this.editors.set(el.dataset.key, el));
    this.pending = {};      // key -> html not yet confirmed by the server
    this.inFlight = null;   // {key: html} being sent
    this.timer = null;
    this.retryDelay = 1000;
    this.lastRange = null;
    this.state = document.getElementById("save-state");
    this.notice = document.getElementById("report-notice");
  }

  start() {
    if (!this.editable) return;
    this.restore();
    this.editors.forEach((el, key) => {
      el.addEventListener("input", () => this.changed(key));
      el.addEventListener("blur", () => this.flushSoon(0));
      el.addEventListener("keyup", () => this.remember(el));
      el.addEventListener("mouseup", () => this.remember(el));
    });
    this.root.querySelectorAll(".editor-toolbar [data-command]").forEach((btn) => {
      btn.addEventListener("mousedown", (e) => e.preventDefault());
      btn.addEventListener("click", () => {
        document.execCommand(btn.dataset.command, false, null);
        const section = btn.closest(".report-section");
        if (section) this.changed(section.dataset.key);
      });
    });
    this.root.querySelectorAll(".fact-insert").forEach((btn) => {
      btn.addEventListener("click", () => this.insertFact(btn.dataset.key, btn.dataset.text));
    });
    this.root.querySelectorAll(".file-upload").forEach((input) => {
      input.addEventListener("change", () => this.upload(input));
    });
    this.root.addEventListener("click", (e) => {
      const del = e.target.closest(".file-delete");
      if (del) this.deleteFile(del.dataset.id, del.closest(".file-item"));
      const choice = e.target.closest("[data-resolve]");
      if (choice) this.resolve(choice.dataset.key, choice.dataset.resolve);
    });
    window.addEventListener("online", () => this.flushSoon(0));
    window.addEventListener("beforeunload", (e) => {
      if (Object.keys(this.pending).length) { e.preventDefault(); e.returnValue = ""; }
    });
    if (Object.keys(this.pending).length) this.flushSoon(0);
  }

  unsent() { return Object.keys(this.pending).length; }

  // --- local copy --------------------------------------------------------------------------------------------
  persist() {
    try {
      if (Object.keys(this.pending).length === 0) localStorage.removeItem(this.storageKey);
      else localStorage.setItem(this.storageKey, JSON.stringify({ base: this.revision, sections: this.pending,
                                                                 savedAt: Date.now() }));
    } catch (err) { /* private mode or full: the server copy is all we have */ }
  }

  restore() {
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem(this.storageKey) || "null"); } catch (err) { saved = null; }
    if (!saved || !saved.sections) return;
    const restored = [];
    Object.entries(saved.sections).forEach(([key, html]) => {
      const el = this.editors.get(key);
      if (!el) return;
      if (el.innerHTML !== html) { el.innerHTML = html; restored.push(key); }
      this.pending[key] = html;
      el.classList.add("is-dirty");
    });
    if (typeof saved.base === "number" && saved.base < this.revision) this.revision = saved.base;
    if (restored.length) {
      this.say(`已恢复本机保存但尚未提交的${restored.length}节内容，正在提交……`);
      this.notice.dataset.kind = "restored";
    }
    this.updateProgress();
  }

  // --- editing -----------------------------------------------------------------------------------------------
  remember(el) {
    const sel = window.getSelection();
    if (sel && sel.rangeCount && el.contains(sel.anchorNode)) this.lastRange = { el, range: sel.getRangeAt(0) };
  }

  changed(key) {
    const el = this.editors.get(key);
    if (!el) return;
    this.pending[key] = el.innerHTML;
    el.classList.add("is-dirty");
    this.persist();
    this.setState("未保存", "", "dirty");
    this.updateProgress();
    this.flushSoon(1000);
  }

  insertFact(key, text) {
    const el = this.editors.get(key);
    if (!el) return;
    const p = document.createElement("p");
    p.textContent = text;
    if (this.lastRange && this.lastRange.el === el) {
      const block = this.lastRange.range.startContainer;
      const top = [...el.childNodes].find((n) => n === block || n.contains(block));
      if (top && top.nextSibling) el.insertBefore(p, top.nextSibling); else el.appendChild(p);
    } else {
      el.appendChild(p);
    }
    this.changed(key);
  }

  updateProgress() {
    const out = document.getElementById("report-progress");
    const bar = document.getElementById("report-progress-bar");
    if (!out) return;
    let written = 0;
    this.editors.forEach((el) => { if (el.classList.contains("is-required") && textOf(el.innerHTML)) written += 1; });
    out.textContent = `${written}/${out.dataset.required}`;
    if (bar) bar.value = written;
  }

  // --- saving ------------------------------------------------------------------------------------------------
  flushSoon(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), ms);
  }

  async flush() {
    if (this.inFlight || Object.keys(this.pending).length === 0) return;
    const sending = { ...this.pending };
    this.inFlight = sending;
    this.setState("保存中……", "", "saving");
    let response;
    try {
      response = await fetch(this.api, {
        method: "PATCH", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: JSON.stringify({ base_revision: this.revision,
                               sections: Object.entries(sending).map(([key, text]) => ({ key, text })) }),
      });
    } catch (err) {
      this.inFlight = null;
      this.setState("离线：内容已保存在本机，恢复联网后自动提交", "warning", "offline");
      this.retry();
      return;
    }
    this.inFlight = null;
    let body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    if (response.ok || (response.status === 409 && body.conflicts)) {
      this.retryDelay = 1000;
      if (typeof body.revision === "number") this.revision = body.revision;
      (body.saved || []).forEach((key) => this.confirm(key, sending[key]));
      Object.keys(sending).forEach((key) => {
        if (!(body.conflicts || []).some((c) => c.key === key)) this.confirm(key, sending[key]);
      });
      (body.conflicts || []).forEach((c) => this.showConflict(c));
      this.persist();
      if (!body.conflicts && this.notice && this.notice.dataset.kind === "restored") this.notice.classList.add("d-none");
      this.setState(body.conflicts ? "有冲突，请处理" : "已保存", body.conflicts ? "danger" : "success",
                    body.conflicts ? "conflict" : "saved");
      if (Object.keys(this.pending).some((k) => !(body.conflicts || []).some((c) => c.key === k))) this.flushSoon(300);
      return;
    }
    if (response.status >= 500 || response.status === 429) {
      this.setState("保存失败，稍后自动重试", "warning", "offline");
      this.retry();
      return;
    }
    if (response.status === 403 && !body.code) {
      this.setState("登录已失效：内容已保存在本机，请重新登录", "danger", "login");
      return;
    }
    this.setState(body.detail || "保存被拒绝", "danger", "refused");
  }

  confirm(key, html) {
    if (this.pending[key] === html) {
      delete this.pending[key];
      const el = this.editors.get(key);
      if (el) el.classList.remove("is-dirty");
    }
  }

  retry() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, 30000);
  }

  showConflict(c) {
    const box = this.root.querySelector(`.section-conflict[data-key="${c.key}"]`);
    const el = this.editors.get(c.key);
    if (!box || !el) return;
    el.classList.add("is-conflict");
    this.conflicts = this.conflicts || {};
    this.conflicts[c.key] = c;
    box.classList.remove("d-none");
    box.textContent = "";
    const head = document.createElement("div");
    head.textContent = "本节已被他人修改，您的内容尚未保存。对方保存的内容：";
    const theirs = document.createElement("div");
    theirs.className = "conflict-theirs my-1";
    theirs.textContent = textOf(c.theirs) || "（空）";
    const mine = document.createElement("button");
    mine.type = "button"; mine.className = "btn btn-sm btn-danger me-1";
    mine.dataset.resolve = "mine"; mine.dataset.key = c.key; mine.textContent = "保留我的内容";
    const other = document.createElement("button");
    other.type = "button"; other.className = "btn btn-sm btn-outline-secondary";
    other.dataset.resolve = "theirs"; other.dataset.key = c.key; other.textContent = "采用对方的内容";
    box.append(head, theirs, mine, other);
  }

  resolve(key, how) {
    const c = (this.conflicts || {})[key];
    const el = this.editors.get(key);
    const box = this.root.querySelector(`.section-conflict[data-key="${key}"]`);
    if (!c || !el) return;
    delete this.conflicts[key];
    el.classList.remove("is-conflict");
    if (box) box.classList.add("d-none");
    if (how === "theirs") {
      el.innerHTML = c.theirs;
      delete this.pending[key];
      el.classList.remove("is-dirty");
      this.persist();
      this.updateProgress();
      return;
    }
    this.pending[key] = el.innerHTML;
    this.persist();
    this.flushSoon(0);
  }

  // --- files -------------------------------------------------------------------------------------------------
  async upload(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    if (input.dataset.section) form.append("section", input.dataset.section);
    if (input.dataset.stamped) form.append("stamped", "true");
    if (input.dataset.fieldFrom) form.append("field", document.getElementById(input.dataset.fieldFrom).value);
    this.say(`正在上传“${file.name}”……`);
    let response; let body = {};
    try {
      response = await fetch(this.uploadUrl, { method: "POST", body: form, credentials: "same-origin",
                                                headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" } });
      body = await response.json();
    } catch (err) {
      this.say("上传失败：网络不可用，请稍后重试。");
      return;
    } finally {
      input.value = "";
    }
    if (response.status !== 201) {
      this.say(`上传失败：${body.detail || response.status}`);
      return;
    }
    this.say(`已上传“${body.name}”。`);
    this.addFile(body, input);
  }

  addFile(a, input) {
    if (a.stamped) {
      const slot = this.root.querySelector("#stamped-slot .stamped-current");
      slot.textContent = "";
      const link = document.createElement("a");
      link.href = a.url; link.className = "stamped-link"; link.textContent = a.name;
      slot.append(link);
      return;
    }
    const list = a.section
      ? this.root.querySelector(`.file-list[data-section="${a.section}"]`)
      : this.root.querySelector(".file-list[data-field-list]");
    if (!list) return;
    const empty = list.querySelector(".empty");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.className = a.section ? "list-inline-item file-item" : "file-item";
    li.dataset.id = a.id;
    if (a.field && input && input.dataset.fieldFrom) {
      const select = document.getElementById(input.dataset.fieldFrom);
      li.append(`${select.options[select.selectedIndex].text}：`);
    }
    const link = document.createElement("a");
    link.href = a.url; link.textContent = a.name;
    const del = document.createElement("button");
    del.type = "button"; del.className = "btn btn-link btn-sm p-0 text-danger file-delete ms-1";
    del.dataset.id = a.id; del.textContent = "删除";
    li.append(link, del);
    list.append(li);
  }

  async deleteFile(id, item) {
    let response;
    try {
      response = await fetch(`/api/attachments/${id}/`, { method: "DELETE", credentials: "same-origin",
                                                          headers: { "X-CSRFToken": csrfToken() } });
    } catch (err) {
      this.say("删除失败：网络不可用。");
      return;
    }
    if (response.status === 204) { if (item) item.remove(); this.say("附件已删除。"); return; }
    let body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    this.say(`删除失败：${body.detail || response.status}`);
  }

  // --- messages ----------------------------------------------------------------------------------------------
  setState(text, tone, code) {
    if (!this.state) return;
    this.state.textContent = text;
    this.state.dataset.state = code || "";
    this.state.className = `badge border ${tone ? `text-bg-${tone}` : "text-bg-light"}`;
  }

  say(text) {
    if (!this.notice) return;
    this.notice.dataset.kind = "";
    this.notice.textContent = text;
    this.notice.classList.remove("d-none");
  }
}

if (root) {
  const editor = new ReportEditor(root);
  editor.start();
  window.fjzlReport = editor;
  root.dataset.ready = "1";
}
