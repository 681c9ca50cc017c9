// The list's "select all" box ticks or clears every row box of the page (bulk status form).
(function () {
  const all = document.getElementById('select-all');
  if (!all) return;
  all.addEventListener('change', () => {
    document.querySelectorAll('input.row-select').forEach(box => { box.checked = all.checked; });
  });
})();
