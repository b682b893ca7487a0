// Tessera: keeps a draft of a form's text fields in this browser while the learner types
// (localStorage, per page), restores it when the page is opened again (after a dropped
// connection, a reload or a failed submission) and forgets it once the page says the evidence
// was submitted (?done=submitted). Progressive enhancement only: the form works without it.
// Served from our own origin under a content-hashed URL (CSP script-src 'self'; no inline code).
(function () {
  "use strict";
  var store;
  try {
    store = window.localStorage;
    store.getItem("tessera-draft:probe");
  } catch (e) {
    return; // storage disabled: the form still works, it just keeps no draft
  }
  var prefix = "tessera-draft:";
  if (/[?&]done=submitted(&|$)/.test(window.location.search)) {
    store.removeItem(prefix + window.location.pathname);
  }
  var forms = document.querySelectorAll("form[data-draft]");
  for (var i = 0; i < forms.length; i++) {
    keep(forms[i]);
  }

  function keep(form) {
    var key = prefix + form.getAttribute("data-draft");
    var fields = form.querySelectorAll("textarea[name], input[type=text][name], input[type=url][name]");
    var saved = {};
    try {
      saved = JSON.parse(store.getItem(key) || "{}") || {};
    } catch (e) {
      saved = {};
    }
    var restored = false;
    for (var j = 0; j < fields.length; j++) {
      var f = fields[j];
      // What the server sent back wins: a form shown again with a problem carries its text.
      if (!f.value && typeof saved[f.name] === "string" && saved[f.name] !== "") {
        f.value = saved[f.name];
        restored = true;
      }
    }
    if (restored) {
      var p = document.createElement("p");
      p.className = "hint";
      p.id = "draft-restored";
      p.setAttribute("role", "status");
      p.textContent = "Your unsent draft from this browser was restored.";
      form.insertBefore(p, form.firstChild);
    }
    function save() {
      var data = {};
      var any = false;
      for (var k = 0; k < fields.length; k++) {
        if (fields[k].value !== "") {
          data[fields[k].name] = fields[k].value;
          any = true;
        }
      }
      try {
        if (any) {
          store.setItem(key, JSON.stringify(data));
        } else {
          store.removeItem(key);
        }
      } catch (e) {
        // quota or privacy mode: nothing to do, the form still works
      }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  }
})();
