// stackmine labeling page: keys 1–9 pick the primary kind, Shift+1–9 toggle
// root-cause codes, Enter saves and goes to the next post; every change is
// saved at once. Served as a file so
// that the Content-Security-Policy can forbid inline script.
//
// Saves run one after another (a later change never lands before an earlier
// one). A 503 (the store is busy, e.g. during an ingest) is retried by itself,
// after the server's Retry-After, for a bounded time. The status line shows
// only our own words and the server's JSON message, never a raw response.
(() => {
  const form = document.getElementById('label-form');
  if (!form) return;
  const status = document.getElementById('status');
  const MAX_BUSY_RETRIES = 20;
  let saves = 0;
  let chain = Promise.resolve();

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // The server's message from a JSON error body, or a generic one.
  async function message(r) {
    try {
      const j = await r.json();
      if (j && typeof j.error === 'string') return j.error;
    } catch (_) {
      // not JSON: say nothing of its content
    }
    return 'the server answered ' + r.status;
  }

  async function send() {
    const body = new URLSearchParams(new FormData(form));
    for (let attempt = 0; ; attempt += 1) {
      status.textContent = attempt === 0 ? 'saving…' : 'saving… (the store is busy, retrying)';
      let r;
      try {
        r = await fetch(form.action, {
          method: 'POST',
          body,
          headers: { Accept: 'application/json' },
        });
      } catch (_) {
        status.textContent = 'not saved: the server did not answer';
        throw new Error('save failed');
      }
      if (r.ok) break;
      if (r.status === 503 && attempt < MAX_BUSY_RETRIES) {
        const after = Number.parseInt(r.headers.get('Retry-After') || '', 10);
        const secs = Number.isFinite(after) ? Math.min(Math.max(after, 1), 30) : 2;
        await sleep(secs * 1000);
        continue;
      }
      status.textContent = 'not saved: ' + (await message(r));
      throw new Error('save failed');
    }
    saves += 1;
    status.textContent = 'saved';
    document.body.dataset.saves = String(saves);
  }

  function save() {
    const p = chain.then(send);
    chain = p.catch(() => {});
    return p;
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
    // Shift+1…9 toggle root-cause code n; event.code, since Shift changes
    // event.key ('!' for Shift+1 on a US layout, other signs elsewhere).
    const digit = /^(?:Digit|Numpad)([1-9])$/.exec(e.code || '');
    if (e.shiftKey && digit) {
      const box = form.querySelector(`input[name=root_causes][data-code="${digit[1]}"]`);
      if (box) {
        e.preventDefault();
        box.checked = !box.checked;
        if (hasPrimary()) {
          save().catch(() => {});
        } else {
          status.textContent = 'choose a primary kind to save the root causes';
        }
      }
      return;
    }
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
