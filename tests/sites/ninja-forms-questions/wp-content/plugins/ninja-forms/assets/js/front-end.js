/* Stand-in for Ninja Forms 3's front end with the Conditional Logic add-on: fields are
   rendered from nfForms after load; a field with show_when is rendered only while its
   condition holds (and removed again when it does not); list fields (listradio,
   listcheckbox) use aria-labelledby naming both the question and the option; a single
   checkbox may come checked by default; the submit is an <input type=button>; the POST to
   admin-ajax.php (action=nf_ajax_submit) carries formData as a JSON string. */
(function () {
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  var INPUT_TYPES = {email: 'email', phone: 'tel'};

  function control(f) {
    var base = ' class="ninja-forms-field nf-element" aria-invalid="false" aria-describedby="nf-error-' + f.id + '"';
    if (f.type === 'textarea') return '<textarea id="nf-field-' + f.id + '" name="nf-field-' + f.id + '"' + base + ' aria-labelledby="nf-label-field-' + f.id + '"></textarea>';
    if (f.type === 'listradio' || f.type === 'listcheckbox') {
      var kind = f.type === 'listradio' ? 'radio' : 'checkbox';
      return '<ul aria-describedby="nf-error-' + f.id + '">' + f.options.map(function (o, i) {
        var id = 'nf-field-' + f.id + '-' + i;
        return '<li><input type="' + kind + '" id="' + id + '" name="nf-field-' + f.id + '"' + base + ' value="' + esc(o.value) + '" aria-labelledby="nf-label-field-' + f.id + ' nf-label-class-field-' + f.id + '-' + i + '"' + (f.required && kind === 'radio' ? ' required' : '') + '>' +
          '<label for="' + id + '" id="nf-label-class-field-' + f.id + '-' + i + '">' + esc(o.label) + '</label></li>';
      }).join('') + '</ul>';
    }
    if (f.type === 'checkbox') return '<input type="checkbox" id="nf-field-' + f.id + '" name="nf-field-' + f.id + '"' + base + ' aria-labelledby="nf-label-field-' + f.id + '"' + (f.default_value === 'checked' ? ' checked' : '') + (f.required ? ' required' : '') + '>';
    return '<input type="' + (INPUT_TYPES[f.type] || 'text') + '" value="" id="nf-field-' + f.id + '" name="nf-field-' + f.id + '"' + base + ' aria-labelledby="nf-label-field-' + f.id + '"' + (f.required ? ' required' : '') + '>';
  }
  function fieldHtml(f) {
    if (f.type === 'submit') return '<nf-field><div id="nf-field-' + f.id + '-container" class="nf-field-container submit-container label-above"><div class="nf-field"><div class="field-wrap submit-wrap" data-field-id="' + f.id + '"><div class="nf-field-element"><input id="nf-field-' + f.id + '" class="ninja-forms-field nf-element" type="button" value="' + esc(f.label) + '"></div></div></div></div></nf-field>';
    var req = f.required ? ' <span class="ninja-forms-req-symbol">*</span>' : '';
    var labelFor = (f.type === 'listradio' || f.type === 'listcheckbox') ? '' : ' for="nf-field-' + f.id + '"';
    return '<nf-field data-nf-id="' + f.id + '"><div id="nf-field-' + f.id + '-container" class="nf-field-container ' + f.type + '-container label-above' + (f.required ? ' field-required' : '') + '"><div class="nf-field">' +
      '<div id="nf-field-' + f.id + '-wrap" class="field-wrap ' + f.type + '-wrap" data-field-id="' + f.id + '">' +
      '<div class="nf-field-label"><label' + labelFor + ' id="nf-label-field-' + f.id + '">' + esc(f.label) + req + '</label></div>' +
      '<div class="nf-field-element">' + control(f) + '</div></div></div>' +
      '<div class="nf-after-field"><div class="nf-error-wrap nf-error" id="nf-error-' + f.id + '" role="alert"></div></div></div></nf-field>';
  }
  function valueOf(f) {
    if (f.type === 'listradio') { var c = document.querySelector('[name="nf-field-' + f.id + '"]:checked'); return c ? c.value : ''; }
    if (f.type === 'listcheckbox') return Array.prototype.map.call(document.querySelectorAll('[name="nf-field-' + f.id + '"]:checked'), function (c) { return c.value; });
    var el = document.getElementById('nf-field-' + f.id);
    if (f.type === 'checkbox') return el.checked ? 1 : 0;
    return el.value;
  }
  function shown(form, f) {
    if (!f.show_when) return true;
    var by = form.fields.filter(function (g) { return g.id === f.show_when.field; })[0];
    return valueOf(by) === f.show_when.value;
  }
  function applyLogic(form, wrap) {
    form.fields.forEach(function (f, i) {
      if (!f.show_when) return;
      var present = wrap.querySelector('nf-field[data-nf-id="' + f.id + '"]');
      if (shown(form, f) && !present) {
        var after = wrap.querySelector('nf-field[data-nf-id="' + form.fields[i - 1].id + '"]');
        after.insertAdjacentHTML('afterend', fieldHtml(f));
      } else if (!shown(form, f) && present) present.remove();
    });
  }
  function render(form) {
    var cont = document.getElementById('nf-form-' + form.id + '-cont');
    cont.innerHTML = '<div class="nf-form-wrap ninja-forms-form-wrap"><div class="nf-response-msg"></div>' +
      '<div class="nf-before-form"><nf-section><span id="nf-form-title-' + form.id + '" class="nf-form-title"><h3>' + esc(form.settings.title) + '</h3></span></nf-section></div>' +
      '<div class="nf-form-layout"><form><div><div class="nf-before-form-content"><nf-section><div class="nf-form-fields-required">Fields marked with an <span class="ninja-forms-req-symbol">*</span> are required</div></nf-section></div>' +
      '<div class="nf-form-content"><nf-fields-wrap>' + form.fields.filter(function (f) { return !f.show_when; }).map(fieldHtml).join('') + '</nf-fields-wrap>' +
      '<div class="nf-form-hp"><nf-section><label for="nf-field-hp-' + form.id + '" aria-hidden="true">If you are a human seeing this field, please leave it empty.<input id="nf-field-hp-' + form.id + '" name="nf-field-hp" class="nf-element nf-field-hp" type="text" value=""></label></nf-section></div>' +
      '</div><div class="nf-after-form-content"><nf-section><div id="nf-form-errors-' + form.id + '" class="nf-form-errors" role="alert"></div></nf-section></div></div></form></div></div>';
    var wrap = cont.querySelector('nf-fields-wrap');
    cont.querySelector('form').addEventListener('submit', function (e) { e.preventDefault(); });
    cont.addEventListener('change', function () { applyLogic(form, wrap); });
    cont.querySelector('input[type=button]').addEventListener('click', function () { submit(form, cont); });
  }
  function submit(form, cont) {
    var ok = true, fields = {};
    form.fields.forEach(function (f) {
      if (f.type === 'submit' || !shown(form, f)) return;
      var err = document.getElementById('nf-error-' + f.id);
      err.innerHTML = '';
      var v = valueOf(f);
      var empty = Array.isArray(v) ? v.length === 0 : (f.type === 'checkbox' ? v === 0 : !String(v).trim());
      if (f.required && empty) { ok = false; err.innerHTML = '<div class="nf-error-msg nf-error-required-error">This field is required.</div>'; }
      fields[f.id] = {id: f.id, value: v};
    });
    var errors = document.getElementById('nf-form-errors-' + form.id);
    if (!ok) { errors.innerHTML = '<div class="nf-error-msg nf-error-field-errors">Please correct errors before submitting this form.</div>'; return; }
    errors.innerHTML = '';
    var body = new URLSearchParams();
    body.append('action', 'nf_ajax_submit');
    body.append('security', '4f8a21c9e3');
    body.append('formData', JSON.stringify({id: form.id, fields: fields, settings: {}, extra: {}, hp: document.getElementById('nf-field-hp-' + form.id).value}));
    fetch('wp-admin/admin-ajax.php', {method: 'POST', body: body})
      .then(function (r) { return r.json(); })
      .then(function (json) {
        cont.querySelector('.nf-response-msg').innerHTML = json.data.actions.success_message;
        cont.querySelector('.nf-form-layout').style.display = 'none';
      });
  }
  window.addEventListener('load', function () {
    setTimeout(function () { (window.nfForms || []).forEach(render); }, 400);
  });
})();
