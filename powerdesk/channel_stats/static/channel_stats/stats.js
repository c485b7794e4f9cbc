/* 统计分析 charts. Each [data-chart] element names a series whose description the page carries
 * in the json_script block "channel-stats-charts": {categories, series: [{name, kind: bar|line,
 * data, axis, stack}], axes: [name…], horizontal}. Labels arrive translated; null is "not known"
 * and leaves a gap. The table under each chart holds the same rows (and is what a screen reader
 * reads). Plain ES5, like the portal's billing.js. */
(function () {
  "use strict";

  var PALETTE = ["#0a6b66", "#e8684a", "#f6bd16", "#5b8ff9", "#9270ca", "#5ad8a6", "#ff9d4d", "#6dc8ec"];
  var FONT = '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", ' +
             '"Source Han Sans SC", "WenQuanYi Zen Hei", sans-serif';

  function readCharts() {
    var node = document.getElementById("channel-stats-charts");
    return node ? JSON.parse(node.textContent) : {};
  }

  function valueAxes(spec) {
    var axes = [];
    for (var i = 0; i < spec.axes.length; i++) {
      axes.push({
        type: "value", name: spec.axes[i], minInterval: 1,
        nameTextStyle: { fontSize: 11 }, axisLabel: { fontSize: 11 },
        splitLine: { show: i === 0 }
      });
    }
    return axes;
  }

  function option(spec) {
    var category = {
      type: "category", data: spec.categories,
      axisLabel: { fontSize: 11, hideOverlap: true }
    };
    var series = [];
    for (var i = 0; i < spec.series.length; i++) {
      var item = spec.series[i];
      var entry = {
        name: item.name, type: item.kind, data: item.data,
        connectNulls: false, symbolSize: 4, barMaxWidth: 28
      };
      if (item.stack) { entry.stack = item.stack; }
      if (spec.horizontal) { entry.xAxisIndex = item.axis || 0; } else { entry.yAxisIndex = item.axis || 0; }
      series.push(entry);
    }
    return {
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: FONT },
      grid: { left: 12, right: 16, top: 40, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: spec.horizontal ? "shadow" : "line" } },
      legend: { top: 0, textStyle: { fontSize: 12 } },
      xAxis: spec.horizontal ? valueAxes(spec) : category,
      yAxis: spec.horizontal ? category : valueAxes(spec),
      series: series
    };
  }

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    var specs = readCharts();
    var charts = [];
    var nodes = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var spec = specs[el.getAttribute("data-chart")];
      if (!spec) { continue; }
      if (spec.horizontal) {  // one row of bars per category, however many there are
        el.style.height = Math.max(160, 60 + spec.categories.length * 28) + "px";
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option(spec));
      el.setAttribute("data-chart-ready", "true");
      charts.push(chart);
    }
    window.addEventListener("resize", function () {
      for (var j = 0; j < charts.length; j++) { charts[j].resize(); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
