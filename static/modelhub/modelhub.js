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
  // Modelhub's runtime sends the minutes that had requests: they are laid on a fixed axis of the last 60
  // minutes, quiet minutes at zero, so one busy minute is a peak on the hour, not a lone dot.
  var samples = [], label = "";
  function lastHour(traffic) {
    var byMinute = {}, latest = Math.floor(Date.now() / 60000), out = [];
    traffic.forEach(function (m) {
      var minute = Math.floor(m.minute / 60);
      byMinute[minute] = m;
      latest = Math.max(latest, minute);  // a browser clock behind the server's does not hide the last minute
    });
    for (var minute = latest - 59; minute <= latest; minute++) {
      var m = byMinute[minute];
      out.push({request_count: m ? m.requests : 0, latency_p50_ms: m ? m.latency_p50_ms : null});
    }
    return out;
  }
  function drawChart() {
    var svg = document.querySelector("[data-chart]");
    if (!svg || samples.length === 0) return;
    var w = 600, h = 170, n = samples.length;
    function points(key) {  // [x, y] of the samples that have a value for `key`
      var max = Math.max.apply(null, samples.map(function (s) { return s[key] || 0; }).concat([1]));
      var found = [];
      samples.forEach(function (s, i) {
        if (s[key] == null) return;
        found.push([n === 1 ? w / 2 : 8 + (i / (n - 1)) * (w - 16), h - (s[key] / max) * (h - 20)]);
      });
      return found;
    }
    function text(found) {
      return found.map(function (p) { return p[0].toFixed(1) + "," + p[1].toFixed(1); }).join(" ");
    }
    var requests = points("request_count"), latency = points("latency_p50_ms");
    svg.querySelector(".line-requests").setAttribute("points", text(requests));
    svg.querySelector(".line-latency").setAttribute("points", text(latency));
    // A dot where something happened, so the first samples show before there is a line to draw.
    svg.querySelectorAll("circle").forEach(function (c) { c.remove(); });
    [[requests, "dot-requests"], [latency, "dot-latency"]].forEach(function (series) {
      series[0].forEach(function (p) {
        if (series[1] === "dot-requests" && p[1] >= h) return;  // a quiet minute
        var dot = document.createElementNS("http://www.w3.org/2000/svg", "circle");
        dot.setAttribute("cx", p[0].toFixed(1)); dot.setAttribute("cy", p[1].toFixed(1)); dot.setAttribute("r", "4");
        dot.setAttribute("class", series[1]);
        svg.appendChild(dot);
      });
    });
    document.querySelector("[data-chart-label]").textContent = label;
  }
  function describe(requests, p50, span) {
    return (requests == null ? "no requests yet" : requests + " requests" + span) +
      (p50 == null ? "" : " · p50 " + p50.toFixed(1) + " ms");
  }
  function sample(root) {
    var el = root && root.querySelector ? (root.id === "endpoint-status" ? root : root.querySelector("#endpoint-status")) : null;
    if (!el || el.dataset.status !== "ready") return;
    var metrics;
    try { metrics = JSON.parse(el.dataset.metrics); } catch (e) { return; }
    if (metrics.traffic && metrics.traffic.length) {
      samples = lastHour(metrics.traffic);  // Modelhub's runtime keeps the last hour per minute
      label = describe(metrics.requests_last_hour, metrics.latency_p50_ms, " in the last hour");
    } else {
      samples.push(metrics);  // another runtime: sample its running totals while the page is open
      if (samples.length > 60) samples.shift();
      label = describe(metrics.request_count, metrics.latency_p50_ms, "");
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
