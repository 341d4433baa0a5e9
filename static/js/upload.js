/* Evidence upload with a progress bar. The form posts normally without this script; with it,
   the same multipart form (CSRF token included) is sent by XMLHttpRequest so the bar can
   follow the bytes, and the page the server answers with (the case page) is then shown. */
(function () {
  "use strict";
  function enhance(form) {
    var box = form.querySelector(".upload-progress");
    var bar = form.querySelector("progress");
    var words = form.querySelector(".upload-percent");
    var button = form.querySelector("button[type=submit]");
    if (!box || !bar || !window.XMLHttpRequest || !window.FormData) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        bar.value = percent;
        bar.textContent = percent + "%";
        words.textContent = percent + "%";
      });
      xhr.addEventListener("load", function () {
        /* The server redirected to the case page, which carries the outcome in words. */
        window.location.assign(xhr.responseURL || form.action);
      });
      xhr.addEventListener("error", function () {
        button.disabled = false;
        form.submit();  /* fall back to the plain form */
      });
      box.hidden = false;
      button.disabled = true;
      bar.value = 0;
      xhr.send(new FormData(form));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
  });
}());
