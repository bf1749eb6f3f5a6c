// Modelhub portal: small enhancements over pages that work without JavaScript.
(function () {
  "use strict";

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // Selects marked data-autosubmit submit their form on change (sort order, version picker).
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });

  // Search suggestions: Escape closes them, ArrowDown moves into them.
  document.addEventListener("keydown", function (event) {
    var list = document.getElementById("suggestions");
    if (!list) return;
    if (event.key === "Escape") { list.innerHTML = ""; return; }
    if (event.key === "ArrowDown" && event.target.id === "q") {
      var first = list.querySelector("a");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });

  // Upload with a progress bar: the form posts to the API's streamed upload (session + CSRF) with
  // XMLHttpRequest so upload.onprogress can report; without JavaScript the form posts to the page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-upload-api]") || !window.FormData || !window.XMLHttpRequest) return;
    event.preventDefault();
    var box = form.querySelector(".upload-progress");
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-progress-text]");
    var error = form.querySelector(".upload-error");
    var button = form.querySelector("button[type=submit]");
    var data = new FormData(form);
    data.delete("csrfmiddlewaretoken");
    if (!data.get("metadata")) data.delete("metadata");
    box.hidden = false; error.hidden = true; button.disabled = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadApi);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.round((e.loaded / e.total) * 100);
      bar.value = pct;
      text.textContent = pct + "% of " + (e.total / 1048576).toFixed(1) + " MiB";
    };
    xhr.upload.onload = function () { text.textContent = "Uploaded; storing and queuing validation…"; };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 202 && body.version) {
        bar.value = 100;
        window.location.assign(form.dataset.assetUrl + "?version=" + encodeURIComponent(body.version) + "#validation");
        return;
      }
      error.textContent = body.detail || ("The upload failed (HTTP " + xhr.status + ").");
      error.hidden = false; box.hidden = true; button.disabled = false;
    };
    xhr.onerror = function () {
      error.textContent = "The connection failed during the upload; try again.";
      error.hidden = false; box.hidden = true; button.disabled = false;
    };
    xhr.send(data);
  });

  // Tabs (endpoint examples): click or arrow keys.
  function selectTab(tab) {
    var list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
    tab.focus();
  }
  document.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab]");
    if (tab) selectTab(tab);
    var copy = event.target.closest("[data-copy]");
    if (copy) {
      var code = document.querySelector("[data-example='" + copy.dataset.copy + "']");
      if (code && navigator.clipboard) {
        navigator.clipboard.writeText(code.textContent).then(function () {
          copy.textContent = "Copied";
          setTimeout(function () { copy.textContent = "Copy"; }, 1500);
        }, function () { /* clipboard refused: the text stays selectable */ });
      }
    }
  });
  document.addEventListener("keydown", function (event) {
    var tab = event.target.closest && event.target.closest("[role=tab]");
    if (!tab || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) return;
    var tabs = Array.prototype.slice.call(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    var i = tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : -1);
    selectTab(tabs[(i + tabs.length) % tabs.length]);
  });

  // Endpoint chart: each status refresh carries the runtime's figures (the last hour per minute); draw them.
  var samples = [];
  function drawChart() {
    var svg = document.querySelector("[data-chart]");
    if (!svg || samples.length === 0) return;
    var w = 600, h = 170, n = samples.length;
    function line(key) {
      var max = Math.max.apply(null, samples.map(function (s) { return s[key] || 0; }).concat([1]));
      return samples.map(function (s, i) {
        var x = n === 1 ? w / 2 : 8 + (i / (n - 1)) * (w - 16);
        var y = h - ((s[key] || 0) / max) * (h - 20);
        return x.toFixed(1) + "," + y.toFixed(1);
      }).join(" ");
    }
    svg.querySelector(".line-requests").setAttribute("points", line("request_count"));
    svg.querySelector(".line-latency").setAttribute("points", line("latency_p50_ms"));
    // A dot per sample, so the first samples show before there is a line to draw.
    svg.querySelectorAll("circle").forEach(function (c) { c.remove(); });
    [["request_count", "dot-requests"], ["latency_p50_ms", "dot-latency"]].forEach(function (series) {
      line(series[0]).split(" ").forEach(function (point) {
        var xy = point.split(","), dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
        dot.setAttribute("cx", xy[0]); dot.setAttribute("cy", xy[1]); dot.setAttribute("r", "4");
        dot.setAttribute("class", series[1]);
        svg.appendChild(dot);
      });
    });
    var last = samples[samples.length - 1];
    document.querySelector("[data-chart-label]").textContent =
      (last.request_count == null ? "no requests yet" : last.request_count + " requests") +
      (last.latency_p50_ms == null ? "" : " · p50 " + last.latency_p50_ms.toFixed(1) + " ms");
  }
  function sample(root) {
    var el = root && root.querySelector ? (root.id === "endpoint-status" ? root : root.querySelector("#endpoint-status")) : null;
    if (!el || el.dataset.status !== "ready") return;
    var metrics;
    try { metrics = JSON.parse(el.dataset.metrics); } catch (e) { return; }
    if (metrics.traffic && metrics.traffic.length) {
      // Modelhub's runtime keeps the last hour per minute: draw that history.
      samples = metrics.traffic.map(function (m) { return {request_count: m.requests, latency_p50_ms: m.latency_p50_ms}; });
    } else {
      samples.push(metrics);  // another runtime: sample its running totals while the page is open
      if (samples.length > 60) samples.shift();
    }
    drawChart();
  }
  // htmx:load fires on new content in the page (also for the initial page), so each status refresh samples once.
  document.addEventListener("htmx:load", function (event) {
    var el = event.detail.elt === document.body ? document.getElementById("endpoint-status") : event.detail.elt;
    if (el && el.id === "endpoint-status") sample(el);
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) sample(document.getElementById("endpoint-status"));
  });
})();
