/* Evidence upload with a progress bar. The form posts normally without this script; with it,
   the same multipart form (CSRF token included) is sent by XMLHttpRequest so the bar can
   follow the bytes. The server answers as it does to the plain form (a redirect to the case
   page, with the outcome in words); that page's main part replaces this one's, since its
   one-time message was spent on the request that fetched it. */
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
      xhr.responseType = "document";
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.floor((e.loaded / e.total) * 100);
        bar.value = percent;
        bar.textContent = percent + "%";
        words.textContent = percent + "%";
      });
      xhr.addEventListener("load", function () {
        var fresh = xhr.response && xhr.response.querySelector("main");
        if (!fresh) { window.location.assign(xhr.responseURL || form.action); return; }
        document.querySelector("main").replaceWith(document.adoptNode(fresh));
        if (xhr.response.title) { document.title = xhr.response.title; }
        if (xhr.responseURL) { window.history.replaceState(null, "", xhr.responseURL); }
        var main = document.querySelector("main");
        main.setAttribute("tabindex", "-1");
        main.focus();  /* screen readers read the outcome from the top of the new content */
        enhanceAll();
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
  function enhanceAll() {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
  }
  document.addEventListener("DOMContentLoaded", enhanceAll);
}());
