// Forms that ask before they act (deleting a comment): <form data-confirm="question">. The script asks
// with confirm() and, when the answer is yes, sends the form with confirmed=yes so that the server does
// not ask again; without the script the server answers the form with a page that asks.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        return;
      }
      if (!form.querySelector("input[name=confirmed]")) {
        var confirmed = document.createElement("input");
        confirmed.type = "hidden";
        confirmed.name = "confirmed";
        confirmed.value = "yes";
        form.append(confirmed);
      }
    });
  });
});
