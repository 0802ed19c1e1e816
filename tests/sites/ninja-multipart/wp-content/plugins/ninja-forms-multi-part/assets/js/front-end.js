/* Ninja Forms 3 with the Multi-Part add-on, the part this fixture needs: the form is drawn
   by script, one part at a time (the other parts are not in the page at all); Next checks
   the current part's required fields and shows inline errors; the last part's Submit posts
   every part's values as a JSON string in formData to admin-ajax.php (action=nf_ajax_submit). */
(function () {
  var FORM_ID = 3;
  var parts = [
    { title: 'Vehicle', fields: [
      { id: 31, type: 'listselect', label: 'Model', required: true, options: [['', '- Select One -'], ['camry', 'Camry'], ['corolla', 'Corolla'], ['rav4', 'RAV4'], ['highlander', 'Highlander'], ['tacoma', 'Tacoma'], ['tundra', 'Tundra']] },
      { id: 32, type: 'textbox', label: 'Stock # (if you have one)', required: false }
    ] },
    { title: 'Contact Info', fields: [
      { id: 33, type: 'firstname', label: 'First Name', required: true },
      { id: 34, type: 'lastname', label: 'Last Name', required: true },
      { id: 35, type: 'email', label: 'Email', required: true },
      { id: 36, type: 'phone', label: 'Phone', required: false }
    ] },
    { title: 'Comments', fields: [
      { id: 37, type: 'textarea', label: 'Questions or Comments', required: false },
      { id: 38, type: 'submit', label: 'Request My Quote' }
    ] }
  ];
  var values = {};
  var current = 0;
  var cont = document.getElementById('nf-form-' + FORM_ID + '-cont');

  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;'); }
  function fieldHtml(f) {
    var id = 'nf-field-' + f.id, req = f.required ? ' <span class="ninja-forms-req-symbol">*</span>' : '';
    var v = values[f.id] || '';
    var input;
    if (f.type === 'submit') {
      return '<nf-field><div id="nf-field-' + f.id + '-container" class="nf-field-container submit-container label-above"><div class="nf-field"><div id="nf-field-' + f.id + '-wrap" class="field-wrap submit-wrap" data-field-id="' + f.id + '"><div class="nf-field-element"><input id="' + id + '" class="ninja-forms-field nf-element" type="button" value="' + esc(f.label) + '"></div></div></div></div></nf-field>';
    }
    if (f.type === 'listselect') {
      input = '<select id="' + id + '" name="' + id + '" aria-invalid="false" aria-describedby="nf-error-' + f.id + '" class="ninja-forms-field nf-element"' + (f.required ? ' aria-required="true" required' : '') + '>' +
        f.options.map(function (o) { return '<option value="' + o[0] + '"' + (o[0] === v ? ' selected' : '') + '>' + o[1] + '</option>'; }).join('') + '</select>';
    } else if (f.type === 'textarea') {
      input = '<textarea id="' + id + '" name="' + id + '" aria-invalid="false" aria-describedby="nf-error-' + f.id + '" class="ninja-forms-field nf-element" aria-labelledby="' + id + '-label">' + esc(v) + '</textarea>';
    } else {
      var type = f.type === 'email' ? 'email' : (f.type === 'phone' ? 'tel' : 'text');
      input = '<input type="' + type + '" value="' + esc(v) + '" class="ninja-forms-field nf-element" id="' + id + '" name="' + id + '" aria-invalid="false" aria-describedby="nf-error-' + f.id + '" aria-labelledby="' + id + '-label"' + (f.required ? ' aria-required="true" required' : '') + '>';
    }
    return '<nf-field><div id="nf-field-' + f.id + '-container" class="nf-field-container ' + f.type + '-container label-above' + (f.required ? ' nf-required' : '') + '"><div class="nf-field"><div id="nf-field-' + f.id + '-wrap" class="field-wrap ' + f.type + '-wrap" data-field-id="' + f.id + '">' +
      '<div class="nf-field-label"><label for="' + id + '" id="' + id + '-label" class="">' + esc(f.label) + req + '</label></div>' +
      '<div class="nf-field-element">' + input + '</div></div></div>' +
      '<div class="nf-after-field"><div class="nf-error-wrap nf-error" role="alert" id="nf-error-' + f.id + '"></div></div></div></nf-field>';
  }
  function keep() {
    cont.querySelectorAll('.ninja-forms-field').forEach(function (el) {
      if (el.type !== 'button') values[el.id.replace('nf-field-', '')] = el.value;
    });
  }
  function render() {
    var part = parts[current];
    var crumbs = parts.map(function (p, i) { return '<li class="' + (i === current ? 'active' : '') + '"><a href="#" class="nf-breadcrumb" data-index="' + i + '">' + p.title + '</a></li>'; }).join('');
    var nav = '<ul class="nf-next-previous">' +
      (current > 0 ? '<li class="nf-previous-item"><input type="button" class="nf-previous" value="Previous"></li>' : '<li></li>') +
      (current < parts.length - 1 ? '<li class="nf-next-item"><input type="button" class="nf-next" value="Next"></li>' : '') + '</ul>';
    cont.innerHTML =
      '<div class="nf-form-wrap ninja-forms-form-wrap"><div class="nf-response-msg"></div><div class="nf-debug-msg"></div>' +
      '<div class="nf-before-form"><nf-section><div class="nf-form-title"><h3 id="nf-form-title-' + FORM_ID + '">Request a Quote</h3></div></nf-section></div>' +
      '<div class="nf-form-layout"><form><div>' +
      '<div class="nf-mp-header"><ul class="nf-breadcrumbs">' + crumbs + '</ul><div class="nf-progress-container"><div class="nf-progress" style="width:' + Math.round(100 * current / parts.length) + '%"></div></div></div>' +
      '<div class="nf-before-form-content"><nf-section><div class="nf-form-fields-required">Fields marked with an <span class="ninja-forms-req-symbol">*</span> are required</div></nf-section></div>' +
      '<div class="nf-form-content"><nf-fields>' + part.fields.map(fieldHtml).join('') + '</nf-fields>' +
      '<nf-field><div class="nf-field-container hp-container"><label for="nf-field-hp-' + FORM_ID + '" aria-hidden="true">If you are a human seeing this field, please leave it empty.<input id="nf-field-hp-' + FORM_ID + '" name="nf-field-hp" class="nf-element nf-field-hp" type="text" value=""></label></div></nf-field></div>' +
      '<div class="nf-mp-footer">' + nav + '</div>' +
      '</div></form></div><div class="nf-after-form-content"></div></div>';
    var next = cont.querySelector('.nf-next'), prev = cont.querySelector('.nf-previous'), submit = cont.querySelector('.submit-container input');
    if (next) next.addEventListener('click', function () { keep(); if (valid()) { current++; render(); } });
    if (prev) prev.addEventListener('click', function () { keep(); current--; render(); });
    if (submit) submit.addEventListener('click', function () { keep(); if (valid()) send(); });
    cont.querySelectorAll('.nf-breadcrumb').forEach(function (a) { a.addEventListener('click', function (e) { e.preventDefault(); }); });
  }
  function valid() {
    var ok = true;
    parts[current].fields.forEach(function (f) {
      var box = document.getElementById('nf-error-' + f.id);
      if (!box) return;
      box.innerHTML = '';
      var v = (values[f.id] || '').trim(), msg = '';
      if (f.required && !v) msg = 'This is a required field.';
      else if (f.type === 'email' && v && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) msg = 'Please enter a valid email address!';
      if (msg) { ok = false; box.innerHTML = '<div class="nf-error-msg nf-error-required-error">' + msg + '</div>'; }
    });
    return ok;
  }
  function send() {
    var fields = {};
    parts.forEach(function (p) { p.fields.forEach(function (f) { if (f.type !== 'submit') fields[f.id] = { id: f.id, value: values[f.id] || '' }; }); });
    var hp = document.getElementById('nf-field-hp-' + FORM_ID).value;
    var body = new URLSearchParams();
    body.append('action', 'nf_ajax_submit');
    body.append('security', nfFrontEnd.ajaxNonce);
    body.append('formData', JSON.stringify({ id: String(FORM_ID), fields: fields, settings: {}, extra: {}, hp: hp }));
    fetch(nfFrontEnd.adminAjax, { method: 'POST', body: body })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.errors && j.errors.length) return;
        cont.querySelector('.nf-form-layout').style.display = 'none';
        cont.querySelector('.nf-response-msg').innerHTML = j.data.actions.success_message;
      });
  }
  setTimeout(render, 400);
})();
