/* H5 portal behaviour: resend countdown on 获取验证码 and a WeUI confirm dialog.
 * Plain ES5 so older WeChat in-app browsers run it; every page also works without it. */
(function () {
  "use strict";

  function startCountdown(feedback) {
    var seconds = parseInt(feedback.getAttribute("data-resend-after"), 10);
    var form = feedback.closest("form");
    var button = form && form.querySelector("[data-code-button]");
    if (!button || !(seconds > 0) || button.disabled) { return; }
    var label = button.textContent;
    var template = button.getAttribute("data-wait-template") || "__s__";
    button.disabled = true;
    var tick = function () {
      if (seconds <= 0) {
        clearInterval(timer);
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = template.replace("__s__", seconds);
      seconds -= 1;
    };
    var timer = setInterval(tick, 1000);
    tick();
  }

  function startCountdowns(root) {
    var found = root.querySelectorAll("[data-resend-after]");
    for (var i = 0; i < found.length; i++) { startCountdown(found[i]); }
  }

  function confirmDialog(text, onOk) {
    var template = document.getElementById("portal-confirm-dialog");
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML;
    var dialog = holder.firstElementChild;
    dialog.querySelector("[data-dialog-text]").textContent = text;
    var close = function () { dialog.parentNode.removeChild(dialog); };
    dialog.querySelector("[data-dialog-cancel]").addEventListener("click", close);
    dialog.querySelector(".weui-mask").addEventListener("click", close);
    dialog.querySelector("[data-dialog-ok]").addEventListener("click", function () { close(); onOk(); });
    document.body.appendChild(dialog);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var text = form.getAttribute && form.getAttribute("data-confirm");
    if (!text) { return; }
    event.preventDefault();
    confirmDialog(text, function () { form.submit(); });
  });

  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); });
  document.addEventListener("htmx:afterSwap", function (event) { startCountdowns(event.target); });
}());
