// Zones compared: two horizontal bar charts from the page's own figures (json_script "zones-data").
(function () {
  var data = JSON.parse(document.getElementById("zones-data").textContent);
  var bars = document.getElementById("chart-zones");
  if (!bars || !window.echarts) { return; }
  var grid = {left: 8, right: 24, top: 28, bottom: 8, containLabel: true};
  echarts.init(bars).setOption({
    tooltip: {trigger: "axis"}, legend: {top: 0}, grid: grid,
    xAxis: {type: "value", max: function (v) { return Math.max(100, v.max); }},
    yAxis: {type: "category", data: data.names},
    series: [{name: "占年度计划", type: "bar", data: data.share}, {name: "按期填报率", type: "bar", data: data.report}]
  });
  echarts.init(document.getElementById("chart-zone-score")).setOption({
    tooltip: {trigger: "axis"}, grid: grid, xAxis: {type: "value"}, yAxis: {type: "category", data: data.names},
    series: [{name: "得分", type: "bar", data: data.score, label: {show: true, position: "right"}}]
  });
})();
