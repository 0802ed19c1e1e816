/* A texting widget of the kind dealer SMS platforms inject: it opens by itself a moment
   after load with its own small form; "Send" starts a text conversation. */
(function () {
  var root = document.createElement('div');
  root.id = 'msgw-root';
  root.innerHTML =
    '<div class="msgw-panel msgw-panel--open" role="dialog" aria-label="Text with a team member">' +
    '<div class="msgw-header"><h4 class="msgw-heading">Text with a team member</h4><button type="button" class="msgw-close" aria-label="Close">&times;</button></div>' +
    '<form class="msgw-form" autocomplete="on">' +
    '<p class="msgw-intro">Enter your info and a Pine Hills Ford team member will text you right back.</p>' +
    '<label class="msgw-label" for="msgw-name">Name</label><input id="msgw-name" name="name" required>' +
    '<label class="msgw-label" for="msgw-phone">Mobile Phone</label><input id="msgw-phone" name="mobile" type="tel" required>' +
    '<label class="msgw-label" for="msgw-message">Message</label><textarea id="msgw-message" name="message" rows="3" required></textarea>' +
    '<p class="msgw-legal">By submitting, you agree to receive text messages at the number provided. Msg &amp; data rates may apply. Reply STOP to opt out.</p>' +
    '<button type="submit" class="msgw-send">Send</button></form></div>';
  document.body.appendChild(root);
  root.querySelector('.msgw-close').addEventListener('click', function () { root.style.display = 'none'; });
  root.querySelector('form').addEventListener('submit', function (e) {
    e.preventDefault();
    fetch('api/sms/conversations', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: root.querySelector('#msgw-name').value, phone: root.querySelector('#msgw-phone').value,
        body: root.querySelector('#msgw-message').value }) })
      .then(function () { root.querySelector('form').innerHTML = '<p>Thanks! We just sent you a text.</p>'; });
  });
})();
