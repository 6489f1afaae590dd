// Keel's sequence builder counts characters as you type
// (docs/campaigns.md#the-sequence-builder): every field with a
// data-count-max attribute updates its count, the element whose id is the
// field's with "-count" (which its aria-describedby names): "N of 300
// characters", marked over the limit past it.
// The count is the one the server shows after a submit: characters as
// LinkedIn counts them, a line break as the two the browser sends. Without
// this script the count is shown after each submit.
(function () {
  "use strict";
  function length(value) {
    var n = Array.from ? Array.from(value).length : value.length;
    var breaks = value.match(/\n/g);
    return n + (breaks ? breaks.length : 0);
  }
  function update(field) {
    var max = parseInt(field.getAttribute("data-count-max"), 10);
    var out = document.getElementById(field.id + "-count");
    if (!out || isNaN(max)) {
      return;
    }
    var n = length(field.value);
    var num = out.querySelector(".count-n");
    if (num) {
      num.textContent = String(n);
    }
    out.classList.toggle("over", n > max);
  }
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && t.hasAttribute && t.hasAttribute("data-count-max")) {
      update(t);
    }
  });
  var fields = document.querySelectorAll("[data-count-max]");
  for (var i = 0; i < fields.length; i++) {
    update(fields[i]);
  }
})();
