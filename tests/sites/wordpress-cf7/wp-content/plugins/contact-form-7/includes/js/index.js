/* Contact Form 7's front end, reduced to what a visitor sees: the acceptance box gates
   the submit button, the form posts multipart to the REST endpoint, and the answer's
   message lands in .wpcf7-response-output. */
(function () {
  document.querySelectorAll('.wpcf7').forEach(function (wrapper) {
    wrapper.classList.replace('no-js', 'js');
    var form = wrapper.querySelector('form.wpcf7-form');
    var submit = form.querySelector('.wpcf7-submit');
    var acceptance = form.querySelector('.wpcf7-acceptance input[type=checkbox]');
    var output = form.querySelector('.wpcf7-response-output');
    function gate() { submit.disabled = !acceptance.checked; }
    acceptance.addEventListener('change', gate);
    gate();
    function setStatus(status) {
      form.classList.remove('init', 'sent', 'invalid', 'failed', 'submitting');
      form.classList.add(status);
      form.setAttribute('data-status', status);
    }
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      form.querySelectorAll('.wpcf7-not-valid-tip').forEach(function (tip) { tip.remove(); });
      setStatus('submitting');
      var id = form.querySelector('input[name=_wpcf7]').value;
      fetch('/{{SITE}}/wp-json/contact-form-7/v1/contact-forms/' + id + '/feedback', {
        method: 'POST', body: new FormData(form), headers: { 'Accept': 'application/json' }
      }).then(function (response) { return response.json(); }).then(function (data) {
        setStatus(data.status === 'mail_sent' ? 'sent' : 'invalid');
        (data.invalid_fields || []).forEach(function (field) {
          var wrap = form.querySelector('[data-name="' + field.field + '"]');
          var tip = document.createElement('span');
          tip.className = 'wpcf7-not-valid-tip';
          tip.textContent = field.message;
          wrap.appendChild(tip);
        });
        output.textContent = data.message;
        output.setAttribute('aria-hidden', 'false');
        if (data.status === 'mail_sent') { form.reset(); gate(); }
      }).catch(function () {
        setStatus('failed');
        output.textContent = 'There was an error trying to send your message. Please try again later.';
      });
    });
  });
})();
