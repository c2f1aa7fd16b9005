(() => {
  const input = document.getElementById('filter');
  const rows = Array.from(document.querySelectorAll('tr[data-filter]'));
  if (input) {
    input.closest('.filter').hidden = false;
    input.addEventListener('input', () => {
      const query = input.value.trim().toLowerCase();
      for (const row of rows) {
        row.hidden = query !== '' && !row.dataset.filter.includes(query);
        if (query !== '' && !row.hidden) { const d = row.closest('details'); if (d) d.open = true; }
      }
    });
  }
  const openTarget = () => {
    const target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === 'DETAILS') target.open = true;
  };
  addEventListener('hashchange', openTarget);
  openTarget();
  let opened = [];
  addEventListener('beforeprint', () => {
    opened = Array.from(document.querySelectorAll('details:not([open])'));
    for (const d of opened) d.open = true;
  });
  addEventListener('afterprint', () => {
    for (const d of opened) d.open = false;
    opened = [];
  });
})();
