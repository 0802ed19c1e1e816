// A web component whose form lives in an open shadow root, as several dealer
// platforms' "lead widgets" ship it: document.querySelector cannot see the inputs.
const template = document.createElement('template');
template.innerHTML = `
  <style>
    :host { display: block; border: 1px solid #ccd; padding: 18px; border-radius: 6px }
    .field { margin-bottom: 12px } label { display: block; font-size: 13px; font-weight: 600 }
    input, textarea { width: 100%; padding: 8px; box-sizing: border-box }
    button { background: #003478; color: #fff; border: 0; padding: 10px 24px }
    .thanks { font-size: 18px; color: #1a5e20 }
  </style>
  <form part="form" novalidate>
    <input type="hidden" name="dealerCode">
    <div class="field"><label for="fullName">Full Name*</label><input id="fullName" name="fullName" autocomplete="name" required></div>
    <div class="field"><label for="emailAddress">Email*</label><input id="emailAddress" name="emailAddress" type="email" required></div>
    <div class="field"><label for="phoneNumber">Phone*</label><input id="phoneNumber" name="phoneNumber" type="tel" required></div>
    <div class="field"><label for="question">Your Question</label><textarea id="question" name="question" rows="4"></textarea></div>
    <button type="submit">Get My Answer</button>
    <p class="error" role="alert" hidden></p>
  </form>`;

class DealerLeadForm extends HTMLElement {
  connectedCallback() {
    const root = this.attachShadow({ mode: 'open' });
    root.appendChild(template.content.cloneNode(true));
    const form = root.querySelector('form');
    form.elements.dealerCode.value = this.getAttribute('dealer-code');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const missing = [...form.querySelectorAll('[required]')].filter((el) => !el.value.trim());
      const error = root.querySelector('.error');
      if (missing.length) {
        error.textContent = 'Please fill in all required fields.';
        error.hidden = false;
        return;
      }
      const response = await fetch('/{{SITE}}/leads/widget', { method: 'POST', body: new URLSearchParams(new FormData(form)) });
      const data = await response.json();
      const thanks = document.createElement('p');
      thanks.className = 'thanks';
      thanks.setAttribute('role', 'status');
      thanks.textContent = data.confirmation;
      form.replaceWith(thanks);
    });
  }
}
customElements.define('dealer-lead-form', DealerLeadForm);
