// stackmine labeling page: keys 1–9 pick the primary kind, Enter saves and
// goes to the next post; every change is saved at once. Served as a file so
// that the Content-Security-Policy can forbid inline script.
(() => {
  const form = document.getElementById('label-form');
  if (!form) return;
  const status = document.getElementById('status');
  let saves = 0;

  async function save() {
    const body = new URLSearchParams(new FormData(form));
    status.textContent = 'saving…';
    const r = await fetch(form.action, {
      method: 'POST',
      body,
      headers: { Accept: 'application/json' },
    });
    if (!r.ok) {
      status.textContent = 'not saved: ' + (await r.text());
      throw new Error('save failed');
    }
    saves += 1;
    status.textContent = 'saved';
    document.body.dataset.saves = String(saves);
  }

  const hasPrimary = () => form.querySelector('input[name=primary]:checked') !== null;

  form.addEventListener('change', () => {
    if (hasPrimary()) save().catch(() => {});
  });

  document.addEventListener('keydown', async (e) => {
    const t = e.target;
    const typing = t && (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' ||
      (t.tagName === 'INPUT' && t.type === 'text'));
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[1-9]$/.test(e.key)) {
      const radio = form.querySelector(`input[name=primary][data-key="${e.key}"]`);
      if (radio) {
        e.preventDefault();
        radio.checked = true;
        save().catch(() => {});
      }
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (!hasPrimary()) {
        status.textContent = 'choose a primary kind first';
        return;
      }
      try {
        await save();
      } catch (_) {
        return;
      }
      const next = document.getElementById('next');
      location.href = next ? next.dataset.next : '/';
    }
  });
})();
