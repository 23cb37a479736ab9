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
// Every count of the paper on the page follows ([data-upvotes-of], less data-upvotes-minus), and a vote
// the server refuses (an unconfirmed address, a suspended account) is explained beside the button.
function showVoteProblem(form, message) {
  var note = form.querySelector(".vote-problem");
  if (!note) {
    note = document.createElement("p");
    note.className = "vote-problem";
    note.setAttribute("role", "alert");
    form.append(note);
  }
  note.textContent = message;
}

function updateUpvoteCounts(paperId, upvotes) {
  document.querySelectorAll("[data-upvotes-of]").forEach(function (count) {
    if (count.getAttribute("data-upvotes-of") !== paperId) return;
    var minus = Number(count.getAttribute("data-upvotes-minus") || "0");
    count.textContent = String(upvotes - minus);
  });
}

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
          var type = response.headers.get("content-type") || "";
          if (type.indexOf("application/json") !== 0) throw new Error("not a vote answer");
          return response.json().then(function (body) {
            if (response.ok) return body;
            if (response.status === 403 && body.error) {
              showVoteProblem(form, body.error);
              button.disabled = false;
              return null;
            }
            throw new Error("vote refused");
          });
        })
        .then(function (result) {
          if (result === null) return;
          form.querySelector("input[name=action]").value = result.upvoted ? "remove" : "add";
          button.setAttribute("aria-pressed", result.upvoted ? "true" : "false");
          form.querySelectorAll(".votes-count").forEach(function (count) {
            count.textContent = String(result.upvotes);
          });
          updateUpvoteCounts(result.paperId, result.upvotes);
          var label = form.querySelector(".vote-label");
          if (label) label.textContent = label.getAttribute(result.upvoted ? "data-on" : "data-off");
          var note = form.querySelector(".vote-problem");
          if (note) note.remove();
          button.disabled = false;
        })
        .catch(function () {
          form.submit(); // let the server answer with a page (log-in, error, ...)
        });
    });
  });
}

// Save buttons keep a paper in the reader's Saved collection without reloading the page, as upvotes do;
// without this script the form posts and comes back. Every Save button of the same paper on the page
// follows, and a refusal (a suspended account) is explained beside the button.
function setSaved(form, saved) {
  form.querySelector("input[name=action]").value = saved ? "remove" : "add";
  var button = form.querySelector("button");
  button.setAttribute("aria-pressed", saved ? "true" : "false");
  button.title = saved ? "Take it out of your Saved collection" : "Keep it in your Saved collection";
  var label = form.querySelector(".save-label");
  if (label) label.textContent = label.getAttribute(saved ? "data-on" : "data-off");
}

function enhanceSaves() {
  document.querySelectorAll("form.save-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button");
      if (button.disabled) return;
      button.disabled = true;
      var action = form.getAttribute("action");
      fetch(action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          var type = response.headers.get("content-type") || "";
          if (type.indexOf("application/json") !== 0) throw new Error("not a save answer");
          return response.json().then(function (body) {
            if (response.ok) return body;
            if (response.status === 403 && body.error) {
              showVoteProblem(form, body.error);
              button.disabled = false;
              return null;
            }
            throw new Error("save refused");
          });
        })
        .then(function (result) {
          if (result === null) return;
          document.querySelectorAll("form.save-form").forEach(function (other) {
            if (other.getAttribute("action") === action) setSaved(other, result.saved);
          });
          var note = form.querySelector(".vote-problem");
          if (note) note.remove();
          button.disabled = false;
        })
        .catch(function () {
          form.submit(); // let the server answer with a page (log-in, error, ...)
        });
    });
  });
}

// Cards or compact lines: the links work without this script (?view=, kept in a cookie by the server);
// with it the list switches in place and the same cookie keeps the choice.
function enhanceViewToggle() {
  document.querySelectorAll(".view-toggle a[data-view]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var view = link.getAttribute("data-view");
      event.preventDefault();
      document.querySelectorAll("ol.cards").forEach(function (list) {
        list.classList.toggle("is-compact", view === "compact");
      });
      document.querySelectorAll(".view-toggle a[data-view]").forEach(function (other) {
        if (other.getAttribute("data-view") === view) other.setAttribute("aria-current", "true");
        else other.removeAttribute("aria-current");
      });
      document.cookie = "card_view=" + view + "; path=/; max-age=31536000; samesite=lax";
    });
  });
}

// A time zone field marked data-browser-timezone starts with the reader's own zone, when it is known here.
function fillTimeZone() {
  document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return;
    }
    var known = Array.prototype.some.call(
      (input.list && input.list.options) || [],
      function (option) { return option.value === zone; }
    );
    if (zone && known) input.value = zone;
  });
}

document.addEventListener("DOMContentLoaded", function () {
  addCopyButtons();
  searchShortcut();
  enhanceVotes();
  enhanceSaves();
  enhanceViewToggle();
  fillTimeZone();
});
