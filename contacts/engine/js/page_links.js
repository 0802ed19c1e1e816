// Links, buttons and tabs on this page that may lead to a contact form:
// [{dc, href, text, button, tab, visible, title, aria}].
() => {
  const state = window.__dcState || (window.__dcState = { next: 1 });
  const tagOf = (el) => {
    let id = el.getAttribute('data-dc');
    if (!id) { id = 'e' + state.next++; el.setAttribute('data-dc', id); }
    return id;
  };
  const out = [];
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('a, button, [role=button], [role=tab], [data-toggle=modal], [data-bs-toggle=modal]')) all.push(el);
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); };
  walk(document);
  const names = new Map(all.map((el) => [el,
    (el.innerText || el.textContent || el.getAttribute('aria-label') || el.title || '').replace(/\s+/g, ' ').trim().slice(0, 80)]));
  const nameOf = (el) => names.get(el);
  const sameName = new Map();
  for (const name of names.values()) sameName.set(name, (sameName.get(name) || 0) + 1);
  for (const el of all) {
    if (el.getAttribute('role') === 'tab' && el.querySelector('a, button')) continue;  // its link or button stands for it
    const text = nameOf(el);
    const href = el.tagName === 'A' ? (el.href || '') : '';
    const rawHref = el.getAttribute('href') || '';
    // A tab not shown (role=tab on the control or on the list item around its link, as
    // jQuery UI marks them; Bootstrap's data-toggle=tab): clicked in place, even where its
    // link names the page the panel's content is fetched from.
    const tabEl = el.getAttribute('role') === 'tab' ? el
      : (el.parentElement && el.parentElement.getAttribute('role') === 'tab') ? el.parentElement
      : /^(tab|pill)$/i.test(el.getAttribute('data-toggle') || el.getAttribute('data-bs-toggle') || '') ? el : null;
    const tab = !!tabEl && tabEl.getAttribute('aria-selected') !== 'true' && !/\b(active|selected)\b/.test(String(tabEl.className));
    const opensHere = !href || tab || /^(#|javascript:)/i.test(rawHref) || el.hasAttribute('data-toggle') || el.hasAttribute('data-bs-toggle');
    // A button that would send a form is never pressed to "open" something.
    const sendsForm = (el.tagName === 'BUTTON' && el.type === 'submit' && !!el.form) || el.tagName === 'INPUT';
    const r = el.getBoundingClientRect();
    const shown = r.width > 1 && r.height > 1 && getComputedStyle(el).visibility !== 'hidden';
    // A button repeated on the page ("Request Info" on every car of a listing) stands in
    // its card: the largest box around it holding no other of its name, which names its car.
    let card = '';
    if (opensHere && !sendsForm && (sameName.get(text) || 0) > 1) {
      for (let box = el.parentElement, i = 0; box && i < 8; box = box.parentElement, i++) {
        if ([...box.querySelectorAll('a, button, [role=button]')].some((o) => o !== el && names.has(o) && nameOf(o) === text)) break;
        card = (box.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 300);
      }
    }
    out.push({ dc: tagOf(el), href: opensHere ? '' : href, text, button: opensHere && !sendsForm, tab, visible: shown,
      title: el.getAttribute('title') || '', aria: el.getAttribute('aria-label') || '', card });
  }
  return out;
}
