// The controls a person clicks to open a form that sits closed on the page: the summary
// of a closed <details>, an accordion's toggle, the tab of a tab panel not shown first.
// Returns their data-dc ids outermost first, or null when some closed box around the
// form has no control that opens it (a template, a form the site hides on purpose).
// A control handed out once is marked and never handed out again: clicking an
// accordion's toggle a second time would close it.
(formDc) => {
  const state = window.__dcState || (window.__dcState = { next: 1 });
  const tagOf = (el) => {
    let id = el.getAttribute('data-dc');
    if (!id) { id = 'e' + state.next++; el.setAttribute('data-dc', id); }
    return id;
  };
  const find = (root, selector) => {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = find(el.shadowRoot, selector); if (h) return h; }
    return null;
  };
  const form = find(document, `[data-dc="${formDc}"]`);
  if (!form) return null;
  const parentOf = (el) => el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
  const closed = (el) => {
    if (el.hidden) return true;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || cs.contentVisibility === 'hidden') return true;
    const r = el.getBoundingClientRect();
    // Old tab scripts park closed panels off-screen (left: -9999px).
    if (r.right + scrollX <= 0 || r.bottom + scrollY <= 0) return true;
    // A collapsed accordion panel: no height, its content clipped away.
    return r.height < 2 && (cs.overflow !== 'visible' || cs.maxHeight === '0px');
  };
  const CLICKABLE = 'button, a, summary, [role=button], [role=tab], [aria-expanded], [data-toggle], [data-bs-toggle], [tabindex]';
  const TOGGLE_CLASS = /toggle|accordion|collapse|expand|tab|trigger|title|header|heading|question/i;
  let underClosed = false;  // an opener inside a box still closed measures zero too
  // A control that would send a form is never pressed to open something.
  const sendsForm = (el) => (el.tagName === 'BUTTON' && el.type === 'submit' && !!el.form) ||
    (el.tagName === 'INPUT' && /^(submit|image)$/i.test(el.type));
  const opensIt = (el) => !el.hasAttribute('data-dc-opened') && !sendsForm(el) && (underClosed || !closed(el));
  const openerFor = (box) => {
    const root = box.getRootNode();
    if (box.id) {
      const id = CSS.escape(box.id);
      const named = root.querySelectorAll(
        `[aria-controls~="${id}"], a[href="#${id}"], [data-target="#${id}"], [data-bs-target="#${id}"], [data-tab-target="#${id}"]`);
      for (const el of named) if (opensIt(el)) return el;
    }
    const by = box.getAttribute('aria-labelledby');
    if (by) {
      for (const id of by.split(/\s+/)) {
        const el = root.getElementById ? root.getElementById(id) : document.getElementById(id);
        if (el && el.matches(CLICKABLE) && opensIt(el)) return el;
      }
    }
    // A panel right after its toggle, with no ids to tie them (Divi toggles, hand-made accordions).
    const before = box.previousElementSibling;
    if (before && (underClosed || !closed(before)) && !before.querySelector('input, select, textarea')) {
      const cls = typeof before.className === 'string' ? before.className : '';
      if (before.matches(CLICKABLE) || TOGGLE_CLASS.test(cls)) return opensIt(before) ? before : null;
      const inner = before.querySelector(CLICKABLE);
      if (inner && opensIt(inner)) return inner;
    }
    return null;
  };
  // Outermost first: inside a closed box everything measures zero, so below one only
  // a box's own style (display, hidden, a zero height) says it is closed too.
  const chain = [];
  for (let box = form; box && box !== document.body && box !== document.documentElement; box = parentOf(box)) chain.unshift(box);
  const closedByOwnStyle = (el) => {
    if (el.hidden) return true;
    const cs = getComputedStyle(el);
    return cs.display === 'none' || cs.maxHeight === '0px' || cs.height === '0px';
  };
  const openers = [];
  for (const box of chain) {
    if (box.tagName === 'DETAILS' && !box.open) {
      const summary = [...box.children].find((c) => c.tagName === 'SUMMARY');
      if (!summary || summary.contains(form) || summary.hasAttribute('data-dc-opened')) return null;
      openers.push(summary);
      underClosed = true;
      continue;
    }
    const isClosed = underClosed ? closedByOwnStyle(box) : closed(box);
    if (!isClosed) continue;
    if (box.tagName === 'DIALOG' || box.getAttribute('role') === 'dialog' || /\bmodal\b/.test(typeof box.className === 'string' ? box.className : '')) {
      return null;  // modals open from buttons that say so: the modal triggers handle those
    }
    const opener = openerFor(box);
    if (!opener) return null;
    openers.push(opener);
    underClosed = true;
  }
  if (!openers.length) return null;
  for (const el of openers) el.setAttribute('data-dc-opened', '1');
  return openers.map(tagOf);
}
