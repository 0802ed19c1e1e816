/* HubSpot's embed as a visitor sees it: the form is built by script, fields carry the
   hs-* classes and contact-property names, and the submission goes as JSON to the
   Forms API; on success the form is replaced by the inline thank-you message. */
window.hbspt = { forms: { create: function (options) {
  var id = options.formId;
  var target = document.querySelector(options.target);
  var fields = [
    [{ name: 'firstname', label: 'First name', type: 'text', required: true }, { name: 'lastname', label: 'Last name', type: 'text', required: true }],
    [{ name: 'email', label: 'Email', type: 'email', required: true }],
    [{ name: 'mobilephone', label: 'Mobile phone number', type: 'tel', required: false }],
    [{ name: 'vehicle_of_interest', label: 'Vehicle of interest', type: 'text', required: false }],
    [{ name: 'message', label: 'Message', type: 'textarea', required: false }]
  ];
  setTimeout(function () {
    var form = document.createElement('form');
    form.id = 'hsForm_' + id;
    form.className = 'hs-form stacked hs-form-private hsForm_' + id + ' hs-form-' + id;
    form.setAttribute('novalidate', '');
    form.setAttribute('accept-charset', 'UTF-8');
    fields.forEach(function (row) {
      var fieldset = document.createElement('fieldset');
      fieldset.className = 'form-columns-' + row.length;
      row.forEach(function (f) {
        var inputId = f.name + '-' + id;
        var wrap = document.createElement('div');
        wrap.className = 'hs_' + f.name + ' hs-' + f.name + ' hs-fieldtype-' + (f.type === 'textarea' ? 'textarea' : 'text') + ' field hs-form-field';
        wrap.innerHTML = '<label id="label-' + inputId + '" for="' + inputId + '"><span>' + f.label + '</span>' +
          (f.required ? '<span class="hs-form-required">*</span>' : '') + '</label><legend class="hs-field-desc" style="display:none"></legend>' +
          '<div class="input">' + (f.type === 'textarea'
            ? '<textarea id="' + inputId + '" class="hs-input" name="' + f.name + '"></textarea>'
            : '<input id="' + inputId + '" name="' + f.name + '" ' + (f.required ? 'required ' : '') + 'type="' + f.type + '" class="hs-input" inputmode="' + (f.type === 'tel' ? 'tel' : 'text') + '" autocomplete="' + (f.name === 'email' ? 'email' : 'off') + '" value="">') + '</div>';
        fieldset.appendChild(wrap);
      });
      form.appendChild(fieldset);
    });
    var consent = document.createElement('div');
    consent.className = 'legal-consent-container';
    consent.innerHTML = '<div class="hs-richtext"><p>Harbor Subaru is committed to protecting your privacy.</p></div>' +
      '<div class="hs_LEGAL_CONSENT.subscription_type_9 hs-LEGAL_CONSENT.subscription_type_9 hs-fieldtype-booleancheckbox field hs-form-field">' +
      '<div class="input"><ul class="inputs-list"><li class="hs-form-booleancheckbox"><label for="LEGAL_CONSENT.subscription_type_9-' + id + '" class="hs-form-booleancheckbox-display">' +
      '<input id="LEGAL_CONSENT.subscription_type_9-' + id + '" class="hs-input" type="checkbox" name="LEGAL_CONSENT.subscription_type_9" value="true">' +
      '<span>I agree to receive marketing communications from Harbor Subaru.</span></label></li></ul></div></div>';
    form.appendChild(consent);
    var actions = document.createElement('div');
    actions.className = 'hs_submit hs-submit';
    actions.innerHTML = '<div class="actions"><input type="submit" class="hs-button primary large" value="Submit"></div>';
    form.appendChild(actions);
    target.appendChild(form);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      form.querySelectorAll('.hs-error-msgs').forEach(function (el) { el.remove(); });
      var invalid = Array.prototype.filter.call(form.querySelectorAll('input[required]'), function (el) { return !el.value.trim(); });
      if (invalid.length) {
        invalid.forEach(function (el) {
          var ul = document.createElement('ul'); ul.className = 'no-list hs-error-msgs inputs-list'; ul.setAttribute('role', 'alert');
          ul.innerHTML = '<li><label class="hs-error-msg hs-main-font-element">Please complete this required field.</label></li>';
          el.closest('.hs-form-field').appendChild(ul);
        });
        return;
      }
      var payload = { fields: [], context: { pageUri: location.href, pageName: document.title }, legalConsentOptions: {} };
      Array.prototype.forEach.call(form.querySelectorAll('.hs-input'), function (el) {
        if (el.type === 'checkbox') { if (el.checked) payload.fields.push({ objectTypeId: '0-1', name: el.name, value: el.value }); }
        else if (el.value) payload.fields.push({ objectTypeId: '0-1', name: el.name, value: el.value });
      });
      fetch('/{{SITE}}/submissions/v3/integration/submit/' + options.portalId + '/' + id, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload)
      }).then(function (r) { return r.json(); }).then(function (data) {
        var done = document.createElement('div');
        done.className = 'submitted-message hs-main-font-element hs-form-' + id;
        done.innerHTML = data.inlineMessage;
        form.replaceWith(done);
      });
    });
  }, 400);
} } };
