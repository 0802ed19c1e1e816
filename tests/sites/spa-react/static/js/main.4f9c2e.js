/* A single-page app built like a React one: the home view has no form; "Contact" is a
   client-side route that fetches its form definition and renders controlled inputs.
   The component state changes only on input events, every render writes the state back
   into the DOM, and the submission is built from the state, not from the DOM. */
(function () {
  var root = document.getElementById('root');
  var state = { route: location.hash === '#/contact' ? 'contact' : 'home', config: null, values: {}, errors: {}, status: 'idle', message: '' };
  function setState(patch) { Object.assign(state, patch); render(); }
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2).toLowerCase(), attrs[k]);
      else if (attrs[k] === null) return;
      else if (k === 'className') el.className = attrs[k];
      else el.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return el;
  }
  function header() {
    return h('header', { className: 'app-header' }, [
      h('strong', {}, ['Metro Kia']),
      h('button', { type: 'button', onClick: function () { history.pushState({}, '', '#/inventory'); setState({ route: 'home' }); } }, ['Inventory']),
      h('button', { type: 'button', 'data-testid': 'nav-contact', onClick: openContact }, ['Contact'])
    ]);
  }
  function openContact() {
    history.pushState({}, '', '#/contact');
    setState({ route: 'contact' });
  }
  function loadConfig() {
    fetch('/{{SITE}}/api/form-config.json').then(function (r) { return r.json(); }).then(function (config) {
      setTimeout(function () { setState({ config: config }); }, 300);
    });
  }
  function field(f) {
    var id = 'mui-' + f.name;
    var props = { id: id, name: f.name, className: 'MuiInputBase-input', 'aria-invalid': state.errors[f.name] ? 'true' : 'false',
      onInput: function (e) { var values = Object.assign({}, state.values); values[f.name] = e.target.value; state.values = values; } };
    if (f.autoComplete) props.autocomplete = f.autoComplete;
    if (f.type !== 'textarea') props.type = f.type;
    if (f.required) props['aria-required'] = 'true';
    var input = h(f.type === 'textarea' ? 'textarea' : 'input', props);
    input.value = state.values[f.name] || '';
    return h('div', { className: 'MuiFormControl-root MuiTextField-root' }, [
      h('label', { className: 'MuiInputLabel-root', for: id }, [f.label + (f.required ? ' *' : '')]),
      input,
      state.errors[f.name] ? h('p', { className: 'error MuiFormHelperText-root Mui-error' }, [state.errors[f.name]]) : h('span')
    ]);
  }
  function submit(event) {
    event.preventDefault();
    var errors = {};
    state.config.fields.forEach(function (f) { if (f.required && !(state.values[f.name] || '').trim()) errors[f.name] = f.label + ' is required'; });
    if (Object.keys(errors).length) { setState({ errors: errors }); return; }
    setState({ errors: {}, status: 'sending' });
    fetch('/{{SITE}}/api/leads', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ formId: state.config.formId, lead: state.values }) })
      .then(function (r) { return r.json(); })
      .then(function (data) { setState({ status: 'sent', message: data.message }); });
  }
  function contactView() {
    if (!state.config) { loadConfigOnce(); return h('p', { className: 'spinner', role: 'progressbar' }, ['Loading…']); }
    if (state.status === 'sent') return h('div', { className: 'success-panel', role: 'status' }, [h('h2', {}, ['Message sent']), h('p', {}, [state.message])]);
    return h('form', { className: 'contact-form', noValidate: '', onSubmit: submit }, [h('h1', {}, ['Contact us'])].concat(
      state.config.fields.map(field),
      [h('button', { type: 'submit', className: 'MuiButton-root MuiButton-contained', disabled: state.status === 'sending' ? 'disabled' : null }, [state.status === 'sending' ? 'Sending…' : 'Send message'])]
    ));
  }
  var configRequested = false;
  function loadConfigOnce() { if (!configRequested) { configRequested = true; loadConfig(); } }
  function homeView() {
    return h('div', {}, [h('h1', {}, ['Welcome to Metro Kia']), h('p', {}, ['New 2025 Kia Sportage, Telluride and EV9 in stock.']),
      h('a', { href: '#/contact', onClick: function (e) { e.preventDefault(); openContact(); } }, ['Contact our sales team'])]);
  }
  function render() {
    var focused = document.activeElement && document.activeElement.id;
    root.innerHTML = '';
    root.appendChild(header());
    root.appendChild(h('main', { className: 'page' }, [state.route === 'contact' ? contactView() : homeView()]));
    var again = focused && document.getElementById(focused);
    if (again) again.focus();
  }
  window.addEventListener('popstate', function () { setState({ route: location.hash === '#/contact' ? 'contact' : 'home' }); });
  render();
})();
