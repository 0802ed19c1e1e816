// Clicks "Accept"/"Got it"/"Close" on cookie banners and closes chat or promo overlays,
// which otherwise sit on top of form fields and swallow clicks. Returns how many it closed.
() => {
  let closed = 0;
  const ACCEPT = /^(accept( all)?( cookies)?|allow( all)?( cookies)?|ok(ay)?|got it|i understand|agree|i agree|close|dismiss|no,? thanks|aceptar|entendido|cerrar|×|x|✕)$/i;
  const BANNER = /cookie|consent|gdpr|ccpa|privacy-banner|onetrust|cookiebot|cc-window|osano|truste|promo|popup|overlay|modal|newsletter-pop/i;
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden'; };
  for (const box of document.querySelectorAll('[id],[class],[role=dialog],[aria-modal=true]')) {
    const tag = (box.id || '') + ' ' + (typeof box.className === 'string' ? box.className : '');
    if (!BANNER.test(tag) || !visible(box)) continue;
    const text = (box.innerText || '').toLowerCase();
    if (box.querySelector('input:not([type=hidden]):not([type=checkbox]), textarea, select')) continue; // a form lives here
    if (!/cookie|privacy|consent|offer|chat|subscribe|special/.test(text + tag.toLowerCase())) continue;
    for (const b of box.querySelectorAll('button, a, [role=button], input[type=button]')) {
      const label = (b.innerText || b.value || b.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
      if (ACCEPT.test(label) && visible(b)) { b.click(); closed++; break; }
    }
  }
  return closed;
}
