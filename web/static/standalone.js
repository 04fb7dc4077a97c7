// The standalone setup page: <personio-integration> for a sample funnel.
// The JWT comes from the local stack's dev endpoint (POST _dev/token, only
// where `make run` serves this page); anywhere else (the hosted page) the
// person pastes one into a password field. Either way it lives in this
// closure only: never in the URL, in storage or in a log.
import './personio-integration.js';

// The language: ?lang=de|en (the switch in the header sets it), else the
// browser's.
const asked = new URLSearchParams(location.search).get('lang');
let lang = asked === 'de' || asked === 'en' ? asked : (/^de\b/i.test(navigator.language || '') ? 'de' : 'en');
const text = {
  en: { title: 'Personio integration', funnel: 'Sample funnel “Office Manager” (fn_office)', language: 'Language',
    tokenTitle: 'Sign in with an editor token', tokenHelp: 'This page has no sign-in of its own: paste a JWT the funnel editor issued for your workspace. It stays in this tab\'s memory only.',
    tokenLabel: 'Editor token (JWT)', funnelLabel: 'Funnel ID', submit: 'Open the setup' },
  de: { title: 'Personio-Integration', funnel: 'Beispiel-Funnel „Office Manager“ (fn_office)', language: 'Sprache',
    tokenTitle: 'Mit einem Editor-Token anmelden', tokenHelp: 'Diese Seite hat keine eigene Anmeldung: fügen Sie ein JWT ein, das der Funnel-Editor für Ihren Workspace ausgestellt hat. Es bleibt nur im Speicher dieses Tabs.',
    tokenLabel: 'Editor-Token (JWT)', funnelLabel: 'Funnel-ID', submit: 'Einrichtung öffnen' },
};

// The sample funnel of the README's walk-through, labelled in the language.
const fieldsIn = (de) => [
  { id: 'contact.full_name', label: de ? 'Vollständiger Name' : 'Full name', type: 'text' },
  { id: 'contact.email', label: 'E-Mail', type: 'email' },
  { id: 'contact.phone', label: de ? 'Telefon' : 'Phone', type: 'phone' },
  { id: 'q_gender', label: 'Geschlecht', type: 'choice', choices: ['Weiblich', 'Männlich', 'Divers'] },
  { id: 'q_motivation', label: 'Motivation', type: 'text' },
  { id: 'q_start', label: 'Start', type: 'date' },
  { id: 'q_cv', label: 'Lebenslauf', type: 'file' },
];

const $ = (id) => document.getElementById(id);
const el = document.querySelector('personio-integration');

// show puts the page in a language: its own texts, the component's, the
// address (so that a reload keeps it).
function show(next, first) {
  lang = next;
  const t = text[lang];
  document.documentElement.lang = lang;
  document.title = t.title + ' · Setup';
  for (const [id, k] of [['page-title', 'title'], ['page-funnel', 'funnel'], ['lang-label', 'language'], ['token-title', 'tokenTitle'], ['token-help', 'tokenHelp'],
    ['token-label', 'tokenLabel'], ['funnel-label', 'funnelLabel'], ['token-submit', 'submit']]) $(id).textContent = t[k];
  $('lang-switch').value = lang;
  el.setAttribute('lang', lang);
  if (first) el.fields = fieldsIn(lang === 'de');
  if (!first) {
    const u = new URL(location.href);
    u.searchParams.set('lang', lang);
    history.replaceState(null, '', u);
  }
}
show(lang, true);
$('lang-switch').addEventListener('change', (e) => show(e.target.value, false));

// ?plan=basic shows a workspace whose plan lacks the integration (local only).
const plan = new URLSearchParams(location.search).get('plan') || 'advanced';

async function devToken() {
  try {
    const r = await fetch('_dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ plan }), cache: 'no-store' });
    if (!r.ok) return null;
    const { token, expires_in: ttl } = await r.json();
    return { token, until: Date.now() + (ttl - 60) * 1000 };
  } catch {
    return null;
  }
}

let held = await devToken();
if (held) {
  el.getToken = async () => {
    if (Date.now() > held.until) held = (await devToken()) || held;
    return held.token;
  };
} else {
  // Hosted: ask for a token once, keep it in memory.
  const form = $('token-form');
  form.hidden = false;
  el.hidden = true;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('token-input');
    const token = input.value.trim();
    input.value = '';
    if (!token) return;
    el.setAttribute('funnel-id', $('funnel-input').value.trim() || 'fn_office');
    el.getToken = async () => token;
    form.hidden = true;
    el.hidden = false;
  });
}
