/* Conditional Fields for Contact Form 7, reduced: the "trade-details" group shows while
   the trade-in answer is Yes; hidden groups are listed for the server, which ignores
   their fields. */
(function () {
  var form = document.querySelector('.wpcf7-form');
  var group = form.querySelector('[data-id="trade-details"]');
  function update() {
    var answer = form.querySelector('input[name="trade-in"]:checked');
    var show = !!answer && answer.value === 'Yes';
    group.classList.toggle('wpcf7cf-hidden', !show);
    group.style.display = show ? '' : 'none';
    var hiddenFields = show ? [] : ['trade-vehicle', 'trade-mileage'];
    form.querySelector('[name=_wpcf7cf_hidden_group_fields]').value = JSON.stringify(hiddenFields);
    form.querySelector('[name=_wpcf7cf_hidden_groups]').value = JSON.stringify(show ? [] : ['trade-details']);
    form.querySelector('[name=_wpcf7cf_visible_groups]').value = JSON.stringify(show ? ['trade-details'] : []);
  }
  form.addEventListener('change', update);
  update();
})();
