/* Stand-in for https://js.hcaptcha.com/1/api.js, served from loopback: the same
   checkbox iframe and h-captcha-response / g-recaptcha-response textareas. */
(function () {
  var base = document.currentScript.src.replace(/1\/api\.js.*$/, '');
  document.querySelectorAll('.h-captcha').forEach(function (el) {
    var frame = document.createElement('iframe');
    frame.src = base + 'checkbox.html#frame=checkbox&id=0gkj2wk8lva&host=' + location.host + '&sitekey=' + el.getAttribute('data-sitekey');
    frame.title = 'Widget containing checkbox for hCaptcha security challenge';
    frame.setAttribute('data-hcaptcha-widget-id', '0gkj2wk8lva');
    frame.setAttribute('data-hcaptcha-response', '');
    frame.style.cssText = 'pointer-events: auto; width: 303px; height: 78px; overflow: hidden; border: 0;';
    el.appendChild(frame);
    ['g-recaptcha-response', 'h-captcha-response'].forEach(function (name) {
      var area = document.createElement('textarea');
      area.id = name + '-0gkj2wk8lva'; area.name = name; area.style.display = 'none';
      el.appendChild(area);
    });
  });
})();
