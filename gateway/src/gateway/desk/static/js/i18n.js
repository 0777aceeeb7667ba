// Russian and Kazakh for everything the desk says (issue 11). Each page module adds its own keys with
// addMessages, prefixed by the module (`operator.submit.title`), so no two modules share a dictionary file.
const STORAGE_KEY = "bt.desk.lang";
export const LANGS = ["ru", "kk"];
const messages = { ru: {}, kk: {} };
const listeners = [];

let current = (() => {
  const stored = localStorage.getItem(STORAGE_KEY);
  return LANGS.includes(stored) ? stored : "ru";
})();

export function addMessages(dict) {
  for (const l of LANGS) Object.assign(messages[l], dict[l] || {});
}

export function lang() {
  return current;
}

// Changes the language, remembers it across visits and re-renders (app.js listens).
export function setLang(l) {
  if (!LANGS.includes(l) || l === current) return;
  current = l;
  localStorage.setItem(STORAGE_KEY, l);
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

// Whether `key` has a message (in the current language or Russian): for texts chosen by a code the API sends,
// which fall back to the API's own words when the desk does not know the code.
export function has(key) {
  return key in messages[current] || key in messages.ru;
}

// The message of `key` in the current language with {name} placeholders filled; a missing Kazakh text falls
// back to Russian, a missing key shows itself (so a gap is visible, not silent).
export function t(key, vars = {}) {
  const text = messages[current][key] ?? messages.ru[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

document.documentElement.lang = current;
