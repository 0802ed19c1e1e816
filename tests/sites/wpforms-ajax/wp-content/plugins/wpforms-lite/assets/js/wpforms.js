/* Stand-in for WPForms' front-end script: adds the anti-spam token, masks the phone as
   (999) 999-9999, and submits by AJAX (action=wpforms_submit); on success the whole
   container is replaced by the confirmation HTML the server returns. */
(function () {
  var form = document.getElementById('wpforms-form-127');
  var token = document.createElement('input');
  token.type = 'hidden'; token.name = 'wpforms[token]'; token.value = form.getAttribute('data-token');
  form.appendChild(token);
  form.querySelector('input[name=page_url]').value = location.href;

  var phone = form.querySelector('.wpforms-masked-input');
  phone.addEventListener('input', function () {
    var d = phone.value.replace(/\D/g, '').slice(0, 10);
    var out = d;
    if (d.length > 6) out = '(' + d.slice(0, 3) + ') ' + d.slice(3, 6) + '-' + d.slice(6);
    else if (d.length > 3) out = '(' + d.slice(0, 3) + ') ' + d.slice(3);
    phone.value = out;
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var button = document.getElementById('wpforms-submit-127');
    button.textContent = button.getAttribute('data-alt-text');
    button.disabled = true;
    var data = new FormData(form);
    data.append('action', 'wpforms_submit');
    fetch('../wp-admin/admin-ajax.php', { method: 'POST', body: data })
      .then(function (r) { return r.json(); })
      .then(function (json) {
        if (json.success) {
          document.getElementById('wpforms-127').outerHTML = json.data.confirmation;
        } else {
          button.textContent = 'Submit'; button.disabled = false;
        }
      });
  });
})();
