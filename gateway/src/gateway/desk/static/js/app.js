// The desk's shell: hash routes, the header (user, language switch, sign-out), navigation per role, sign-in.
import { ApiError, api, setToken, setUnauthorizedHandler, signIn, signOutOnServer, token } from "./api.js";
import { LANGS, addMessages, lang, onLangChange, setLang, t } from "./i18n.js";
import { field, h, notice, showFieldErrors } from "./ui.js";

addMessages({
  ru: {
    "app.name": "Бір терезе — рабочее место",
    "app.skip": "Перейти к содержанию",
    "app.nav": "Разделы",
    "app.lang": "Язык",
    "app.signOut": "Выйти",
    "app.signedInAs": "Вы вошли как",
    "app.signIn.title": "Вход",
    "app.signIn.username": "Имя пользователя",
    "app.signIn.password": "Пароль",
    "app.signIn.submit": "Войти",
    "app.signIn.failed": "Неверное имя пользователя или пароль",
    "app.signIn.expired": "Сеанс завершён, войдите снова",
    "app.home.title": "Главная",
    "app.home.welcome": "Здравствуйте, {name}",
    "app.home.pick": "Выберите раздел:",
    "app.notAllowed.title": "Нет доступа",
    "app.notAllowed.text": "Этот раздел недоступен для вашей роли.",
    "app.notFound.title": "Страница не найдена",
    "app.notFound.text": "Такой страницы нет.",
    "app.failed": "Не удалось загрузить страницу: {detail}",
    "api.offline": "Сервер недоступен, повторите попытку",
    "ui.error": "Ошибка",
    "ui.empty": "Нет данных",
    "ui.confirm": "Подтвердить",
    "ui.cancel": "Отмена",
    "ui.notice.info": "Сведения",
    "ui.notice.success": "Готово",
    "ui.notice.warning": "Внимание",
    "ui.notice.error": "Ошибка",
    "ui.loading": "Загрузка…",
    "role.centre_operator": "оператор ЦОН",
    "role.registry_chancellery": "канцелярия ЗАГС",
    "role.registry_head": "руководитель ЗАГС",
    "role.registry_executive": "исполнитель ЗАГС",
    "role.registry_worker": "работник ЗАГС",
    "role.supervisor": "супервизор",
    "role.portal": "портал",
  },
  kk: {
    "app.name": "Бір терезе — жұмыс орны",
    "app.skip": "Мазмұнға өту",
    "app.nav": "Бөлімдер",
    "app.lang": "Тіл",
    "app.signOut": "Шығу",
    "app.signedInAs": "Сіз кірдіңіз:",
    "app.signIn.title": "Кіру",
    "app.signIn.username": "Пайдаланушы аты",
    "app.signIn.password": "Құпиясөз",
    "app.signIn.submit": "Кіру",
    "app.signIn.failed": "Пайдаланушы аты немесе құпиясөз қате",
    "app.signIn.expired": "Сеанс аяқталды, қайта кіріңіз",
    "app.home.title": "Басты бет",
    "app.home.welcome": "Сәлеметсіз бе, {name}",
    "app.home.pick": "Бөлімді таңдаңыз:",
    "app.notAllowed.title": "Рұқсат жоқ",
    "app.notAllowed.text": "Бұл бөлім сіздің рөліңізге қолжетімсіз.",
    "app.notFound.title": "Бет табылмады",
    "app.notFound.text": "Мұндай бет жоқ.",
    "app.failed": "Бетті жүктеу мүмкін болмады: {detail}",
    "api.offline": "Сервер қолжетімсіз, қайталап көріңіз",
    "ui.error": "Қате",
    "ui.empty": "Деректер жоқ",
    "ui.confirm": "Растау",
    "ui.cancel": "Болдырмау",
    "ui.notice.info": "Мәлімет",
    "ui.notice.success": "Дайын",
    "ui.notice.warning": "Назар аударыңыз",
    "ui.notice.error": "Қате",
    "ui.loading": "Жүктелуде…",
    "role.centre_operator": "ХҚКО операторы",
    "role.registry_chancellery": "АХАТ кеңсесі",
    "role.registry_head": "АХАТ басшысы",
    "role.registry_executive": "АХАТ орындаушысы",
    "role.registry_worker": "АХАТ қызметкері",
    "role.supervisor": "супервайзер",
    "role.portal": "портал",
  },
});

const routes = [];
let user = null;
let signInMessage = null;

