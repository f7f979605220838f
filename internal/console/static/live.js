// Live progress of a running job, from the server-sent events of its page.
(function () {
  var script = document.currentScript;
  var es = new EventSource(script.getAttribute("data-events"));
  function set(id, text) { var el = document.getElementById(id); if (el) el.textContent = text; }
  es.addEventListener("progress", function (m) {
    var ev = JSON.parse(m.data);
    set("state", ev.state);
    set("pass", ev.pass);
    set("objective", ev.objective.toPrecision(6));
    if (ev.shards_total > 0) set("shards", ev.shards_done + " / " + ev.shards_total);
    set("eta", ev.eta_seconds > 0 ? Math.round(ev.eta_seconds) + " s" : "-");
  });
  es.addEventListener("end", function () { es.close(); location.reload(); });
})();
