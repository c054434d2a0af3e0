// Draws the profile and segment charts with the plotly.js the app serves itself (no CDN).
"use strict";
(function () {
  const layout = (title) => ({
    title: { text: title, font: { size: 14 } }, margin: { t: 40, r: 10, b: 40, l: 50 },
    height: 280, legend: { orientation: "h" }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
  });
  const config = { displayModeBar: false, responsive: true };
  const read = (id) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
  const by = (rows, key) => rows.reduce((acc, r) => ((acc[r[key]] = acc[r[key]] || []).push(r), acc), {});
  const mark = (id) => document.getElementById(id).setAttribute("data-rendered", "1");

  const charts = read("chart-data");
  if (charts) {
    const spend = by(charts.spend, "channel");
    Plotly.newPlot("chart-spend", Object.entries(spend).map(([channel, rows]) => ({
      type: "bar", name: channel, x: rows.map((r) => r.month), y: rows.map((r) => r.amount),
    })), { ...layout("Spend by month and channel (EUR)"), barmode: "stack" }, config).then(() => mark("chart-spend"));
    Plotly.newPlot("chart-categories", [{
      type: "pie", hole: 0.45, labels: charts.categories.map((r) => r.category),
      values: charts.categories.map((r) => r.amount), textinfo: "label+percent",
    }], layout("Category mix"), config).then(() => mark("chart-categories"));
    const engagement = by(charts.engagement, "event_type");
    Plotly.newPlot("chart-engagement", Object.entries(engagement).map(([kind, rows]) => ({
      type: "scatter", mode: "lines+markers", name: kind.replace("_", " "),
      x: rows.map((r) => r.month), y: rows.map((r) => r.events),
    })), layout("Engagement by month"), config).then(() => mark("chart-engagement"));
  }
  const size = read("segment-data");
  if (size) {
    Plotly.newPlot("chart-segment-size", [{
      type: "scatter", mode: "lines", fill: "tozeroy", x: size.map((r) => r.day), y: size.map((r) => r.members),
    }], layout("Members per day"), config).then(() => mark("chart-segment-size"));
  }
})();
