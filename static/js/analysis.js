// Charts of the analysis page: attainment per indicator, and per-group medians of one indicator.
(function () {
  "use strict";
  var node = document.getElementById("summaries-data");
  if (!node || !window.echarts) return;
  var summaries = JSON.parse(node.textContent);

  var withTarget = summaries.filter(function (s) { return s.target && s.attainment_rate !== null; });
  var attainmentNode = document.getElementById("chart-attainment");
  // One bar per indicator with a target: the chart grows with them instead of leaving a tall empty box.
  attainmentNode.style.height = Math.max(160, 60 + 34 * withTarget.length) + "px";
  document.getElementById("attainment-empty").hidden = withTarget.length > 0;
  var attainment = echarts.init(attainmentNode);
  attainment.setOption({
    grid: { left: 8, right: 40, top: 10, bottom: 10, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" },
      formatter: function (p) { var s = withTarget[p[0].dataIndex];
        return s.label + "<br>目标 " + s.target.op + " " + s.target.value + "<br>达标率 " + s.attainment_rate + "%"; } },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", inverse: true, data: withTarget.map(function (s) { return s.label; }),
      axisLabel: { width: 200, overflow: "truncate" } },
    series: [{ type: "bar", data: withTarget.map(function (s) { return s.attainment_rate; }),
      label: { show: true, position: "right", formatter: "{c}%" }, itemStyle: { color: "#0d6efd" } }]
  });

  var groups = echarts.init(document.getElementById("chart-groups"));
  function showIndicator(i) {
    var s = summaries[i];
    var markLine = s.target ? { symbol: "none", data: [{ yAxis: s.target.value, name: "国家目标" }],
      label: { formatter: "目标 " + s.target.op + " " + s.target.value }, lineStyle: { color: "#dc3545" } } : undefined;
    groups.setOption({
      grid: { left: 8, right: 20, top: 30, bottom: 10, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: s.groups.map(function (g) { return g.name; }), axisLabel: { interval: 0, rotate: 30 } },
      // Keep the target line in view even when every group is far below it.
      yAxis: { type: "value", name: s.unit || "",
        max: s.target ? function (v) { return Math.max(v.max, s.target.value) * 1.05; } : null },
      series: [{ type: "bar", name: s.label, data: s.groups.map(function (g) { return g.median === null ? null : Math.round(g.median * 100) / 100; }), markLine: markLine,
        itemStyle: { color: "#20c997" } }]
    }, true);
  }
  var select = document.getElementById("indicator-select");
  select.addEventListener("change", function () { showIndicator(Number(select.value)); });
  showIndicator(0);
  window.addEventListener("resize", function () { attainment.resize(); groups.resize(); });
})();
