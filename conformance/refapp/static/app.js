(function () {
  "use strict";
  var body = document.body;
  var sid = body.dataset.subject;
  var base = "/app/api/" + encodeURIComponent(sid);
  var btn = document.getElementById("toggle");
  var img = document.getElementById("qr");
  var counter = 0;

  // Only the subject id and an opaque counter travel in URLs (the pii-in-url defect adds doc/dob).
  function query(extra) {
    var parts = [];
    if (body.dataset.doc !== undefined) {
      parts.push("doc=" + encodeURIComponent(body.dataset.doc), "dob=" + encodeURIComponent(body.dataset.dob));
    }
    if (extra) parts.push(extra);
    return parts.length ? "?" + parts.join("&") : "";
  }

  function fail(msg) {
    var e = document.getElementById("error");
    e.textContent = msg;
    e.hidden = false;
    body.dataset.state = "error";
  }

  function apply(s) {
    document.getElementById("name").textContent = s.displayed.ho_ten;
    document.getElementById("doc").textContent = s.displayed.so_giay_to;
    document.getElementById("dob").textContent = s.displayed.ngay_sinh;
    body.dataset.mode = s.mode;
    if (btn && s.toggle_label) btn.textContent = s.toggle_label;
    if (body.dataset.tiny) {
      img.style.width = (s.qr_modules * 1.5 / (window.devicePixelRatio || 1)) + "px";
    }
    return new Promise(function (resolve) {
      img.onload = img.onerror = function () { resolve(); };
      counter += 1;
      img.src = base + "/qr.png" + query("v=" + counter);
    }).then(function () { body.dataset.state = "ready"; });
  }

  function call(method, path) {
    return fetch(base + path + query(), { method: method, credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
  }

  call("GET", "/state").then(apply).catch(function (e) { fail("Không tải được dữ liệu / could not load: " + e.message); });

  if (btn) {
    btn.addEventListener("click", function () {
      btn.disabled = true;
      body.dataset.state = "busy";
      call("POST", "/toggle").then(apply)
        .catch(function (e) { fail("Không chuyển được chế độ / toggle failed: " + e.message); })
        .then(function () { btn.disabled = false; });
    });
  }
})();
