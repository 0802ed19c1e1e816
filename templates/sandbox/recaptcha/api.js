/* Stand-in for https://www.google.com/recaptcha/api.js: the sandbox is served to the
   engine on a closed network, so its BMW site loads this instead, and the fixture sites
   that embed reCAPTCHA load it from tests/fixture_server.py (nothing leaves the machine).
   It builds the same DOM Google's loader builds: the anchor iframe titled "reCAPTCHA"
   inside a 304x78 box plus the g-recaptcha-response textarea, or the .grecaptcha-badge
   for an invisible widget. */
(function () {
  var base = document.currentScript.src.replace(/api\.js.*$/, '');
  function anchor(key, size) {
    var frame = document.createElement('iframe');
    frame.title = 'reCAPTCHA';
    frame.src = base + 'api2/anchor.html?ar=1&k=' + encodeURIComponent(key) + '&co=' + btoa(location.origin) + '&hl=en&v=pCoGBhjs9s8&size=' + size;
    frame.width = size === 'invisible' ? 256 : 304; frame.height = size === 'invisible' ? 60 : 78;
    frame.setAttribute('frameborder', '0'); frame.setAttribute('scrolling', 'no');
    frame.setAttribute('sandbox', 'allow-forms allow-popups allow-same-origin allow-scripts allow-top-navigation allow-modals allow-popups-to-escape-sandbox allow-storage-access-by-user-activation');
    return frame;
  }
  function responseField() {
    var area = document.createElement('textarea');
    area.id = 'g-recaptcha-response'; area.name = 'g-recaptcha-response'; area.className = 'g-recaptcha-response';
    area.style.cssText = 'width: 250px; height: 40px; border: 1px solid rgb(193, 193, 193); margin: 10px 25px; padding: 0px; resize: none; display: none;';
    return area;
  }
  document.querySelectorAll('.g-recaptcha').forEach(function (el) {
    var key = el.getAttribute('data-sitekey');
    if (el.getAttribute('data-size') === 'invisible') {
      var badge = document.createElement('div');
      badge.className = 'grecaptcha-badge'; badge.setAttribute('data-style', 'bottomright');
      badge.style.cssText = 'width: 256px; height: 60px; display: block; transition: right 0.3s ease 0s; position: fixed; bottom: 14px; right: -186px; box-shadow: gray 0px 0px 5px; border-radius: 2px; overflow: hidden;';
      var holder = document.createElement('div'); holder.className = 'grecaptcha-logo';
      holder.appendChild(anchor(key, 'invisible')); badge.appendChild(holder); badge.appendChild(responseField());
      document.body.appendChild(badge);
      el.addEventListener('click', function (event) {
        event.preventDefault();  // the image challenge would open here; it cannot be solved
        var challenge = document.createElement('iframe');
        challenge.title = 'recaptcha challenge expires in two minutes';
        challenge.src = base + 'api2/anchor.html?challenge=1&k=' + encodeURIComponent(key);
        challenge.style.cssText = 'position:fixed;top:80px;left:50%;width:400px;height:580px;margin-left:-200px;background:#fff;z-index:2000000000;border:1px solid #ccc';
        document.body.appendChild(challenge);
      });
    } else {
      var box = document.createElement('div');
      box.style.cssText = 'width: 304px; height: 78px;';
      var inner = document.createElement('div');
      inner.appendChild(anchor(key, 'normal'));
      box.appendChild(inner); box.appendChild(responseField());
      el.appendChild(box);
      var form = el.closest('form');
      if (form) form.addEventListener('submit', function (event) {
        if (!form.querySelector('#g-recaptcha-response').value) {
          event.preventDefault();
          var note = form.querySelector('.recaptcha-error') || document.createElement('p');
          note.className = 'recaptcha-error'; note.style.color = '#c00'; note.textContent = 'Please verify that you are not a robot.';
          el.after(note);
        }
      });
    }
  });
})();
