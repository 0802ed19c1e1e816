/* Stand-in for Ninja Forms 3's Backbone/Marionette front end: the form is built from
   nfForms 0.7 s after load; the submit is an <input type=button>; submission is an AJAX
   POST to admin-ajax.php (action=nf_ajax_submit) whose formData is a JSON string. */
(function () {
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; }); }
  function fieldHtml(f) {
    var req = f.required ? ' <span class="ninja-forms-req-symbol">*</span>' : '';
    var attrs = ' class="ninja-forms-field nf-element" id="nf-field-' + f.id + '" name="nf-field-' + f.id + '" aria-invalid="false" aria-describedby="nf-error-' + f.id + '" aria-labelledby="nf-label-field-' + f.id + '"' + (f.required ? ' required' : '');
    var control;
    if (f.type === 'textarea') control = '<textarea' + attrs + '></textarea>';
    else if (f.type === 'listselect') control = '<select' + attrs + '>' + f.options.map(function (o) { return '<option value="' + esc(o.value) + '">' + esc(o.label) + '</option>'; }).join('') + '</select>';
    else if (f.type === 'submit') return '<nf-field><div id="nf-field-' + f.id + '-container" class="nf-field-container submit-container label-above"><div class="nf-field"><div id="nf-field-' + f.id + '-wrap" class="field-wrap submit-wrap" data-field-id="' + f.id + '"><div class="nf-field-element"><input id="nf-field-' + f.id + '" class="ninja-forms-field nf-element" type="button" value="' + esc(f.label) + '"></div></div></div></div></nf-field>';
    else control = '<input type="' + (f.type === 'email' ? 'email' : f.type === 'phone' ? 'tel' : 'text') + '" value=""' + attrs + '>';
    return '<nf-field><div id="nf-field-' + f.id + '-container" class="nf-field-container ' + f.type + '-container label-above' + (f.required ? ' field-required' : '') + '"><div class="nf-field">' +
      '<div id="nf-field-' + f.id + '-wrap" class="field-wrap ' + f.type + '-wrap" data-field-id="' + f.id + '">' +
      '<div class="nf-field-label"><label for="nf-field-' + f.id + '" id="nf-label-field-' + f.id + '" class="">' + esc(f.label) + req + ' </label></div>' +
      '<div class="nf-field-element">' + control + '</div></div></div>' +
      '<div class="nf-after-field"><div class="nf-error-wrap nf-error" id="nf-error-' + f.id + '" role="alert"></div></div></div></nf-field>';
  }
  function render(form) {
    var cont = document.getElementById('nf-form-' + form.id + '-cont');
    cont.innerHTML = '<div class="nf-form-wrap ninja-forms-form-wrap"><div class="nf-response-msg"></div>' +
      '<div class="nf-before-form"><nf-section><span id="nf-form-title-' + form.id + '" class="nf-form-title"><h3>' + esc(form.settings.title) + '</h3></span></nf-section></div>' +
      '<div class="nf-form-layout"><form><div><div class="nf-before-form-content"><nf-section><div class="nf-form-fields-required">Fields marked with an <span class="ninja-forms-req-symbol">*</span> are required</div></nf-section></div>' +
      '<div class="nf-form-content"><nf-fields-wrap>' + form.fields.map(fieldHtml).join('') + '</nf-fields-wrap>' +
      '<div class="nf-form-hp"><nf-section><label for="nf-field-hp-' + form.id + '" aria-hidden="true">If you are a human seeing this field, please leave it empty.<input id="nf-field-hp-' + form.id + '" name="nf-field-hp" class="nf-element nf-field-hp" type="text" value=""></label></nf-section></div>' +
      '</div><div class="nf-after-form-content"><nf-section><div id="nf-form-errors-' + form.id + '" class="nf-form-errors" role="alert"></div></nf-section></div></div></form></div></div>';
    var formEl = cont.querySelector('form');
    formEl.addEventListener('submit', function (e) { e.preventDefault(); });  // Enter does nothing
    cont.querySelector('input[type=button]').addEventListener('click', function () { submit(form, cont); });
  }
  function submit(form, cont) {
    var ok = true, fields = {};
    form.fields.forEach(function (f) {
      if (f.type === 'submit') return;
      var el = document.getElementById('nf-field-' + f.id);
      var err = document.getElementById('nf-error-' + f.id);
      err.innerHTML = '';
      if (f.required && !el.value.trim()) { ok = false; err.innerHTML = '<div class="nf-error-msg nf-error-required-error">This field is required.</div>'; }
      fields[f.id] = {id: f.id, value: el.value};
    });
    var errors = document.getElementById('nf-form-errors-' + form.id);
    if (!ok) { errors.innerHTML = '<div class="nf-error-msg nf-error-field-errors">Please correct errors before submitting this form.</div>'; return; }
    errors.innerHTML = '';
    var hp = document.getElementById('nf-field-hp-' + form.id).value;
    var body = new URLSearchParams();
    body.append('action', 'nf_ajax_submit');
    body.append('security', '9b1c77e0a4');
    body.append('formData', JSON.stringify({id: form.id, fields: fields, settings: {}, extra: {}, hp: hp}));
    fetch('wp-admin/admin-ajax.php', {method: 'POST', body: body})
      .then(function (r) { return r.json(); })
      .then(function (json) {
        if (json.errors && Object.keys(json.errors).length) return;
        cont.querySelector('.nf-response-msg').innerHTML = json.data.actions.success_message;
        if (form.settings.hide_successfully_completed_form === '1') cont.querySelector('.nf-form-layout').style.display = 'none';
      });
  }
  window.addEventListener('load', function () {
    setTimeout(function () { (window.nfForms || []).forEach(render); }, 700);
  });
})();
