// Describes this document's candidate forms, their fields and buttons, and any CAPTCHA
// markup, as plain data, walking into open shadow roots. Elements get a data-dc attribute
// so the engine can find them again with a CSS locator (which pierces open shadow DOM).
() => {
  const state = window.__dcState || (window.__dcState = { next: 1 });
  const tagOf = (el) => {
    let id = el.getAttribute('data-dc');
    if (!id) { id = 'e' + state.next++; el.setAttribute('data-dc', id); }
    return id;
  };
  const squash = (s, n = 200) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n);
  const parentOf = (el) => el.parentElement || (el.getRootNode && el.getRootNode().host) || null;
  const contains = (outer, el) => { for (let a = el; a; a = parentOf(a)) if (a === outer) return true; return false; };

  const all = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); }
  };
  walk(document);

  const docWidth = Math.max(document.documentElement.scrollWidth, innerWidth);
  // ariaHides: whether aria-hidden counts as hidden. It does for fields (honeypots wear it),
  // not for a styled box's label that a sighted person plainly sees (Forminator's consent).
  const visible = (el, ariaHides = true) => {
    if (el.checkVisibility && !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) return false;
    const x = r.left + scrollX, y = r.top + scrollY;
    if (x + r.width <= 0 || y + r.height <= 0 || x >= docWidth) return false;
    const own = getComputedStyle(el);
    if (/inset\((4\d|50|100)%|circle\(0/.test(own.clipPath) || /rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)/.test(own.clip)) return false;
    for (let a = el; a && a !== document.body; a = parentOf(a)) {
      if (ariaHides && a.getAttribute && a.getAttribute('aria-hidden') === 'true') return false;
      if (a === el) continue;
      const cs = getComputedStyle(a);
      if (cs.overflow !== 'visible' || cs.clipPath !== 'none' || cs.clip !== 'auto') {
        const ar = a.getBoundingClientRect();
        if (ar.width < 2 || ar.height < 2) return false;
      }
    }
    return true;
  };

  // Text of a node without the text of controls inside it (a wrapping label's options).
  const ownText = (node, skip) => {
    let out = '';
    const visit = (n) => {
      if (n === skip) return;
      if (n.nodeType === 3) { out += n.textContent + ' '; return; }
      if (n.nodeType !== 1) return;
      if (/^(SELECT|OPTION|TEXTAREA|SCRIPT|STYLE|INPUT|BUTTON|NOSCRIPT)$/.test(n.tagName)) return;
      for (const c of n.childNodes) visit(c);
    };
    visit(node);
    return squash(out);
  };
  const byId = (el, id) => (el.getRootNode().getElementById ? el.getRootNode().getElementById(id) : null) || document.getElementById(id);

  const labelOf = (el) => {
    const parts = [];
    if (el.labels) for (const l of el.labels) parts.push(ownText(l, el));
    const lb = el.getAttribute('aria-labelledby');
    // An option's aria-labelledby often adds its group's question (Ninja Forms lists): an
    // id every option of the group points to names the group, not this option.
    const sharedByGroup = (id) => /^(radio|checkbox)$/.test(el.type) && !!el.name &&
      [...el.getRootNode().querySelectorAll(`input[name="${CSS.escape(el.name)}"]`)]
        .some((o) => o !== el && (o.getAttribute('aria-labelledby') || '').split(/\s+/).includes(id));
    // aria-labelledby often repeats the <label> (Jotform): each text once.
    if (lb) for (const id of lb.split(/\s+/)) {
      const t = byId(el, id);
      if (t && !sharedByGroup(id) && !parts.includes(ownText(t))) parts.push(ownText(t));
    }
    return squash(parts.join(' '));
  };
  const isControl = (n) => n.nodeType === 1 && /^(INPUT|SELECT|TEXTAREA)$/.test(n.tagName);
  // Text just before the control (a <div>Name</div><input> layout), at most a few levels up.
  const nearbyOf = (el) => {
    let node = el;
    for (let depth = 0; depth < 3 && node; depth++) {
      for (let s = node.previousElementSibling, n = 0; s && n < 2; s = s.previousElementSibling, n++) {
        if (isControl(s) || s.querySelector('input,select,textarea')) return '';
        const t = ownText(s);
        if (t) return t.slice(0, 120);
      }
      node = parentOf(node);
      if (node && node.querySelectorAll('input,select,textarea').length > 1) break;
    }
    return '';
  };
  // Controls in `box` other than those of el's own group (same name, or el itself).
  const othersIn = (box, el) => [...box.querySelectorAll('input,select,textarea')]
    .filter((c) => c !== el && !(el.name && c.name === el.name) && !(c.tagName === 'INPUT' && SKIP_TYPES.test(c.type))).length;
  const groupLabelOf = (el) => {
    // Form builders (Formidable, Gravity Forms) wrap the whole form in a fieldset whose
    // legend names the form: a legend names the group only if its fieldset holds just it.
    const fs = el.closest('fieldset');
    if (fs && !othersIn(fs, el)) { const lg = fs.querySelector('legend'); if (lg) return ownText(lg); }
    const grp = el.closest('[role=radiogroup],[role=group]');
    if (grp) {
      const lb = grp.getAttribute('aria-labelledby');
      if (lb) { const t = byId(grp, lb.split(/\s+/)[0]); if (t) return ownText(t); }
      if (grp.getAttribute('aria-label')) return squash(grp.getAttribute('aria-label'));
    }
    // The smallest ancestor holding the whole group: its text outside the option labels.
    const name = el.name;
    const members = name ? (el.form || el.getRootNode()).querySelectorAll(`input[name="${CSS.escape(name)}"]`).length : 1;
    let box = parentOf(el);
    for (let i = 0; box && i < 5; i++, box = parentOf(box)) {
      const same = name ? box.querySelectorAll(`input[name="${CSS.escape(name)}"]`).length : 1;
      const others = box.querySelectorAll('input,select,textarea').length;
      if (others > same) break;
      // <label><input type=radio> Call me</label> names one option, not the group's question.
      if (box.tagName === 'LABEL' && same < members) continue;
      // A label-like element that is not one of the group's own option labels.
      const optionLabel = (n) => !!n.querySelector('input,select,textarea') || (n.htmlFor && (byId(n, n.htmlFor) || {}).name === name);
      const labelish = [...box.querySelectorAll('.gfield_label, legend, .label, .form-label, label:not([for])')]
        .find((n) => !optionLabel(n) && ownText(n));
      if (labelish) return ownText(labelish);
      // Bare text beside the options: <p>Do you have a trade-in?<br><span>…buttons…</span></p>.
      const loose = squash([...box.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join(' '));
      if (loose) return loose.slice(0, 120);
      // A plain element heading the options inside the box:
      // <div><span>How should we reach you? *</span><label><input type=radio> Call</label>…</div>.
      for (const child of box.children) {
        if (child.matches('input,select,textarea') || child.querySelector('input,select,textarea')) break;
        if (optionLabel(child) || /^(SCRIPT|STYLE|TEMPLATE)$/.test(child.tagName)) continue;
        const heading = ownText(child);
        if (heading) return heading.slice(0, 120);
      }
      const prev = box.previousElementSibling;
      if (prev && !prev.querySelector('input,select,textarea')) { const pt = ownText(prev); if (pt) return pt.slice(0, 120); }
    }
    return '';
  };
  const requiredOf = (el, texts) => {
    if (el.required || el.getAttribute('aria-required') === 'true') return true;
    if (/\brequired\b/i.test(el.className || '')) return true;
    if (/\*|\(required\)|\brequired\b|obligatorio|requerido/i.test(texts)) return true;
    // Contact Form 7 acceptance boxes are required unless marked optional.
    if (el.closest('.wpcf7-acceptance:not(.optional)')) return true;
    const box = el.closest('.gfield_contains_required,.required,.is-required,.field-required,.frm_required_field,' +
      '[role=radiogroup][aria-required=true],[role=group][aria-required=true]');
    return !!box && box !== el.form;
  };
  const SKIP_TYPES = /^(hidden|submit|button|image|reset|file)$/;
  const controls = all.filter((el) => isControl(el) && !(el.tagName === 'INPUT' && SKIP_TYPES.test(el.type)));

  const BUTTON_TEXT = /submit|send|contact|request|get|continue|next|go|enviar|siguiente|solicitar|confirm|finish|done|subscribe|sign|search|apply|schedule|book/i;
  const isButtonLike = (el) => {
    if (el.tagName === 'BUTTON') return true;
    if (el.tagName === 'INPUT' && /^(submit|button|image)$/.test(el.type)) return true;
    if (el.getAttribute('role') === 'button') return true;
    // A script link that says what it does: <a href="#" onclick="send()">Send</a>.
    if (el.tagName === 'A' && /^\s*(#|javascript:)/i.test(el.getAttribute('href') || '#') &&
        /^\s*(submit|send|enviar|get (my|your) (quote|e-?price))/i.test(el.textContent || '')) return true;
    if ((el.tagName === 'A' || el.tagName === 'DIV' || el.tagName === 'SPAN') &&
        /submit|btn|button/i.test((el.className || '') + '') && BUTTON_TEXT.test(el.textContent || '')
        && !el.querySelector('input,select,textarea,button')) return true;
    return false;
  };
  const buttonText = (el) => squash(el.tagName === 'INPUT' ? (el.value || el.getAttribute('aria-label') || el.alt || '') :
      (el.innerText || el.textContent || el.getAttribute('aria-label') || el.title || ''), 80);

  // Group controls by their form, or by the nearest ancestor with a button for form-less UIs.
  const containers = new Map();
  for (const el of controls) {
    let box = el.form || el.closest('form');
    if (!box) {
      for (let a = parentOf(el); a && a !== document.documentElement; a = parentOf(a)) {
        if ([...a.querySelectorAll('*')].some((b) => isButtonLike(b) && b !== el)) { box = a; break; }
        if (a.shadowRoot && [...a.shadowRoot.querySelectorAll('*')].some(isButtonLike)) { box = a; break; }
      }
    }
    if (!box) continue;
    if (!containers.has(box)) containers.set(box, []);
    containers.get(box).push(el);
  }

  // A select's options. Choices.js (WPForms' modern dropdowns, Fluent Forms' smart
  // selects) keeps only the chosen option in the hidden select: the rest are its own items.
  const optionsOf = (el) => {
    const options = [...el.options].map((o) => ({ value: o.value, text: squash(o.textContent, 100), disabled: o.disabled, selected: o.selected }));
    const widget = el.closest('.choices');
    if (widget) {
      for (const item of widget.querySelectorAll('.choices__list--dropdown .choices__item--choice[data-value]')) {
        const value = item.getAttribute('data-value');
        if (options.some((o) => o.value === value)) continue;
        options.push({ value, text: squash(item.textContent, 100), selected: false,
          disabled: item.hasAttribute('data-choice-disabled') || item.classList.contains('is-disabled') });
      }
    }
    return options.slice(0, 300);
  };
  const describeField = (el) => {
    const label = labelOf(el);
    const type = el.tagName === 'INPUT' ? (el.type || 'text').toLowerCase() : el.tagName.toLowerCase();
    const isChoice = type === 'checkbox' || type === 'radio';
    let vis = visible(el);
    let viaLabel = false;
    if (!vis && isChoice && el.labels && [...el.labels].some((l) => visible(l, false))) { vis = true; viaLabel = true; }
    let viaWidget = false;
    if (!vis && type === 'select') {
      const next = el.nextElementSibling;
      if (next && /select2|chosen|selectize|choices|nice-select|bootstrap-select|dropdown/i.test(next.className || '') && visible(next)) { vis = true; viaWidget = true; }
    }
    const nearby = label ? '' : nearbyOf(el);
    const groupLabel = isChoice ? groupLabelOf(el) : '';
    const texts = [label, nearby, groupLabel, el.placeholder || ''].join(' ');
    return {
      dc: tagOf(el), tag: el.tagName.toLowerCase(), type,
      name: el.getAttribute('name') || '', id: el.id || '',
      autocomplete: (el.getAttribute('autocomplete') || '').toLowerCase(),
      label, nearby, group_label: groupLabel,
      placeholder: el.getAttribute('placeholder') || '',
      aria_label: el.getAttribute('aria-label') || '', title: el.getAttribute('title') || '',
      classes: (typeof el.className === 'string' ? el.className : '').slice(0, 200),
      required: requiredOf(el, texts), visible: vis, via_label: viaLabel, via_widget: viaWidget,
      in_choices: type === 'select' && !!el.closest('.choices'),
      disabled: !!el.disabled, readonly: !!el.readOnly, tabindex: el.getAttribute('tabindex') || '',
      value: type === 'select' ? '' : (el.value || '').slice(0, 200), checked: !!el.checked,
      maxlength: el.maxLength > 0 ? el.maxLength : 0, pattern: el.getAttribute('pattern') || '',
      inputmode: el.getAttribute('inputmode') || '',
      options: type === 'select' ? optionsOf(el) : [],
      multiple: !!el.multiple,
    };
  };

  const headingFor = (box) => {
    const own = box.querySelector('h1,h2,h3,h4,h5,legend,.gform_title,[class*=title]');
    if (own && ownText(own)) return ownText(own).slice(0, 120);
    for (let node = box, depth = 0; node && depth < 4; node = parentOf(node), depth++) {
      for (let s = node.previousElementSibling, n = 0; s && n < 3; s = s.previousElementSibling, n++) {
        const h = /^H[1-5]$/.test(s.tagName) ? s : s.querySelector('h1,h2,h3,h4,h5');
        if (h && ownText(h)) return ownText(h).slice(0, 120);
      }
    }
    const dlg = box.closest('[role=dialog],dialog,.modal');
    if (dlg) { const t = dlg.getAttribute('aria-label') || ''; if (t) return squash(t); }
    return '';
  };

  const forms = [];
  for (const [box, els] of containers) {
    const buttons = [];
    const seen = new Set();
    const addButton = (b) => {
      if (seen.has(b) || !isButtonLike(b)) return;
      seen.add(b);
      buttons.push({ dc: tagOf(b), tag: b.tagName.toLowerCase(), type: (b.getAttribute('type') || (b.tagName === 'BUTTON' ? 'submit' : '')).toLowerCase(),
        text: buttonText(b), classes: (typeof b.className === 'string' ? b.className : '').slice(0, 200), visible: visible(b), disabled: !!b.disabled });
    };
    const inner = [];
    const walkBox = (root) => { for (const n of root.querySelectorAll('*')) { inner.push(n); if (n.shadowRoot) walkBox(n.shadowRoot); } };
    walkBox(box.shadowRoot || box);
    if (box.shadowRoot) walkBox(box);
    inner.forEach(addButton);
    if (box.id && box.tagName === 'FORM') for (const b of all) if (b.getAttribute('form') === box.id) addButton(b);
    const widgets = [];
    for (const n of inner) {
      const c = (typeof n.className === 'string' ? n.className : '') + ' ' + (n.id || '');
      if (/\bg-recaptcha\b|grecaptcha/i.test(c)) widgets.push('reCAPTCHA');
      else if (/\bh-captcha\b/i.test(c)) widgets.push('hCaptcha');
      else if (/\bcf-turnstile\b/i.test(c)) widgets.push('Turnstile');
      else if (n.hasAttribute('data-sitekey') || /captcha|frc-|altcha|geetest|funcaptcha|arkose/i.test(c)) widgets.push('CAPTCHA');
      else if (n.tagName === 'IFRAME' && /recaptcha|hcaptcha|challenges\.cloudflare|turnstile/i.test(n.src || '')) widgets.push('CAPTCHA');
      else if (n.tagName === 'IMG' && /captcha/i.test([n.src, n.alt, n.id, n.className].join(' ')) && visible(n)) widgets.push('image CAPTCHA');
    }
    const text = squash(box.innerText || box.textContent || '', 800);
    forms.push({
      dc: tagOf(box), tag: box.tagName.toLowerCase(), id: box.id || '',
      name: box.getAttribute('name') || '', classes: (typeof box.className === 'string' ? box.className : '').slice(0, 200),
      action: box.getAttribute('action') || '', method: (box.getAttribute('method') || '').toLowerCase(),
      heading: headingFor(box), text, visible: visible(box) || els.some(visible),
      fields: els.map(describeField), buttons, captcha_widgets: [...new Set(widgets)],
    });
  }

  // CAPTCHA markup anywhere in the document, and challenge interstitials.
  const scripts = [...document.scripts].map((s) => s.src).filter((s) => /recaptcha|hcaptcha|turnstile|challenges\.cloudflare|captcha/i.test(s));
  // Each widget with the form it sits in ("" when in none): a widget outside every form
  // may guard any of them, one inside another form explains the script but guards only that.
  const widgets = [];
  for (const n of all) {
    const c = (typeof n.className === 'string' ? n.className : '') + ' ' + (n.id || '');
    const isWidget = /captcha|cf-turnstile|frc-|altcha|geetest|funcaptcha|arkose/i.test(c) || n.hasAttribute('data-sitekey') ||
      (n.tagName === 'IFRAME' && /recaptcha|hcaptcha|challenges\.cloudflare|turnstile/i.test(n.src || ''));
    if (!isWidget) continue;
    let owner = '';
    for (const box of containers.keys()) if (contains(box, n)) { owner = tagOf(box); break; }
    widgets.push({ dc: tagOf(n), form: owner });
  }
  const bodyText = squash(document.body ? document.body.innerText : '', 3000);
  return {
    url: location.href, title: document.title || '', body_text: bodyText,
    captcha_scripts: scripts, captcha_widgets: widgets,
    captcha_globals: ['grecaptcha', 'hcaptcha', 'turnstile'].filter((g) => typeof window[g] !== 'undefined'),
    challenge_markup: !!document.querySelector('#challenge-form, #cf-challenge-running, .cf-browser-verification, #challenge-running, [id^=cf-chl], #px-captcha, .px-captcha'),
    forms,
  };
}
