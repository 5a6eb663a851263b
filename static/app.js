/* app.js: progressive enhancement only. Every page works without it. */
/* Copy buttons: <button class="copy" data-copy="INPUT-ID" hidden> next to a read-only input. */
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('button.copy[data-copy]').forEach(function (btn) {
    var input = document.getElementById(btn.getAttribute('data-copy'));
    if (!input || !navigator.clipboard) return;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      navigator.clipboard.writeText(input.value).then(function () {
        btn.textContent = 'Copied';
        setTimeout(function () { btn.textContent = 'Copy'; }, 2000);
      }, function () {
        input.select();
      });
    });
  });
});
/* The workspace switcher (<details>) closes on Escape and gives focus back to its button. */
document.addEventListener('keydown', function (e) {
  if (e.key !== 'Escape') return;
  document.querySelectorAll('details.switcher[open]').forEach(function (d) {
    d.open = false;
    var s = d.querySelector('summary');
    if (s) s.focus();
  });
});
