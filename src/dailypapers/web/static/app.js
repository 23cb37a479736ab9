// Small enhancements; every page works without them.
"use strict";

// A "Copy" button for blocks such as the BibTeX entry: <div class="copy-slot" data-copy-target="id">.
function addCopyButtons() {
  document.querySelectorAll(".copy-slot[data-copy-target]").forEach(function (slot) {
    var target = document.getElementById(slot.getAttribute("data-copy-target"));
    if (!target) return;
    var label = slot.getAttribute("data-copy-label") || "Copy";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = label;
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    slot.append(button, status);
    button.addEventListener("click", function () {
      var text = target.textContent || "";
      var done = function (message) {
        status.textContent = message;
        window.setTimeout(function () { status.textContent = ""; }, 2500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(
          function () { done("Copied"); },
          function () { selectText(target); done("Selected: press Ctrl+C to copy"); }
        );
      } else {
        selectText(target);
        done("Selected: press Ctrl+C to copy");
      }
    });
  });
}

function selectText(element) {
  var range = document.createRange();
  range.selectNodeContents(element);
  var selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

// "/" focuses the search box, as on many sites, unless the reader is typing somewhere.
function searchShortcut() {
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var active = document.activeElement;
    if (active && (active.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) return;
    var box = document.getElementById("site-search") || document.getElementById("q");
    if (!box) return;
    event.preventDefault();
    box.focus();
    box.select();
  });
}

// Upvote buttons vote without reloading the page; without this script the form posts and comes back.
function enhanceVotes() {
  document.querySelectorAll("form.vote-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      if (button.disabled) return;
      button.disabled = true;
      // getAttribute: the form's own "action" field would shadow form.action.
      fetch(form.getAttribute("action"), {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          if (!response.ok || response.headers.get("content-type").indexOf("application/json") !== 0) {
            throw new Error("not a vote answer");
          }
          return response.json();
        })
        .then(function (result) {
          form.querySelector("input[name=action]").value = result.upvoted ? "remove" : "add";
          button.setAttribute("aria-pressed", result.upvoted ? "true" : "false");
          form.querySelectorAll(".votes-count").forEach(function (count) {
            count.textContent = String(result.upvotes);
          });
          var target = form.getAttribute("data-count-target");
          if (target && document.getElementById(target)) {
            document.getElementById(target).textContent = String(result.upvotes);
          }
          var label = form.querySelector(".vote-label");
          if (label) label.textContent = label.getAttribute(result.upvoted ? "data-on" : "data-off");
          button.disabled = false;
        })
        .catch(function () {
          form.submit(); // let the server answer with a page (log-in, error, ...)
        });
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  addCopyButtons();
  searchShortcut();
  enhanceVotes();
});
