/* Fluent Forms front end, reduced to what this form uses: conditional groups
   (data-show-when) shown with a short fade as answers change, inline "This field is
   required" errors, and the AJAX submission to admin-ajax.php (action=fluentform_submit,
   the form serialised into "data", conditionally hidden fields left out). */
(function () {
  var form = document.getElementById('fluentform_3');
  var wrapper = form.closest('.fluentform');

  function valueOf(name) {
    var checked = form.querySelector('[name="' + name + '"]:checked');
    if (checked) return checked.value;
    var el = form.querySelector('select[name="' + name + '"]');
    return el ? el.value : '';
  }
  function applyConditions() {
    form.querySelectorAll('.has-conditions').forEach(function (group) {
      var rule = group.getAttribute('data-show-when').split('=');
      var show = valueOf(rule[0]) === rule[1];
      var wasHidden = group.classList.contains('ff_excluded');
      group.classList.toggle('ff_excluded', !show);
      if (show && wasHidden) { group.classList.remove('ff_shown'); void group.offsetWidth; group.classList.add('ff_shown'); }
    });
  }
  form.addEventListener('change', applyConditions);
  applyConditions();

  function clearErrors() {
    form.querySelectorAll('.error.text-danger').forEach(function (e) { e.remove(); });
    form.querySelectorAll('.ff-el-is-error').forEach(function (g) { g.classList.remove('ff-el-is-error'); });
  }
  function showError(group, text) {
    group.classList.add('ff-el-is-error');
    var div = document.createElement('div');
    div.className = 'error text-danger';
    div.textContent = text;
    group.querySelector('.ff-el-input--content').appendChild(div);
  }
  function excluded(el) { return !!el.closest('.ff_excluded'); }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    clearErrors();
    var missing = 0;
    form.querySelectorAll('.ff-el-group.ff-el-is-required').forEach(function (group) {
      if (excluded(group)) return;
      var inputs = group.querySelectorAll('input,select,textarea');
      var answered = Array.prototype.some.call(inputs, function (i) {
        return (i.type === 'radio' || i.type === 'checkbox') ? i.checked : i.value.trim() !== '';
      });
      if (!answered) { missing++; showError(group, 'This field is required'); }
    });
    if (missing) return;
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      var el = form.querySelector('[name="' + name + '"]');
      if (el && !excluded(el)) params.append(name, value);
    });
    var body = new URLSearchParams({ data: params.toString(), action: 'fluentform_submit', form_id: '3' });
    fetch('/{{SITE}}/wp-admin/admin-ajax.php', { method: 'POST', body: body })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, json: j }; }); })
      .then(function (answer) {
        if (answer.ok && answer.json.success) {
          var done = document.createElement('div');
          done.className = 'ff-message-success';
          done.id = 'fluentform_3_success';
          done.setAttribute('role', 'status');
          done.innerHTML = answer.json.data.result.message;
          form.style.display = 'none';
          wrapper.appendChild(done);
        } else {
          document.getElementById('fluentform_3_errors').innerHTML = '<div class="error text-danger">Sorry, your submission could not be processed.</div>';
        }
      });
  });
})();
