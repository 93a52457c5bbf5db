'use strict';
(function () {
  var root = document.documentElement, key = 'sigmacc-theme';
  try { var t = localStorage.getItem(key); if (t) root.setAttribute('data-theme', t); } catch (e) {}
  document.addEventListener('DOMContentLoaded', function () {
    var b = document.getElementById('theme');
    if (b) b.addEventListener('click', function () {
      var dark = root.getAttribute('data-theme') === 'dark' ||
        (!root.getAttribute('data-theme') && matchMedia('(prefers-color-scheme: dark)').matches);
      root.setAttribute('data-theme', dark ? 'light' : 'dark');
      try { localStorage.setItem(key, root.getAttribute('data-theme')); } catch (e) {}
    });
    document.querySelectorAll('button.copy').forEach(function (btn) {
      btn.addEventListener('click', function () {
        var code = document.getElementById(btn.getAttribute('data-for'));
        var text = code.textContent, done = function () { btn.textContent = 'Copied'; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {});
        } else {
          var r = document.createRange(); r.selectNodeContents(code);
          var s = getSelection(); s.removeAllRanges(); s.addRange(r);
          try { if (document.execCommand('copy')) done(); } catch (e) {}
        }
      });
    });
    var q = document.getElementById('q'), out = document.getElementById('results');
    if (!q || !out || !window.SG_INDEX) return;
    var search = function () {
      var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
      out.textContent = '';
      if (!terms.length) return;
      var shown = 0;
      for (var i = 0; i < SG_INDEX.length && shown < 50; i++) {
        var r = SG_INDEX[i];
        var hay = [r.t, r.i, r.l].concat(r.g, r.f).join(' ').toLowerCase();
        if (!terms.every(function (t) { return hay.indexOf(t) >= 0; })) continue;
        var li = document.createElement('li'), a = document.createElement('a');
        a.href = r.u; a.textContent = r.t || r.u; li.appendChild(a);
        out.appendChild(li); shown++;
      }
      if (!shown) { var none = document.createElement('li'); none.textContent = 'No rule matches.';
        out.appendChild(none); }
    };
    q.addEventListener('input', search);
    var m = /[?&]q=([^&]*)/.exec(location.search);
    if (m) { q.value = decodeURIComponent(m[1].replace(/\+/g, ' ')); search(); }
  });
})();
