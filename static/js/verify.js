// The Verify page while a background verification runs: reload it every two seconds until
// the job is done (the server renders the progress; without JavaScript a link does the same).
(function () {
  "use strict";
  if (document.querySelector("[data-verify-running]")) {
    window.setTimeout(function () { window.location.reload(); }, 2000);
  }
})();
