// Result card chart: the unit's value next to the national median, with its targets as lines.
(function () {
  "use strict";
  var node = document.getElementById("card-chart-data");
  var box = document.getElementById("card-chart");
  if (!node || !box || !window.echarts) return;
  var data = JSON.parse(node.textContent);
  var chart = echarts.init(box);
  function show(i) {
    var lines = [];
    if (data.national[i] !== null) lines.push({ yAxis: data.national[i], name: "国家目标", lineStyle: { color: "#dc3545" } });
    if (data.local[i] !== null) lines.push({ yAxis: data.local[i], name: "本地目标", lineStyle: { color: "#fd7e14" } });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 80, top: 20, bottom: 10, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: ["本单位", "全国中位数"] },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: [data.values[i], data.median[i]], itemStyle: { color: "#0d6efd" },
        markLine: { symbol: "none", data: lines, label: { formatter: "{b} {c}" } } }]
    }, true);
  }
  var select = document.getElementById("card-indicator");
  if (select) select.addEventListener("change", function () { show(Number(select.value)); });
  show(0);
})();
