/* Contact Form 7 (5.9) front end, reduced to what this site uses: schema-woven
   validation in the browser (required fields, acceptance boxes), then a multipart POST to
   the REST feedback endpoint, answered in .wpcf7-response-output. */
(function () {
  var form = document.querySelector('.wpcf7-form');
  var container = form.closest('.wpcf7');
  var output = form.querySelector('.wpcf7-response-output');
  var submit = form.querySelector('.wpcf7-submit');
  var acceptance = form.querySelector('.wpcf7-acceptance input');
  var id = form.querySelector('input[name=_wpcf7]').value;
  var endpoint = '/{{SITE}}/wp-json/contact-form-7/v1/contact-forms/' + id + '/feedback';

  function syncAcceptance() { submit.disabled = !acceptance.checked; }
  acceptance.addEventListener('change', syncAcceptance);
  syncAcceptance();

  function clearTips() {
    form.querySelectorAll('.wpcf7-not-valid-tip').forEach(function (t) { t.remove(); });
    form.querySelectorAll('[aria-invalid=true]').forEach(function (c) { c.setAttribute('aria-invalid', 'false'); c.classList.remove('wpcf7-not-valid'); });
  }
  function tip(wrap, text) {
    var t = document.createElement('span');
    t.className = 'wpcf7-not-valid-tip';
    t.setAttribute('aria-hidden', 'true');
    t.textContent = text;
    wrap.appendChild(t);
    var control = wrap.querySelector('input,select,textarea');
    if (control) { control.setAttribute('aria-invalid', 'true'); control.classList.add('wpcf7-not-valid'); }
  }
  function setStatus(status, message) {
    form.classList.remove('init', 'invalid', 'sent', 'failed', 'submitting');
    form.classList.add(status);
    form.setAttribute('data-status', status);
    output.textContent = message;
    output.setAttribute('aria-hidden', 'false');
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearTips();
    var invalid = 0;
    form.querySelectorAll('.wpcf7-validates-as-required').forEach(function (c) {
      // Conditional Fields for CF7: a hidden group's fields are not validated.
      if (c.closest('.wpcf7cf-hidden')) return;
      if (!c.value.trim()) { invalid++; tip(c.closest('.wpcf7-form-control-wrap'), 'Please fill out this field.'); }
    });
    var email = form.querySelector('.wpcf7-validates-as-email');
    if (email.value && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.value)) {
      invalid++; tip(email.closest('.wpcf7-form-control-wrap'), 'Please enter an email address.');
    }
    if (!acceptance.checked) { invalid++; tip(acceptance.closest('.wpcf7-form-control-wrap'), 'Please accept the terms to proceed.'); }
    if (invalid) { setStatus('invalid', 'One or more fields have an error. Please check and try again.'); return; }
    form.classList.add('submitting');
    fetch(endpoint, { method: 'POST', body: new FormData(form), headers: { Accept: 'application/json' } })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.status === 'mail_sent') { setStatus('sent', answer.message); form.reset(); }
        else { setStatus('failed', answer.message || 'There was an error trying to send your message. Please try again later.'); }
      })
      .catch(function () { setStatus('failed', 'There was an error trying to send your message. Please try again later.'); });
  });
})();
