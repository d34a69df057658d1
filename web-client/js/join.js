// join.js — the landing page: takes a join code and opens the viewer page /s/<code>.
import { initI18n, t } from './i18n.js';
import { $, icon } from './ui.js';

const CODE_ALPHABET = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;

initI18n();
$('#brand-mark').append(icon('mic'));
$('#join-emblem').append(icon('mic'));

const input = $('#code');
const error = $('#join-error');
input.addEventListener('input', () => {
  const cleaned = input.value.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 6);
  if (cleaned !== input.value) input.value = cleaned;
  error.textContent = '';
});
$('#join-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const code = input.value.trim().toUpperCase();
  if (!CODE_ALPHABET.test(code)) {
    error.textContent = t('join.invalid_code');
    input.focus();
    return;
  }
  location.href = `/s/${encodeURIComponent(code)}`;
});
input.focus();
