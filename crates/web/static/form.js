// Conveniences only; the server decides. (1) The 办理须知 countdown: the continue button is
// enabled when it ends. (2) show_if: fields, sections and ledgers appear and disappear as the
// answers they depend on change, with the same conditions the server evaluates.
(function () {
  'use strict';

  var button = document.querySelector('[data-countdown]');
  if (button) {
    var left = parseInt(button.getAttribute('data-countdown'), 10) || 0;
    var label = button.getAttribute('data-label') || button.textContent;
    var tick = function () {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = label + '（' + left + '秒）';
      left -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  }

  var form = document.getElementById('case-form');
  if (!form) return;
  var stored = JSON.parse(form.getAttribute('data-values') || '{}');

  function valuesOf(field) {
    var inputs = form.querySelectorAll('[name="f.' + field + '"]');
    if (inputs.length === 0) {
      var v = stored[field];
      if (v === undefined || v === null) return [];
      return (Array.isArray(v) ? v : [v]).map(function (s) { return String(s).trim(); }).filter(Boolean);
    }
    var out = [];
    inputs.forEach(function (input) {
      if ((input.type === 'radio' || input.type === 'checkbox') && !input.checked) return;
      if (input.closest('[hidden]')) return;
      var s = String(input.value).trim();
      if (s) out.push(input.type === 'number' && /^\d+$/.test(s) ? String(parseInt(s, 10)) : s);
    });
    return out;
  }

  function modules() {
    var out = [];
    form.querySelectorAll('[name="_module"]').forEach(function (m) { if (m.checked) out.push(m.value); });
    return out;
  }

  function holds(c) {
    var key = Object.keys(c)[0];
    var arg = c[key];
    switch (key) {
      case 'Equals': return valuesOf(arg[0])[0] === arg[1];
      case 'NotEquals': return valuesOf(arg[0])[0] !== arg[1];
      case 'AnyOf': return arg[1].indexOf(valuesOf(arg[0])[0]) >= 0;
      case 'Contains': return valuesOf(arg[0]).indexOf(arg[1]) >= 0;
      case 'Filled': return (valuesOf(arg[0]).length > 0) === arg[1];
      case 'Module': return modules().indexOf(arg) >= 0;
      case 'All': return arg.every(holds);
      case 'Any': return arg.some(holds);
      case 'Not': return !holds(arg);
    }
    return true;
  }

  function refresh() {
    // Twice: a condition may read a field that the first pass shows or hides.
    for (var pass = 0; pass < 2; pass++) {
      form.querySelectorAll('[data-show-if]').forEach(function (el) {
        el.hidden = !holds(JSON.parse(el.getAttribute('data-show-if')));
      });
    }
  }

  form.addEventListener('change', refresh);
  form.addEventListener('input', refresh);
  refresh();
})();
