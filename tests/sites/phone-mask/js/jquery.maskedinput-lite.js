/* A masked input like jquery.maskedinput: it formats from the keys pressed into its own
   buffer, and on any input it did not produce itself (a pasted or scripted value) it
   writes its buffer back, so only typed digits survive. */
(function () {
  document.querySelectorAll('input[data-mask]').forEach(function (input) {
    var mask = input.getAttribute('data-mask');
    var digits = '';
    var ownWrite = false;
    function format() {
      if (!digits) return '';
      var out = '', i = 0;
      for (var n = 0; n < mask.length && i < digits.length; n++) out += mask[n] === '9' ? digits[i++] : mask[n];
      return out;
    }
    function write() { ownWrite = true; input.value = format(); ownWrite = false; }
    input.addEventListener('keydown', function (event) {
      if (event.key === 'Backspace') { digits = digits.slice(0, -1); write(); event.preventDefault(); }
      else if (/^\d$/.test(event.key)) { if (digits.length < 10) digits += event.key; write(); event.preventDefault(); }
      else if (event.key.length === 1) event.preventDefault();
    });
    input.addEventListener('input', function () { if (!ownWrite) write(); });
    input.addEventListener('focus', function () { if (!digits) input.placeholder = '(___) ___-____'; });
  });
})();
