/* H5 portal 电费 charts: the 24-month trend (kWh bars + yuan line) and daily usage bars.
 * Plain ES5 for older WeChat in-app browsers. Data comes from the page's json_script block;
 * values are decimal strings, so amounts stay exact until ECharts draws them. */
(function () {
  "use strict";

  var BRAND = "#07c160";
  var AMOUNT = "#fa9d3b";

  function readData() {
    var node = document.getElementById("billing-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function trendOption(trend, el) {
    var kwhLabel = el.getAttribute("data-label-kwh");
    var yuanLabel = el.getAttribute("data-label-yuan");
    return {
      animation: false,
      grid: { left: 44, right: 48, top: 36, bottom: 28 },
      tooltip: { trigger: "axis" },
      legend: { data: [kwhLabel, yuanLabel], top: 0, textStyle: { fontSize: 12 } },
      xAxis: { type: "category", data: trend.months, axisLabel: { fontSize: 10 } },
      yAxis: [
        { type: "value", name: "kWh", nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 } },
        { type: "value", name: "¥", nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 },
          splitLine: { show: false } }
      ],
      series: [
        { name: kwhLabel, type: "bar", data: trend.kwh, itemStyle: { color: BRAND } },
        { name: yuanLabel, type: "line", yAxisIndex: 1, data: trend.yuan, smooth: true,
          itemStyle: { color: AMOUNT }, symbolSize: 4 }
      ]
    };
  }

  function usageOption(usage, el) {
    return {
      animation: false,
      grid: { left: 40, right: 12, top: 16, bottom: 28 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: usage.days, axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", name: "kWh", nameTextStyle: { fontSize: 10 }, axisLabel: { fontSize: 10 } },
      series: [{ name: el.getAttribute("data-label-kwh"), type: "bar", data: usage.kwh,
                 itemStyle: { color: BRAND } }]
    };
  }

  function draw() {
    var data = readData();
    if (!data || typeof window.echarts === "undefined") { return; }
    var charts = [];
    var nodes = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < nodes.length; i++) {
      var el = nodes[i];
      var kind = el.getAttribute("data-chart");
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(kind === "trend" ? trendOption(data.trend, el) : usageOption(data.usage, el));
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
