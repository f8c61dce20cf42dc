// Campaign page: the send-rate chart and the delivery funnel (Chart.js), fed by the stats
// endpoint while the campaign runs or its receipts still come in; and a confirmation before
// buttons that carry data-confirm. No inline script: the page's CSP allows none.
(function () {
  "use strict";
  var POLL_MS = 3000;

  function rateChart(canvas) {
    return new Chart(canvas, {
      type: "line",
      data: {
        labels: [],
        datasets: [
          { label: "accepted", data: [], borderColor: "#0d6efd", pointRadius: 0, tension: 0.2 },
          { label: "refused", data: [], borderColor: "#dc3545", pointRadius: 0, tension: 0.2 },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        scales: { y: { beginAtZero: true, title: { display: true, text: "recipients / s" } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  function funnelChart(canvas) {
    return new Chart(canvas, {
      type: "bar",
      data: {
        labels: ["accepted", "sent", "delivered", "read", "failed"],
        datasets: [
          {
            label: "recipients",
            data: [0, 0, 0, 0, 0],
            backgroundColor: ["#6c757d", "#0d6efd", "#0dcaf0", "#198754", "#dc3545"],
          },
        ],
      },
      options: {
        animation: false,
        indexAxis: "y",
        responsive: true,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true } },
      },
    });
  }

  function update(rate, funnel, stats) {
    rate.data.labels = stats.rate.map(function (point) {
      return point.t.slice(11, 19);
    });
    rate.data.datasets[0].data = stats.rate.map(function (point) {
      return point.accepted;
    });
    rate.data.datasets[1].data = stats.rate.map(function (point) {
      return point.refused;
    });
    rate.update();
    var f = stats.funnel;
    funnel.data.datasets[0].data = [f.accepted, f.sent, f.delivered, f.read, f.failed];
    funnel.update();
  }

  function start() {
    var rateCanvas = document.getElementById("rate-chart");
    var funnelCanvas = document.getElementById("funnel-chart");
    if (!rateCanvas || !funnelCanvas || typeof Chart === "undefined") {
      return;
    }
    var rate = rateChart(rateCanvas);
    var funnel = funnelChart(funnelCanvas);
    var url = rateCanvas.getAttribute("data-stats");

    function poll() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (stats) {
          if (!stats) {
            return;
          }
          update(rate, funnel, stats);
          if (stats.live) {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          window.setTimeout(poll, POLL_MS * 3);
        });
    }
    poll();
  }

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
