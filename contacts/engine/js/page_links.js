// Links and buttons on this page that may lead to a contact form: [{dc, href, text, button}].
() => {
  const state = window.__dcState || (window.__dcState = { next: 1 });
  const tagOf = (el) => {
    let id = el.getAttribute('data-dc');
    if (!id) { id = 'e' + state.next++; el.setAttribute('data-dc', id); }
    return id;
  };
  const out = [];
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('a, button, [role=button], [data-toggle=modal], [data-bs-toggle=modal]')) all.push(el);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); };
  walk(document);
  for (const el of all) {
    const text = (el.innerText || el.textContent || el.getAttribute('aria-label') || el.title || '').replace(/\s+/g, ' ').trim().slice(0, 80);
    const href = el.tagName === 'A' ? (el.href || '') : '';
    const rawHref = el.getAttribute('href') || '';
    const opensHere = !href || /^(#|javascript:)/i.test(rawHref) || el.hasAttribute('data-toggle') || el.hasAttribute('data-bs-toggle');
    // A button that would send a form is never pressed to "open" something.
    const sendsForm = (el.tagName === 'BUTTON' && el.type === 'submit' && !!el.form) || el.tagName === 'INPUT';
    const r = el.getBoundingClientRect();
    const shown = r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden';
    out.push({ dc: tagOf(el), href: opensHere ? '' : href, text, button: opensHere && !sendsForm, visible: shown,
      title: el.getAttribute('title') || '', aria: el.getAttribute('aria-label') || '' });
  }
  return out;
}
