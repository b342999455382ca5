// Submits the SAML hand-off form on load; the visible button covers browsers without JS.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("autopost");
  if (form) { form.submit(); }
});
