// What the page says about the form right now: is it still shown, what error messages are
// visible in or near it, which fields the browser itself considers invalid.
(formDc) => {
  const squash = (s, n = 300) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n);
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  const form = all.find((el) => el.getAttribute('data-dc') === formDc) || null;
  const visible = (el) => {
    if (el.checkVisibility && !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 1 && r.height > 1;
  };
  const ERROR_SEL = '.error, .errors, .error-message, .errorMessage, .field-error, .invalid-feedback, .validation_message, ' +
    '.gfield_error .gfield_description, .gform_validation_errors, .validation_error, .wpcf7-not-valid-tip, ' +
    '.hs-error-msgs, .hs-error-msg, .field-validation-error, .help-block, .text-danger, .alert-danger, .alert-error, ' +
    '.parsley-errors-list, .form-error, .message-error, .is-error, .has-error .help-block, [role=alert], [aria-live=assertive], ' +
    '.alert, .errorlist, .validation-summary-errors, .field-validation-error, .form-errors, [class*=error i], [class*=invalid i]';
  const scope = form && form.isConnected ? (form.closest('.gform_wrapper, .wpcf7, .hbspt-form, [class*=form-wrap]') || form.parentElement || form) : document;
  const errors = [];
  for (const el of (scope.querySelectorAll ? scope.querySelectorAll(ERROR_SEL) : [])) {
    // CF7 marks the whole form "invalid": its status is read below, not all its text.
    if (!visible(el) || (form && el.contains(form))) continue;
    const t = squash(el.innerText || el.textContent, 200);
    if (t && !errors.includes(t)) errors.push(t);
  }
  // Site-wide notices (toastr, snackbars, alerts pinned to the page's corner) sit outside
  // the form's box; only those new since the click and in error words count (verifying.py).
  for (const el of document.querySelectorAll('[role=alert], [aria-live=assertive], .toast, [class*=toast i], [class*=snackbar i], [class*=notification i]')) {
    if (!visible(el) || (form && el.contains(form))) continue;
    const t = squash(el.innerText || el.textContent, 200);
    if (t && !errors.includes(t)) errors.push(t);
  }
  // Server-rendered answers often say it in plain words, in a box with no error class:
  // "There was a problem with your submission. Please check the highlighted fields".
  const ERROR_SENTENCE = /there (was|were) (a |an |some )?(problems?|errors?)\b|please correct the\b|please check the (highlighted|following|marked)|(could not|couldn't|was not|wasn't) be (sent|submitted|processed)|(could not|unable to) (send|submit|process) (your|the)\b|submission (failed|was unsuccessful)|hubo (un|algunos) (problemas?|errore?s?)|something went wrong|sorry,? (but )?(we|there|your message|your request|it)\b.{0,40}\b(not|n't|error|problem|wrong)|algo sali[oó] mal/i;
  if (document.body) {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!ERROR_SENTENCE.test(node.textContent)) continue;
      const parent = node.parentElement;
      if (!parent || /^(SCRIPT|STYLE|NOSCRIPT|TEMPLATE)$/.test(parent.tagName)) continue;
      const box = parent.closest('p, div, li, td, section') || parent;
      if (!visible(box)) continue;
      const t = squash(box.innerText || box.textContent, 200);
      if (t && !errors.includes(t)) errors.push(t);
    }
  }
  // A refusal written into a plain box in or beside the form, with no error class:
  // <div class="form-msg">Please enter a valid phone number.</div>. Only text that was not
  // there before the click counts (verifying.py compares), so standing hints do not.
  const FIELD_ERROR = /please (enter|provide|fill|complete|select|correct|check|use)\b|\b(is|are) (required|invalid|not valid|incorrect)\b|\bnot a valid\b|\binvalid\b|\bmust (be|contain|include|match)\b|(ingrese|introduzca|escriba) un|es (obligatorio|requerido)|no es v[aá]lid[oa]/i;
  if (form && form.isConnected && scope.querySelectorAll) {
    for (const el of scope.querySelectorAll('div, p, span, li, small, em, strong, b, font')) {
      if (el.closest('label, button, option, select, textarea') || el.querySelector('input, select, textarea, button, label')) continue;
      const t = squash(el.innerText || el.textContent, 200);
      if (t.length < 8 || t.length >= 200 || !FIELD_ERROR.test(t) || errors.includes(t) || !visible(el)) continue;
      if ([...el.children].some((child) => squash(child.innerText || child.textContent, 200) === t)) continue;  // the inner one counts
      errors.push(t);
    }
  }
  const invalid = [];
  if (form && form.isConnected) {
    for (const el of form.querySelectorAll('input, select, textarea')) {
      if (!visible(el) && el.type !== 'checkbox') continue;
      const aria = el.getAttribute('aria-invalid') === 'true';
      if (aria || (el.willValidate && !el.checkValidity())) {
        const lab = el.labels && el.labels[0] ? squash(el.labels[0].innerText, 60) : (el.getAttribute('aria-label') || el.placeholder || el.name || '');
        invalid.push({ label: squash(lab, 60).replace(/[*:]\s*$/, ''), message: squash(el.validationMessage, 120), aria });
      }
    }
  }
  const cf7 = form && form.isConnected ? (form.getAttribute('data-status') || '') : '';
  return {
    url: location.href,
    form_present: !!(form && form.isConnected),
    form_visible: !!(form && form.isConnected && visible(form)),
    text: squash(document.body ? document.body.innerText : '', 6000),
    errors, invalid, cf7_status: cf7,
  };
}