// Registers a hash route: `route("/cases/:id", {title, roles, render, nav})` answers `#/cases/123`.
export function route(pattern, { title, roles, render, nav } = {}) {
  const names = [];
  const source = pattern
    .split("/")
    .map((part) => {
      if (part.startsWith(":")) {
        names.push(part.slice(1));
        return "([^/]+)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  routes.push({ pattern, regex: new RegExp(`^${source}$`), names, title, roles, render, nav });
}

export function go(path) {
  const target = `#${path}`;
  if (location.hash === target) render();
  else location.hash = target;
}

function match(path) {
  for (const r of routes) {
    const m = r.regex.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { r, params };
    }
  }
  return null;
}

function currentPath() {
  const raw = location.hash.replace(/^#/, "");
  return raw.split("?")[0] || "/";
}

function allowed(r) {
  return !r.roles || (user && r.roles.includes(user.role));
}

function langSwitch() {
  return h(
    "div",
    { class: "lang-switch", role: "group", "aria-label": t("app.lang") },
    LANGS.map((l) =>
      h(
        "button",
        {
          type: "button",
          lang: l,
          "aria-pressed": String(l === lang()),
          "data-testid": `lang-${l}`,
          "on:click": () => setLang(l),
        },
        l === "ru" ? "Русский" : "Қазақша"
      )
    )
  );
}

function header() {
  return h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main" , "on:click": (e) => { e.preventDefault(); document.getElementById("main").focus(); } }, t("app.skip")),
    h("span", { class: "brand" }, t("app.name")),
    langSwitch(),
    user
      ? h(
          "div",
          { class: "user" },
          h(
            "span",
            { "data-testid": "signed-in-user" },
            h("span", { class: "visually-hidden" }, t("app.signedInAs"), " "),
            `${user.full_name} (${user.username}, ${t(`role.${user.role}`)}${user.site ? `, ${user.site}` : ""})`
          ),
          h("button", { type: "button", class: "secondary", "data-testid": "sign-out", "on:click": signOut }, t("app.signOut"))
        )
      : null
  );
}

function navigation() {
  const entries = routes.filter((r) => r.nav && allowed(r));
  if (!entries.length) return null;
  const path = currentPath();
  return h(
    "nav",
    { "aria-label": t("app.nav") },
    h(
      "ul",
      {},
      entries.map((r) =>
        h(
          "li",
          {},
          h(
            "a",
            { href: `#${r.pattern}`, "aria-current": r.pattern === path ? "page" : null, "data-testid": `nav-${r.pattern}` },
            t(r.nav)
          )
        )
      )
    )
  );
}

function signInPage(main) {
  document.title = `${t("app.signIn.title")} — ${t("app.name")}`;
  const form = h(
    "form",
    { class: "sign-in", "data-testid": "sign-in-form", novalidate: true },
    h("h1", {}, t("app.signIn.title")),
    signInMessage ? notice("warning", signInMessage) : null,
    field({ name: "username", label: t("app.signIn.username"), required: true, attrs: { autocomplete: "username", maxlength: 64 } }),
    field({ name: "password", label: t("app.signIn.password"), type: "password", required: true, attrs: { autocomplete: "current-password", maxlength: 256 } }),
    h("button", { type: "submit", "data-testid": "sign-in-submit" }, t("app.signIn.submit"))
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      showFieldErrors(form, new ApiError({ status: 0, detail: t("app.signIn.failed"), fields: {} }));
      return;
    }
    try {
      await signIn(username, password);
      signInMessage = null;
      await loadUser();
      render();
    } catch (error) {
      const detail = error.status === 401 ? t("app.signIn.failed") : error.detail || error.title;
      showFieldErrors(form, new ApiError({ status: error.status, detail, fields: {} }));
    }
  });
  main.append(form);
}

async function loadUser() {
  user = token() ? await api("GET", "/api/v1/auth/me") : null;
}

async function signOut() {
  // The gateway ends the session (POST /api/v1/auth/logout, ADR 0032), then the tab forgets it.
  await signOutOnServer();
  user = null;
  sessionStorage.clear();
  location.hash = "#/";
  render();
}

function homePage(main) {
  main.append(
    h("h1", {}, t("app.home.welcome", { name: user.full_name })),
    h("p", {}, t("app.home.pick")),
    h(
      "ul",
      { class: "home-links" },
      routes.filter((r) => r.nav && allowed(r)).map((r) => h("li", {}, h("a", { href: `#${r.pattern}` }, t(r.nav))))
    )
  );
}

let renderSerial = 0;

async function render() {
  const serial = ++renderSerial;
  const root = document.getElementById("app");
  const main = h("main", { id: "main", tabindex: "-1" });
  const content = h("div", { class: "page" });
  root.replaceChildren(...[header(), user ? navigation() : null, main].filter(Boolean));
  main.append(content);
  if (!user) {
    signInPage(content);
    focusFirst(content);
    return;
  }
  const path = currentPath();
  const found = match(path);
  if (!found) {
    if (path === "/") {
      homePage(content);
      document.title = `${t("app.home.title")} — ${t("app.name")}`;
      focusFirst(content);
      return;
    }
    content.append(h("h1", {}, t("app.notFound.title")), h("p", {}, t("app.notFound.text")));
    return;
  }
  const { r, params } = found;
  document.title = `${t(r.title)} — ${t("app.name")}`;
  if (!allowed(r)) {
    content.append(h("h1", {}, t("app.notAllowed.title")), h("p", {}, t("app.notAllowed.text")));
    return;
  }
  content.append(h("p", { class: "loading", role: "status" }, t("ui.loading")));
  const container = h("div", { class: "page-body", "data-route": r.pattern });
  try {
    await r.render(container, params, { user, api, t, go });
  } catch (error) {
    if (serial !== renderSerial) return;
    container.replaceChildren(notice("error", t("app.failed", { detail: error.summary || error.detail || error.message })));
  }
  // A newer navigation started while this page loaded: its render owns the screen.
  if (serial !== renderSerial) return;
  content.replaceChildren(container);
  focusFirst(container);
}

// Each page starts with the cursor in its first field (a counter operator types at once), else on its heading.
function focusFirst(container) {
  const first = container.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
  if (first) first.focus();
  else {
    const heading = container.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }
}

export async function start() {
  setUnauthorizedHandler(() => {
    if (user) signInMessage = t("app.signIn.expired");
    user = null;
    render();
  });
  onLangChange(() => render());
  window.addEventListener("hashchange", () => render());
  try {
    await loadUser();
  } catch {
    setToken(null);
    user = null;
  }
  await render();
}
