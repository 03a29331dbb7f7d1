// Export jobs page: start a job without leaving the page, follow its progress.
(function () {
  "use strict";
  var table = document.getElementById("export-jobs");
  var form = document.getElementById("export-start");

  function text(el, value) { el.textContent = value; return el; }

  function render(row, job) {
    row.dataset.state = job.state;
    var bar = row.querySelector(".progress-bar");
    bar.style.width = job.percent + "%";
    text(bar, job.percent + "%");
    bar.classList.toggle("bg-success", job.state === "done");
    bar.classList.toggle("bg-danger", job.state === "failed");
    row.querySelector(".progress").setAttribute("aria-valuenow", job.percent);
    text(row.querySelector(".job-count"), job.total ? (job.progress + " / " + job.total + " 行") : "");
    var state = text(row.querySelector(".job-state"), job.state_label);
    if (job.error) { var e = document.createElement("div"); e.className = "small text-danger"; e.textContent = job.error; state.appendChild(e); }
    var link = row.querySelector(".job-link");
    link.textContent = "";
    if (job.download_url) {
      var a = document.createElement("a");
      a.className = "btn btn-sm btn-outline-success"; a.href = job.download_url; a.textContent = "下载";
      link.appendChild(a);
    }
  }

  function addRow(job) {
    var empty = table.querySelector(".no-jobs"); if (empty) empty.remove();
    var row = document.createElement("tr");
    row.dataset.job = job.id; row.dataset.statusUrl = job.status_url;
    ["created_at", "task", "kind_label"].forEach(function (k) { row.appendChild(text(document.createElement("td"), job[k])); });
    var td = document.createElement("td");
    td.innerHTML = '<div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"><div class="progress-bar"></div></div><div class="small text-muted job-count"></div>';
    row.appendChild(td);
    var st = document.createElement("td"); st.className = "job-state"; row.appendChild(st);
    var ln = document.createElement("td"); ln.className = "job-link"; row.appendChild(ln);
    table.tBodies[0].insertBefore(row, table.tBodies[0].firstChild);
    render(row, job);
    return row;
  }

  function poll() {
    var pending = table.querySelectorAll('tr[data-state="queued"], tr[data-state="running"]');
    pending.forEach(function (row) {
      fetch(row.dataset.statusUrl, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) { if (job) render(row, job); })
        .catch(function () {});
    });
  }
  table.querySelectorAll(".progress-bar[data-percent]").forEach(function (bar) { bar.style.width = bar.dataset.percent + "%"; });
  setInterval(poll, 1000);

  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var err = document.getElementById("export-error"); err.textContent = "";
      var button = form.querySelector("button"); button.disabled = true;
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin",
                          headers: {"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"}})
        .then(function (r) { return r.json().then(function (d) { return {ok: r.ok, data: d}; }); })
        .then(function (res) { if (res.ok) addRow(res.data); else err.textContent = res.data.error || "导出失败"; })
        .catch(function () { err.textContent = "网络错误，请稍后重试。"; })
        .finally(function () { button.disabled = false; });
    });
  }
})();
