/* WeChat Pay JSAPI: hand the signed parameters to WeChat's client (WeixinJSBridge) and, once it
 * says the payment went through, show the result page (which only reads the order's status:
 * the credit comes from the gateway's notification). Plain ES5 for older WeChat browsers. */
(function () {
  "use strict";
  var box = document.querySelector("[data-jsapi-pay]");
  var source = document.getElementById("jsapi-pay-params");
  if (!box || !source) { return; }
  var params = JSON.parse(source.textContent);
  var texts = document.getElementById("jsapi-texts").content;
  var message = box.querySelector("[data-jsapi-message]");
  var started = false;

  function pay() {
    if (started || !window.WeixinJSBridge) { return; }
    started = true;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (answer) {
      var result = (answer && answer.err_msg) || "";
      if (result === "get_brand_wcpay_request:ok") {
        window.location.href = box.getAttribute("data-result-url");
      } else if (result === "get_brand_wcpay_request:cancel") {
        message.textContent = texts.querySelector("[data-cancel]").textContent;
      } else {
        message.textContent = texts.querySelector("[data-fail]").textContent;
      }
    });
  }

  document.addEventListener("WeixinJSBridgeReady", pay, false);
  window.addEventListener("load", pay);
  pay();
})();
