/* Stand-in for Elementor Pro's form module: validates, posts FormData to admin-ajax.php
   with action=elementor_pro_forms_send_form, shows .elementor-message under the form. */
(function () {
  document.querySelectorAll('form.elementor-form').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      form.querySelectorAll('.elementor-message').forEach(function (m) { m.remove(); });
      var data = new FormData(form);
      data.append('action', 'elementor_pro_forms_send_form');
      form.classList.add('elementor-form-waiting');
      var button = form.querySelector('[type=submit]');
      button.setAttribute('disabled', 'disabled');
      fetch('../wp-admin/admin-ajax.php', { method: 'POST', body: data, credentials: 'same-origin' })
        .then(function (r) { return r.json(); })
        .then(function (response) {
          form.classList.remove('elementor-form-waiting');
          button.removeAttribute('disabled');
          var message = document.createElement('div');
          message.setAttribute('role', 'alert');
          if (response.success) {
            message.className = 'elementor-message elementor-message-success';
            message.textContent = response.data.message;
            form.reset();
          } else {
            message.className = 'elementor-message elementor-message-danger';
            message.textContent = response.data.message;
          }
          form.appendChild(message);
        });
    });
  });
})();
