// Posts the payer's choice to the JSON API (the same one the harness calls), then shows the outcome.
// Without JavaScript the form posts to /pay/<token> and the server renders the outcome instead.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var t = window.PAY_TEXT || {};
  var states = { 1: "paid", 3: "pending", 4: "failed" };
  var action = "confirm";
  form.querySelectorAll("button[name=action]").forEach(function (b) {
    b.addEventListener("click", function () { action = b.value; });
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var bank = form.querySelector("input[name=MaNganHang]:checked");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var box = document.getElementById("outcome");
    document.getElementById("outcome-text").textContent = t.working || "…";
    box.hidden = false;
    fetch(form.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ MaNganHang: bank ? bank.value : "", action: action })
    }).then(function (r) { return r.json(); }).then(function (body) {
      var state = states[body.TrangThaiGD] || (body.error_code === "0" ? "pending" : "failed");
      box.className = "outcome " + state;
      box.dataset.state = String(body.TrangThaiGD || "");
      document.getElementById("outcome-state").textContent = t[state] || state;
      document.getElementById("trang-thai").textContent = String(body.TrangThaiGD || "-");
      document.getElementById("outcome-text").textContent =
        body.error_code === "0" ? body.message + (body.MaLoi ? " (MaLoi " + body.MaLoi + ")" : "")
                                : (t.error || "Error") + ": " + body.message;
      form.hidden = true;
    }).catch(function (err) {
      document.getElementById("outcome-text").textContent = (t.error || "Error") + ": " + err;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  });
}());
