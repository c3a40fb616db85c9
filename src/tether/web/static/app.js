// tether web: the little the pages need beyond HTML. Loaded from /static (the CSP allows
// no other script): the light/dark choice, copy buttons, and the keyboard (j/k, o, /).
(function () {
  "use strict";
  var root = document.documentElement;
  var stored = null;
  try { stored = window.localStorage.getItem("tether-theme"); } catch (e) { stored = null; }
  if (stored === "light" || stored === "dark") { root.setAttribute("data-theme", stored); }
  root.classList.add("js");

  function theme() {
    var now = root.getAttribute("data-theme") ||
      (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
    var next = now === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try { window.localStorage.setItem("tether-theme", next); } catch (e) { /* private mode */ }
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.textContent;
    var done = function () {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { select(target); });
    } else {
      select(target);
    }
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  var current = -1;
  function move(step) {
    var items = document.querySelectorAll(".item");
    if (!items.length) { return; }
    if (current >= 0 && items[current]) { items[current].classList.remove("current"); }
    current = Math.max(0, Math.min(items.length - 1, current + step));
    var item = items[current];
    item.classList.add("current");
    item.scrollIntoView({block: "nearest"});
    var link = item.querySelector("a.title");
    (link || item).focus({preventScroll: true});
  }

  function toggle() {
    var items = document.querySelectorAll(".item");
    var scope = items[current] || document;
    var folds = scope.querySelectorAll("details");
    if (!folds.length) { return; }
    var open = !folds[0].open;
    for (var i = 0; i < folds.length; i++) { folds[i].open = open; }
  }

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    if (event.key === "j") { move(1); }
    else if (event.key === "k") { move(-1); }
    else if (event.key === "o") { toggle(); }
    else if (event.key === "/") {
      var box = document.querySelector(".within input[name=q]") || document.getElementById("find");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else { return; }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    if (!button) { return; }
    if (button.id === "theme") { theme(); }
    else if (button.hasAttribute("data-copy")) { copy(button); }
  });
}());
